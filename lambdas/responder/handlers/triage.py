"""Triage: parse the EventBridge event into a typed finding, route, skip or deduplicate."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field, field_validator

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.adapters.tags import ResourceTags
from responder.domain.findings import findings_of
from responder.domain.triage import triage
from responder.handlers._runtime import MemberAccessEnv, count, incident_keys, load_env, logger, metrics, tracer
from responder.handlers._writeback import WRITE_BACK
from responder.models.events import MalformedFinding, parse_event


class TriageEnv(MemberAccessEnv):
    incidents_table: str = Field(min_length=3)
    protected_arns: list[str] = Field(default_factory=list)
    own_arns: list[str] = Field(default_factory=list)

    @field_validator("protected_arns", "own_arns", mode="before")
    @classmethod
    def _json_list(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


ENV = load_env(TriageEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
TAGS = ResourceTags(ENV.account_clients("containment-responder-triage").client)


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
    incident_keys(None, finding.id)
    result = triage(finding, STORE, TAGS, ENV.protected_arns, ENV.own_arns, event.get("execution_arn"), delivery)
    incident_keys(result.incident_id, finding.id)
    if result.outcome == "skipped" and finding.securityhub is not None:
        WRITE_BACK(STORE.get(result.incident_id))  # the finding's note says why nothing was done
    count("FindingsTriaged")
    count({"new": "IncidentsOpened", "absorbed": "FindingsAbsorbed", "skipped": "FindingsSkipped"}[result.outcome])
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
