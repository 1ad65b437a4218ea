"""Triage: parse the EventBridge event into a typed finding, route, skip or deduplicate."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field, field_validator

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.adapters.messaging import WorkflowStarter
from responder.adapters.tags import ResourceTags
from responder.domain.findings import findings_of
from responder.domain.triage import Protection, triage
from responder.handlers._runtime import MemberAccessEnv, count, incident_keys, load_env, logger, metrics, tracer
from responder.handlers._writeback import WRITE_BACK
from responder.models.events import MalformedFinding, parse_event
from responder.models.finding import Finding


class TriageEnv(MemberAccessEnv):
    incidents_table: str = Field(min_length=3)
    protected_arns: list[str] = Field(default_factory=list)
    own_arns: list[str] = Field(default_factory=list)
    containment_state_machine_arn: str = Field(pattern=r"^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:.+$")

    @field_validator("protected_arns", "own_arns", mode="before")
    @classmethod
    def _json_list(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


# The execution a finding's n-th further resource (an S3 finding naming several buckets) is contained by
# gets the finding's event with this key set to n (1-based).
TARGET_KEY = "responder-target"


def further_target(finding: Finding, index: object) -> tuple[Finding, str]:
    """The finding, aimed at its `index`-th further resource, and that resource's claim suffix."""
    if not isinstance(index, int) or isinstance(index, bool) or not 1 <= index <= len(finding.extra_targets):
        raise MalformedFinding(
            f"{TARGET_KEY} must name one of the finding's {len(finding.extra_targets)} further resources (1-based)"
        )
    target = finding.extra_targets[index - 1]
    return finding.model_copy(update={"target": target, "extra_targets": []}), target.key


def start_further_targets(raw: dict[str, Any], finding: Finding) -> int:
    """One containment execution per further resource, under names fixed by the event, the finding and the
    resource's place, so a retried or redelivered event starts nothing twice."""
    started = 0
    for index in range(1, len(finding.extra_targets) + 1):
        digest = hashlib.sha256(f"{raw.get('id')}|{finding.id}|{index}".encode()).hexdigest()[:60]
        started += STARTER.start(f"more-{digest}", json.dumps({**raw, TARGET_KEY: index}))
    return started


ENV = load_env(TriageEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
STARTER = WorkflowStarter(client("stepfunctions"), ENV.containment_state_machine_arn)
READER = ResourceTags(ENV.account_clients("containment-responder-triage").client)
PROTECTION = Protection(ENV.protected_arns, ENV.own_arns, ENV.member_role_name)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = parse_event(event.get("event"))
    findings = findings_of(parsed)
    if len(findings) != 1:
        raise MalformedFinding(
            f"the event carries {len(findings)} findings; Security Hub events reach the workflow through the "
            "intake function, one finding per execution"
        )
    finding = findings[0]
    # One EventBridge event is one delivery of a GuardDuty finding; a Security Hub event may carry several.
    delivery = parsed.event.id if parsed.kind == "guardduty" else f"{parsed.event.id}:{finding.id}"[:300]
    index = event["event"].get(TARGET_KEY) if isinstance(event.get("event"), dict) else None
    suffix = None
    if index is not None:
        finding, suffix = further_target(finding, index)
    incident_keys(None, finding.id)
    result = triage(finding, STORE, READER, PROTECTION, event.get("execution_arn"), delivery, suffix)
    if index is None and finding.extra_targets and finding.skip is None:
        started = start_further_targets(event["event"], finding)
        logger.info("further resources", extra={"resources": len(finding.extra_targets), "started": started})
    incident_keys(result.incident_id, finding.id)
    if result.outcome == "skipped" and finding.securityhub is not None:
        WRITE_BACK(STORE.get(result.incident_id))  # the finding's note says why (Notify writes a protected one's)
    count("FindingsTriaged")
    outcomes = {"new": "IncidentsOpened", "absorbed": "FindingsAbsorbed", "skipped": "FindingsSkipped"}
    count(outcomes.get(result.outcome, "FindingsSkipped"))  # protected and unhandled skips too
    logger.info(
        "triaged",
        extra={
            "outcome": result.outcome,
            "reason": result.reason,
            "finding_type": finding.type,
            "source": finding.source,
        },
    )
    return {"incident_id": result.incident_id, "outcome": result.outcome, "reason": result.reason}
