"""boto3 client construction.

Clients take their endpoint from boto3's own configuration (`AWS_ENDPOINT_URL`,
`AWS_ENDPOINT_URL_<SERVICE>`, profiles), never from hard-coded URLs. Retries use botocore's adaptive
mode, which backs off with jitter on throttling (`ThrottlingException`, `RequestLimitExceeded`,
`TooManyRequestsException`) and on transient errors.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 10},
    connect_timeout=5,
    read_timeout=30,
    user_agent_extra="containment-responder/0.1",
)

_lock = threading.Lock()
_clients: dict[tuple[str, str | None, int], Any] = {}


def client(service: str, region: str | None = None, session: boto3.Session | None = None) -> Any:
    """A cached client for the service and region, from the given session or the default one."""
    key = (service, region, id(session) if session is not None else 0)
    with _lock:
        found = _clients.get(key)
        if found is None:
            factory = session.client if session is not None else boto3.client
            found = factory(service, region_name=region, config=RETRY_CONFIG)  # type: ignore[call-overload]
            _clients[key] = found
        return found


def reset_clients() -> None:
    """Forget cached clients (tests that start a fresh emulator call this)."""
    with _lock:
        _clients.clear()


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
