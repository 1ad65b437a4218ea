"""What every handler shares: Powertools logger, tracer and metrics, and environment validation."""

from __future__ import annotations

import os
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from responder.adapters.accounts import AccountClients
from responder.models.common import ACCOUNT_ID, ROLE_NAME

SERVICE = "containment-responder"
NAMESPACE = "ContainmentResponder"

logger = Logger(service=SERVICE)
# Only botocore is patched: it is the only I/O the functions do. Patching every library the X-Ray SDK
# knows imports sqlite3, requests and database drivers at cold start for nothing.
tracer = Tracer(service=SERVICE, patch_modules=("botocore",))
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

E = TypeVar("E", bound=BaseModel)


class EnvModel(BaseModel):
    """Base of each handler's environment model. Field names are the variable names, lower-cased."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class ConfigurationError(RuntimeError):
    pass


def load_env(model: type[E]) -> E:
    """Validate the environment at cold start; a missing or bad variable fails the init, naming it."""
    values = {k.lower(): v for k, v in os.environ.items()}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"invalid environment for {model.__name__}: {problems}") from None


class MemberAccessEnv(EnvModel):
    """Where the resource's account is not the responder's: the member role to assume, and how."""

    responder_account_id: str | None = Field(default=None, pattern=ACCOUNT_ID)
    member_role_name: str = Field(default="ContainmentResponderMember", pattern=ROLE_NAME)
    member_external_id: str | None = Field(default=None, min_length=2, max_length=1224)

    def account_clients(self, session_name: str) -> AccountClients:
        return AccountClients(self.responder_account_id, self.member_role_name, self.member_external_id, session_name)


def count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    metrics.add_metric(name=name, unit=unit, value=value)


def count_status(status: str) -> None:
    """One run of a workflow ended with the incident in `status`: `IncidentsByStatus`, dimension `status`
    (the dashboard's incidents by status). Its own metric blob, so the dimension touches no other metric."""
    with single_metric(
        name="IncidentsByStatus",
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as metric:
        metric.add_dimension(name="status", value=status)


def incident_keys(incident_id: str | None, finding_id: str | None = None) -> None:
    keys: dict[str, Any] = {}
    if incident_id:
        keys["incident_id"] = incident_id
    if finding_id:
        keys["finding_id"] = finding_id
    logger.append_keys(**keys)
