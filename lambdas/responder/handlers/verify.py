"""Verify: re-read the resource and confirm it is isolated, then mark the incident CONTAINED."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.domain.resource_steps import verify
from responder.handlers._containment import ContainmentEnv
from responder.handlers._runtime import (
    count,
    incident_keys,
    load_env,
    logger,
    metrics,
    tracer,
)

ENV = load_env(ContainmentEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
SETTINGS = ENV.settings()
GATEWAYS = ENV.gateways("verify")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    incident_id = str(event["incident_id"])
    incident_keys(incident_id)
    incident = verify(STORE, GATEWAYS, incident_id, SETTINGS)
    assert incident.contained_at is not None
    seconds = (incident.contained_at - incident.created_at).total_seconds()
    count("TimeToContain", seconds, MetricUnit.Seconds)
    count("IncidentsContained")
    logger.info("verified contained", extra={"time_to_contain_s": round(seconds, 3)})
    return {"incident_id": incident_id, "status": incident.status.value}
