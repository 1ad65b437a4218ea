"""`responder prefs`: the stored containment preferences as something a team configures and trusts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from responder.domain.findings import findings_of
from responder.domain.preferences import InvalidPreferences, explain, rules_from_documents
from responder.models.common import ResourceType
from responder.models.events import parse_event
from responder.models.guardduty import GuardDutyEvent
from responder.models.preferences import MatchFacts, Rule, RuleMatch


def load_file(path: str) -> Any:
    """YAML or JSON (JSON is YAML, but a .json file gets JSON's clearer errors). A syntax error names the
    file, line and column: `rules.yaml, line 3, column 9: not valid YAML: mapping values are not allowed here`."""
    text = Path(path).read_text()
    try:
        return json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InvalidPreferences(f"{path}, line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise InvalidPreferences(f"{path}{where}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise InvalidPreferences(f"{path}: not valid YAML: {exc}") from None


def load_rules(path: str) -> list[Rule]:
    """The rules of a file; an empty file is an empty set (which `import` refuses unless asked)."""
    doc = load_file(path)
    return rules_from_documents([] if doc is None else doc)


def shadowing(rules: list[Rule]) -> list[str]:
    """A warning for each rule with no match conditions that is evaluated before others: it matches every
    finding, so no rule after it ever applies."""
    ordered = sorted(rules, key=lambda r: (r.priority, r.id))
    warnings = []
    for index, rule in enumerate(ordered):
        later = ordered[index + 1 :]
        if later and rule.match == RuleMatch():
            names = ", ".join(r.id for r in later[:5]) + (", ..." if len(later) > 5 else "")
            warnings.append(
                f"rule {rule.id} (priority {rule.priority}) has no match conditions, so it matches every finding "
                f"and the {len(later)} rule(s) after it never apply: {names}"
            )
            break
    return warnings


def load_rule(path: str) -> Rule:
    doc = load_file(path)
    if isinstance(doc, list):
        if len(doc) != 1:
            raise InvalidPreferences(f"{path} holds {len(doc)} rules; `put` takes one (use `import` for a set)")
        doc = doc[0]
    return rules_from_documents([doc])[0]


def dump_rules(rules: list[Rule], fmt: str) -> str:
    docs = [
        r.model_dump(mode="json", exclude_defaults=True) | {"id": r.id, "priority": r.priority, "mode": r.mode.value}
        for r in sorted(rules, key=lambda r: (r.priority, r.id))
    ]
    if fmt == "json":
        return json.dumps(docs, indent=2)
    return yaml.safe_dump(docs, sort_keys=False)


def facts_for_event(path: str, tags: dict[str, str] | None = None) -> MatchFacts:
    """The facts a rule is matched against, from a saved event: GuardDuty, Security Hub or v2 (the first
    finding of a Security Hub event)."""
    parsed = parse_event(load_file(path))
    finding = findings_of(parsed)[0]
    found_tags = tags
    if (
        found_tags is None
        and isinstance(parsed.event, GuardDutyEvent)
        and parsed.event.detail.resource.instance_details
    ):
        found_tags = {t.key: t.value for t in parsed.event.detail.resource.instance_details.tags}
    return MatchFacts(
        resource_type=finding.target.type if finding.target else ResourceType.OTHER,
        finding_type=finding.type,
        severity=finding.severity,
        account=finding.account,
        tags=found_tags or {},
        source=finding.source,
        finding_class=finding.finding_class,
    )


def explain_text(rules: list[Rule], facts: MatchFacts) -> tuple[dict[str, Any], str]:
    decision, trace = explain(rules, facts)
    lines = [
        f"Finding: {facts.finding_type} severity {facts.severity} on {facts.resource_type.value} in {facts.account}",
        "",
    ]
    for rule, matched, why in trace:
        lines.append(f"  {'MATCH' if matched else 'no   '} {rule.priority:>6} {rule.id}: {why}")
    if not trace:
        lines.append("  (no stored rules)")
    lines += ["", f"Decision: {decision.mode.value} (on timeout: {decision.on_timeout.value}{', dry run' if decision.dry_run else ''})",
              f"Because:  {decision.reason}"]  # fmt: skip
    doc = {
        "facts": facts.model_dump(mode="json"),
        "decision": decision.model_dump(mode="json"),
        "trace": [{"rule": r.id, "priority": r.priority, "matched": m, "why": w} for r, m, w in trace],
    }
    return doc, "\n".join(lines)
