"""Answers to CloudFormation custom-resource requests (the response is a PUT to a pre-signed URL)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol


class _Log(Protocol):
    def info(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...
    def exception(self, msg: str, *args: Any, **kwargs: Any) -> Any: ...


def answer(
    event: dict[str, Any],
    physical_id: str,
    work: Callable[[], tuple[str | None, dict[str, str]]],
    log: _Log,
    what: str,
) -> dict[str, Any]:
    """Run a custom resource's work and always answer CloudFormation, which otherwise waits an hour.

    `physical_id` is the id CloudFormation gets back unless the work names another (its first result);
    a failure answers FAILED with the error as the reason. Returns the response sent."""
    response: dict[str, Any] = {
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "PhysicalResourceId": physical_id,
    }
    try:
        physical, data = work()
        response.update(Status="SUCCESS", Data=data)
        if physical:
            response["PhysicalResourceId"] = physical
        log.info(what, extra={"request": event["RequestType"], "physical_id": response["PhysicalResourceId"]})
    except Exception as exc:  # every failure must reach CloudFormation as FAILED
        response.update(Status="FAILED", Reason=f"{type(exc).__name__}: {exc}"[:3000])
        log.exception("%s failed", what)
    send_response(event["ResponseURL"], response)
    return response


def send_response(url: str, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's pre-signed https URL
        url, data=data, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(data))}
    )
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
        resp.read()
