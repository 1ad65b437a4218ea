"""Record the plan and pre-state, once, before anything is changed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.domain.workflow import record
from responder.handlers._runtime import EnvModel, incident_keys, load_env, logger, metrics, tracer
from responder.models.incident import Plan


class RecordEnv(EnvModel):
    incidents_table: str = Field(min_length=3)


ENV = load_env(RecordEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    incident_id = str(event["incident_id"])
    incident_keys(incident_id)
    status = record(STORE, incident_id, Plan.model_validate(event["plan"]))
    logger.info("pre-state recorded", extra={"status": status.value})
    return {"incident_id": incident_id, "status": status.value}
