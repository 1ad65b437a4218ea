"""AWS client construction.

Clients take their endpoint from boto3's own configuration (`AWS_ENDPOINT_URL`,
`AWS_ENDPOINT_URL_<SERVICE>`, profiles), never from hard-coded URLs. Retries use botocore's adaptive
mode, which backs off with jitter on throttling (`ThrottlingException`, `RequestLimitExceeded`,
`TooManyRequestsException`) and on transient errors.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.session
from botocore.config import Config

RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 10},
    connect_timeout=5,
    read_timeout=30,
    user_agent_extra="containment-responder/0.1",
)

_lock = threading.Lock()
_clients: dict[tuple[str, str | None, int], Any] = {}
_default: botocore.session.Session | None = None


def client(service: str, region: str | None = None, session: Any = None) -> Any:
    """A cached client for the service and region, from the given session or the default one.

    The default session is botocore's own (boto3 is not imported: it costs a Lambda cold start about
    100 ms and the responder uses only clients). Endpoints, credentials and regions come from the same
    configuration boto3 reads (environment, profiles, `AWS_ENDPOINT_URL`).
    """
    global _default
    key = (service, region, id(session) if session is not None else 0)
    with _lock:
        found = _clients.get(key)
        if found is None:
            if session is None:
                if _default is None:
                    _default = botocore.session.get_session()
                session = _default
            found = (
                session.create_client(service, region_name=region, config=RETRY_CONFIG)
                if isinstance(session, botocore.session.Session)
                else session.client(service, region_name=region, config=RETRY_CONFIG)
            )
            _clients[key] = found
        return found


def reset_clients() -> None:
    """Forget cached clients and the default session (tests that start a fresh emulator call this)."""
    global _default
    with _lock:
        _clients.clear()
        _default = None


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
