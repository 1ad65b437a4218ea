"""Triage: parse the EventBridge event into a typed finding, route, skip or deduplicate."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field, ValidationError, field_validator

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.adapters.tags import ResourceTags
from responder.domain.triage import triage
from responder.handlers._runtime import EnvModel, count, incident_keys, load_env, logger, metrics, tracer
from responder.models.guardduty import GuardDutyEvent

MAX_EVENT_BYTES = 256 * 1024


class MalformedFinding(ValueError):
    """The event is not a GuardDuty finding the responder can read. Nothing was changed."""


class TriageEnv(EnvModel):
    incidents_table: str = Field(min_length=3)
    protected_arns: list[str] = Field(default_factory=list)
    own_arns: list[str] = Field(default_factory=list)

    @field_validator("protected_arns", "own_arns", mode="before")
    @classmethod
    def _json_list(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


ENV = load_env(TriageEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
TAGS = ResourceTags(lambda service, region: client(service, region))


def parse(raw: Any) -> GuardDutyEvent:
    if not isinstance(raw, dict):
        raise MalformedFinding("the event is not a JSON object")
    size = len(json.dumps(raw, default=str))
    if size > MAX_EVENT_BYTES:
        raise MalformedFinding(f"the event is {size} bytes; EventBridge events are at most {MAX_EVENT_BYTES}")
    try:
        return GuardDutyEvent.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}" for e in exc.errors()[:10]]
        raise MalformedFinding("malformed GuardDuty finding event: " + "; ".join(problems)) from None


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = parse(event.get("event"))
    finding = parsed.detail
    incident_keys(None, finding.id)
    result = triage(finding, STORE, TAGS, ENV.protected_arns, ENV.own_arns, event.get("execution_arn"), parsed.id)
    incident_keys(result.incident_id, finding.id)
    count("FindingsTriaged")
    count({"new": "IncidentsOpened", "absorbed": "FindingsAbsorbed", "skipped": "FindingsSkipped"}[result.outcome])
    logger.info("triaged", extra={"outcome": result.outcome, "reason": result.reason, "finding_type": finding.type})
    return {"incident_id": result.incident_id, "outcome": result.outcome, "reason": result.reason}
