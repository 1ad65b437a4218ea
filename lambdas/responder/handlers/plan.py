"""Plan: describe the resource, compute the actions and their impact."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.domain.resource_steps import plan
from responder.handlers._containment import ContainmentEnv
from responder.handlers._runtime import incident_keys, load_env, logger, metrics, tracer

ENV = load_env(ContainmentEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
SETTINGS = ENV.settings()
GATEWAYS = ENV.gateways("plan")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    incident_id = str(event["incident_id"])
    incident_keys(incident_id)
    the_plan = plan(STORE, GATEWAYS, incident_id, SETTINGS)
    logger.info("planned", extra={"actions": len(the_plan.actions)})
    return {"incident_id": incident_id, "plan": the_plan.model_dump(mode="json")}
