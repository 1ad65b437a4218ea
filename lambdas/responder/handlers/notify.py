"""Notify: email the incident's outcome."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.adapters.messaging import Notifier
from responder.domain import messages
from responder.domain.workflow import notify
from responder.handlers._runtime import (
    EnvModel,
    count,
    count_status,
    incident_keys,
    load_env,
    logger,
    metrics,
    tracer,
)
from responder.handlers._writeback import WRITE_BACK


class NotifyEnv(EnvModel):
    incidents_table: str = Field(min_length=3)
    topic_arn: str = Field(min_length=20)


ENV = load_env(NotifyEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
NOTIFIER = Notifier(ENV.topic_arn, client("sns"))


def _triage_failure(event: dict[str, Any]) -> dict[str, Any]:
    """A finding that failed triage for a reason other than being malformed: the team is told."""
    raw = event.get("triage_error")
    error: dict[str, Any] = raw if isinstance(raw, dict) else {}
    message = messages.triage_failure(
        str(error.get("Error", "unknown")), str(error.get("Cause", "")), str(event.get("execution_arn", ""))
    )
    NOTIFIER.send(message.subject, message.body, {"kind": "triage_failed"})
    count("TriageFailures")
    logger.warning("triage failed", extra={"error": error.get("Error")})
    return {"notified": True}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "triage_error" in event:
        return _triage_failure(event)
    incident_id = str(event["incident_id"])
    incident_keys(incident_id)
    incident = notify(STORE, NOTIFIER, incident_id)
    WRITE_BACK(incident)
    count_status(incident.status.value)
    logger.info("notified", extra={"status": incident.status.value})
    return {"incident_id": incident_id, "status": incident.status.value}
