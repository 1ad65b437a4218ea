"""Contain: apply every action. A failure raises, so the workflow marks the incident FAILED."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.domain.recorder import EVIDENCE_EVENTS
from responder.domain.resource_steps import contain
from responder.handlers._containment import ContainmentEnv
from responder.handlers._runtime import (
    count,
    incident_keys,
    load_env,
    logger,
    metrics,
    tracer,
)
from responder.models.incident import ActionStatus

ENV = load_env(ContainmentEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
SETTINGS = ENV.settings()
GATEWAYS = ENV.gateways("contain")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    incident_id = str(event["incident_id"])
    trigger: Literal["auto", "approved", "timeout"] = event.get("trigger", "auto")
    incident_keys(incident_id)
    started = datetime.now(UTC)
    incident = contain(STORE, GATEWAYS, incident_id, trigger, SETTINGS)
    evidence = [e for e in incident.timeline if e.event in EVIDENCE_EVENTS and e.at >= started]
    if evidence:
        count("EvidenceOfTampering", len(evidence))
        logger.warning("evidence of tampering", extra={"events": [e.event for e in evidence]})
    applied = sum(1 for a in incident.actions if a.status is ActionStatus.APPLIED)
    count("ActionsApplied", applied)
    if trigger == "timeout":
        count("ApprovalsExpired")  # contained by an on_timeout rule: nobody decided
    logger.info("contained", extra={"actions_applied": applied, "trigger": trigger})
    return {"incident_id": incident_id, "actions_applied": applied}
