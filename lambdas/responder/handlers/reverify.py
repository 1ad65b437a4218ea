"""Reverify: on a schedule, verify every CONTAINED resource again and raise any that was reopened."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.adapters.messaging import Notifier
from responder.domain import messages
from responder.domain.drift import ReverifyFailed, reverify_all
from responder.handlers._containment import ContainmentEnv
from responder.handlers._runtime import count, load_env, logger, metrics, tracer
from responder.models.incident import Incident


class ReverifyEnv(ContainmentEnv):
    topic_arn: str = Field(min_length=20)
    reverify_limit: int = Field(default=1000, ge=1, le=10_000)


ENV = load_env(ReverifyEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
NOTIFIER = Notifier(ENV.topic_arn, client("sns"))
SETTINGS = ENV.settings()
GATEWAYS = ENV.gateways("reverify")


def _send(message: messages.Message, incident: Incident) -> None:
    NOTIFIER.send(message.subject, message.body, {"incident_id": incident.incident_id, "kind": "drift"})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = reverify_all(STORE, GATEWAYS, SETTINGS, _send, ENV.reverify_limit)
    count("ContainmentsReverified", report.checked)
    count("ContainmentDrift", len(report.reopened))
    count("ContainmentsRecontained", len(report.recontained))
    count("ReverifyErrors", len(report.errors))
    summary = {
        "checked": report.checked,
        "reopened": report.reopened,
        "recontained": report.recontained,
        "cleared": report.cleared,
        "errors": report.errors,
    }
    logger.info("reverified", extra=summary)
    if report.errors:
        raise ReverifyFailed(f"{len(report.errors)} contained incident(s) could not be re-verified: {report.errors}")
    return summary
