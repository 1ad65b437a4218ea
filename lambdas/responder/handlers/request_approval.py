"""Request approval: store the task token server-side, email signed links. The token is never logged."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.adapters.messaging import Notifier, SigningKey
from responder.domain.workflow import ApprovalConfig, request_approval
from responder.handlers._runtime import EnvModel, count, incident_keys, load_env, logger, metrics, tracer
from responder.handlers._writeback import WRITE_BACK


class RequestApprovalEnv(EnvModel):
    incidents_table: str = Field(min_length=3)
    topic_arn: str = Field(min_length=20)
    signing_secret_id: str = Field(min_length=1)
    approval_api_url: str = Field(pattern=r"^https?://")
    approval_timeout_seconds: int = Field(ge=1, le=7 * 86400)


ENV = load_env(RequestApprovalEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
NOTIFIER = Notifier(ENV.topic_arn, client("sns"))
KEY = SigningKey(ENV.signing_secret_id, client("secretsmanager"))
CONFIG = ApprovalConfig(api_base_url=ENV.approval_api_url, timeout_seconds=ENV.approval_timeout_seconds)


@logger.inject_lambda_context(clear_state=True, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    incident_id = str(event["incident_id"])
    incident_keys(incident_id)
    approval_id = request_approval(STORE, NOTIFIER, KEY, CONFIG, incident_id, str(event["task_token"]))
    count("ApprovalsRequested")
    WRITE_BACK(STORE.get(incident_id))
    logger.info("approval requested", extra={"approval_id": approval_id})
    return {"incident_id": incident_id, "approval_id": approval_id}
