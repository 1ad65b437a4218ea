"""Approval API (API Gateway REST proxy): GET shows the confirm page, POST decides."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.adapters.messaging import SigningKey, WorkflowCallbacks
from responder.domain import approval_api
from responder.domain.approval import Page, message_page
from responder.handlers._runtime import EnvModel, count, load_env, logger, metrics, tracer


class ApprovalApiEnv(EnvModel):
    incidents_table: str = Field(min_length=3)
    signing_secret_id: str = Field(min_length=1)


ENV = load_env(ApprovalApiEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
KEY = SigningKey(ENV.signing_secret_id, client("secretsmanager"))
CALLBACKS = WorkflowCallbacks(client("stepfunctions"))

HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
}

app = APIGatewayRestResolver()


def _respond(page: Page) -> Response:
    return Response(status_code=page.status, headers=HEADERS, body=page.html)


@app.get("/approvals/<approval_id>")
def show(approval_id: str) -> Response:
    params = {k: v for k, v in (app.current_event.query_string_parameters or {}).items() if isinstance(v, str)}
    page = approval_api.show(STORE, KEY, approval_id, params)
    logger.info("approval page", extra={"status": page.status})
    return _respond(page)


@app.post("/approvals/<approval_id>")
def decide(approval_id: str) -> Response:
    event = app.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    ctype = (event.headers or {}).get("content-type") or (event.headers or {}).get("Content-Type") or ""
    if "application/x-www-form-urlencoded" not in ctype:
        return _respond(Page(415, message_page("Unsupported form", "Submit the form from the approval page.")))
    identity = event.request_context.identity
    page = approval_api.decide(STORE, CALLBACKS, KEY, approval_id, body, identity.source_ip, identity.user_agent)
    count("ApprovalDecisions" if page.status == 200 else "ApprovalRejectedRequests")
    logger.info("approval decision", extra={"status": page.status})
    return _respond(page)


@logger.inject_lambda_context(clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
