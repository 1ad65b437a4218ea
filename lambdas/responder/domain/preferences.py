"""Preference evaluation: which stored rule decides what happens to an incident."""

from __future__ import annotations

from pydantic import ValidationError

from responder.models.preferences import DEFAULT_RULE_ID, Decision, MatchFacts, Mode, OnTimeout, Rule


def decide(rules: list[Rule], facts: MatchFacts) -> Decision:
    """Pick the matching rule with the lowest priority number (ties broken by id)."""
    for rule in sorted(rules, key=lambda r: (r.priority, r.id)):
        ok, why = rule.matches(facts)
        if ok:
            return Decision(
                mode=rule.mode,
                on_timeout=rule.on_timeout,
                rule_id=rule.id,
                dry_run=rule.dry_run,
                reason=f"rule {rule.id} (priority {rule.priority}): {why}",
                actions=rule.actions,
            )
    if facts.finding_class != "threat" and facts.source != "custom_action":
        return Decision(
            mode=Mode.NOTIFY,
            on_timeout=OnTimeout.EXPIRE,
            rule_id=DEFAULT_RULE_ID,
            reason=f"a {facts.finding_class} finding is notify-only unless a rule names it in finding_classes",
        )
    reason = "no stored rule matched; the built-in default is approve"
    if facts.source == "custom_action":
        reason = "custom action: approve, as no stored rule for custom actions matched"
    return Decision(mode=Mode.APPROVE, on_timeout=OnTimeout.EXPIRE, rule_id=DEFAULT_RULE_ID, reason=reason)


class InvalidPreferences(ValueError):
    """Rules that fail validation; the message names each rule, field and reason."""


def rules_from_documents(documents: object) -> list[Rule]:
    """Validate a list of rule documents (parsed YAML or JSON). All problems are reported at once."""
    if isinstance(documents, dict) and "rules" in documents:
        documents = documents["rules"]
    if not isinstance(documents, list):
        raise InvalidPreferences("preferences must be a list of rules (or {rules: [...]})")
    rules: list[Rule] = []
    problems: list[str] = []
    for index, doc in enumerate(documents, 1):
        label = f"rule {index}" + (f" ({doc.get('id')})" if isinstance(doc, dict) and doc.get("id") else "")
        try:
            rules.append(Rule.model_validate(doc))
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(p) for p in error["loc"]) or "rule"
                problems.append(f"{label}: {field}: {error['msg']}")
    ids = [r.id for r in rules]
    problems += [f"rule id {i!r} appears more than once" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise InvalidPreferences("invalid preferences:\n  " + "\n  ".join(problems))
    return rules


def explain(rules: list[Rule], facts: MatchFacts) -> tuple[Decision, list[tuple[Rule, bool, str]]]:
    """The decision, and for every rule in evaluation order whether it matched and why."""
    trace = [(rule, *rule.matches(facts)) for rule in sorted(rules, key=lambda r: (r.priority, r.id))]
    return decide(rules, facts), trace
