"""Evaluate the stored containment preferences for an incident."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.adapters.preferences import PreferenceStore
from responder.domain.workflow import evaluate
from responder.handlers._runtime import EnvModel, incident_keys, load_env, logger, metrics, tracer


class EvaluateEnv(EnvModel):
    incidents_table: str = Field(min_length=3)
    preferences_table: str = Field(min_length=3)


ENV = load_env(EvaluateEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
PREFS = PreferenceStore(ENV.preferences_table, client("dynamodb"))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    incident_id = str(event["incident_id"])
    incident_keys(incident_id)
    decision = evaluate(STORE, PREFS, incident_id)
    logger.info("decided", extra={"mode": decision.mode.value, "rule_id": decision.rule_id})
    return {
        "incident_id": incident_id,
        "mode": decision.mode.value,
        "on_timeout": decision.on_timeout.value,
        "dry_run": decision.dry_run,
        "rule_id": decision.rule_id,
    }
