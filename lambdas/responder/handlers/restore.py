"""Restore steps: begin (validate and mark RESTORING), apply (put back), verify (compare to pre-state)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.domain.resource_steps import restore_apply, restore_verify
from responder.domain.workflow import restore_begin
from responder.handlers._containment import ContainmentEnv
from responder.handlers._runtime import (
    count,
    incident_keys,
    load_env,
    logger,
    metrics,
    tracer,
)
from responder.handlers._writeback import WRITE_BACK
from responder.models.incident import RestoreOptions

ENV = load_env(ContainmentEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
SETTINGS = ENV.settings()
GATEWAYS = ENV.gateways("restore")


def _incident_id(event: dict[str, Any]) -> str:
    value = event.get("incident_id")
    if not isinstance(value, str) or not value.strip():
        raise ValueError('restore needs {"incident_id": "..."}')
    incident_keys(value)
    return value


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def begin(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    incident_id = _incident_id(event)
    given = event.get("options") or {}
    try:
        options = RestoreOptions.model_validate(
            {k: given[k] for k in ("reactivate_keys", "lift_session_revocation") if k in given}, strict=True
        )
    except ValueError as exc:
        raise ValueError(f"invalid restore options (true or false): {exc}") from None
    outcome = restore_begin(STORE, incident_id, options)
    logger.info("restore begins", extra={"outcome": outcome})
    return {"incident_id": incident_id, "outcome": outcome}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def apply(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    incident_id = _incident_id(event)
    incident = restore_apply(STORE, GATEWAYS, incident_id, SETTINGS)
    logger.info("restore applied", extra={"report": incident.restore_report})
    return {"incident_id": incident_id}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def verify(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    incident_id = _incident_id(event)
    incident = restore_verify(STORE, GATEWAYS, incident_id, SETTINGS)
    WRITE_BACK(incident)
    count("IncidentsRestored")
    logger.info("restored", extra={"status": incident.status.value})
    return {"incident_id": incident_id, "status": incident.status.value}
