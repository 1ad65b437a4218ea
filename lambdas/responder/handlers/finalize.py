"""Finalize an incident that failed or expired: record it, release the resource, email the outcome."""

from __future__ import annotations

import json
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.adapters.messaging import Notifier
from responder.domain.workflow import finalize, notify
from responder.handlers._runtime import EnvModel, count, count_status, incident_keys, load_env, logger, metrics, tracer
from responder.handlers._writeback import WRITE_BACK


class FinalizeEnv(EnvModel):
    incidents_table: str = Field(min_length=3)
    topic_arn: str = Field(min_length=20)


ENV = load_env(FinalizeEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
NOTIFIER = Notifier(ENV.topic_arn, client("sns"))


def error_text(error: Any) -> str:
    """`{"Error": ..., "Cause": ...}` from a Step Functions Catch, as one readable line."""
    if not isinstance(error, dict):
        return str(error)
    name = str(error.get("Error", "Error"))
    cause = error.get("Cause", "")
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict) and "errorMessage" in parsed:
            name = str(parsed.get("errorType", name))
            cause = parsed["errorMessage"]
    except (TypeError, ValueError):
        pass
    return f"{name}: {cause}"[:2000]


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    incident_id = str(event["incident_id"])
    outcome: Literal["FAILED", "EXPIRED"] = event["outcome"]
    incident_keys(incident_id)
    error = error_text(event.get("error")) if outcome == "FAILED" else None
    finalized = finalize(STORE, incident_id, outcome, error)
    if outcome == "FAILED" and finalized.status.value != "FAILED":
        # Only the notification after a settled outcome failed: the incident keeps its status, the failure
        # is recorded on it and counted, and the execution still ends failed (its alarm is how the team
        # learns that nobody was told). One more attempt to send the outcome.
        count("NotificationFailed")
        logger.error("notification failed", extra={"status": finalized.status.value, "error": error})
        WRITE_BACK(notify(STORE, NOTIFIER, incident_id))
        return {"incident_id": incident_id, "status": finalized.status.value, "notification_failed": True}
    WRITE_BACK(notify(STORE, NOTIFIER, incident_id))
    count("IncidentsFailed" if outcome == "FAILED" else "IncidentsExpired")
    count_status(outcome)
    if outcome == "EXPIRED":
        count("ApprovalsExpired")  # the approval timed out and the rule left the resource uncontained
    logger.info("finalized", extra={"outcome": outcome, "error": error})
    return {"incident_id": incident_id, "status": outcome}
