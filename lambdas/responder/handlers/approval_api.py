"""Approval API (API Gateway REST proxy): GET shows the confirm page, POST decides.

One resource, two methods: the request is parsed into `ApiRequest` and dispatched here rather than by
Powertools' event handler, whose package import (AppSync and asyncio included) cost this function,
the one a person waits on, about 90 ms of every cold start (benchmarks/coldstart.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from pydantic import Field, ValidationError

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.adapters.messaging import SigningKey, WorkflowCallbacks
from responder.domain import approval_api
from responder.domain.approval import Page, message_page
from responder.handlers._runtime import EnvModel, count, load_env, logger, metrics, tracer
from responder.models.http import ApiRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


class ApprovalApiEnv(EnvModel):
    incidents_table: str = Field(min_length=3)
    signing_secret_id: str = Field(min_length=1)


ENV = load_env(ApprovalApiEnv)
STORE = IncidentStore(ENV.incidents_table, client("dynamodb"))
KEY = SigningKey(ENV.signing_secret_id, client("secretsmanager"))
CALLBACKS = WorkflowCallbacks(client("stepfunctions"))

ROUTE = "/approvals/{approval_id}"
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
}


def _respond(page: Page, extra_headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": page.status,
        "headers": HEADERS | (extra_headers or {}),
        "body": page.html,
        "isBase64Encoded": False,
    }


def show(request: ApiRequest, approval_id: str) -> Page:
    page = approval_api.show(STORE, KEY, approval_id, dict(request.query_string_parameters or {}))
    logger.info("approval page", extra={"status": page.status})
    return page


def decide(request: ApiRequest, approval_id: str) -> Page:
    if "application/x-www-form-urlencoded" not in request.header("content-type"):
        return Page(415, message_page("Unsupported form", "Submit the form from the approval page."))
    try:
        body = request.text()
    except ValueError as exc:
        return Page(400, message_page("Bad request", str(exc)))
    identity = request.request_context.identity
    page = approval_api.decide(STORE, CALLBACKS, KEY, approval_id, body, identity.source_ip, identity.user_agent)
    count("ApprovalDecisions" if page.status == 200 else "ApprovalRejectedRequests")
    logger.info("approval decision", extra={"status": page.status})
    return page


def route(event: dict[str, Any]) -> dict[str, Any]:
    try:
        request = ApiRequest.model_validate(event)
    except ValidationError:
        logger.warning("not an API Gateway proxy request")
        return _respond(Page(400, message_page("Bad request", "This is not a request the approval API serves.")))
    approval_id = request.path_parameter("approval_id")
    if request.resource != ROUTE or not approval_id:
        return _respond(Page(404, message_page("Not found", "No such page.")))
    if request.http_method == "GET":
        return _respond(show(request, approval_id))
    if request.http_method == "POST":
        return _respond(decide(request, approval_id))
    return _respond(Page(405, message_page("Not allowed", "Use the approval page.")), {"Allow": "GET, POST"})


@logger.inject_lambda_context(clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return route(event)
