"""Fault injection in front of moto's in-process emulator.

botocore sends every attempt of every call through its `before-send.<service>.<Operation>` event, which
is where moto answers it. `FaultInjector.install` wraps moto's answer: for each attempt the injector can
reply with a throttling error in the service's own wire format (so botocore's retry logic sees exactly
what AWS would send) or raise `InjectedCrash`, and otherwise lets moto run the request and records it.

A call is identified by botocore's `amz-sdk-invocation-id` header, which all attempts of one call share.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import BotocoreStubber

THROTTLE_CODES = ("ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException")
READ_PREFIXES = ("Describe", "Get", "List", "Head")


class InjectedCrash(BaseException):
    """The process died here: nothing after this point ran, not even `except Exception` handlers."""


class _Raw(BytesIO):
    def stream(self, **_: Any) -> Any:
        yield self.getvalue()


def is_mutating(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


def error_response(request: Any, code: str, message: str = "Rate exceeded") -> AWSResponse:
    """The error answer AWS gives this request (by default a throttling one), in the request's protocol.
    botocore retries it or raises it exactly as it would AWS's."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    body_text = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
    if "x-amz-target" in headers:  # JSON protocol (DynamoDB, WAFv2, Step Functions, ...)
        status, out_headers = 400, {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.1"}
        body = json.dumps({"__type": code, "message": message})
    elif "Action=" in body_text and "//ec2." in request.url:  # EC2 protocol
        status, out_headers = 503, {"Content-Type": "text/xml"}
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>Request limit exceeded.</Message></Error>"
            "</Errors><RequestID>injected</RequestID></Response>"
        )
    elif "Action=" in body_text:  # query protocol (IAM, STS, SNS, Auto Scaling)
        status, out_headers = 400, {"Content-Type": "text/xml"}
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
            "</Error><RequestId>injected</RequestId></ErrorResponse>"
        )
    else:  # REST-XML (S3)
        status, out_headers = 503, {"Content-Type": "application/xml"}
        body = f"<Error><Code>{code}</Code><Message>Please reduce your request rate.</Message></Error>"
    return AWSResponse(request.url, status, out_headers, _Raw(body.encode()))  # type: ignore[arg-type]


@dataclass
class Call:
    index: int
    operation: str
    service: str = ""
    attempts: int = 0
    throttled: int = 0
    ran: int = 0  # times moto actually executed it


@dataclass
class FaultInjector:
    throttle_calls: set[int] = field(default_factory=set)  # call indices whose first attempt is throttled
    throttle_all: bool = False
    active: bool = True  # False: requests pass straight to moto, unrecorded (set-up and assertions)
    crash_after_mutations: int | None = None  # let this many mutating calls run, then crash
    fail_operations: dict[str, str] = field(default_factory=dict)  # operation -> error code, every attempt
    calls: list[Call] = field(default_factory=list)
    _by_invocation: dict[str, Call] = field(default_factory=dict)
    _codes: Any = field(default_factory=lambda: itertools.cycle(THROTTLE_CODES))

    def install(self, monkeypatch: Any) -> FaultInjector:
        original = BotocoreStubber.__call__
        injector = self

        def stub(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
            if not self.enabled:
                return None
            if not injector.active:
                return original(self, event_name, request, **kwargs)
            return injector._handle(event_name, request, lambda: original(self, event_name, request, **kwargs))

        monkeypatch.setattr(BotocoreStubber, "__call__", stub)
        return self

    def _handle(self, event_name: str, request: Any, run: Any) -> Any:
        _, service, operation = event_name.split(".", 2)
        invocation = request.headers.get("amz-sdk-invocation-id")
        invocation = invocation.decode() if isinstance(invocation, bytes) else invocation
        call = self._by_invocation.get(invocation) if invocation else None
        if call is None:
            call = Call(index=len(self.calls), operation=operation, service=service)
            self.calls.append(call)
            if invocation:
                self._by_invocation[invocation] = call
        call.attempts += 1
        if operation in self.fail_operations:
            return error_response(request, self.fail_operations[operation], message=f"injected {operation} failure")
        if call.attempts == 1 and (self.throttle_all or call.index in self.throttle_calls):
            call.throttled += 1
            return error_response(request, next(self._codes))
        if self.crash_after_mutations is not None and self.mutations_run() >= self.crash_after_mutations:
            raise InjectedCrash(f"crash before {operation} (after {self.mutations_run()} mutating calls)")
        call.ran += 1
        return run()

    def mutations_run(self) -> int:
        return sum(c.ran for c in self.calls if is_mutating(c.operation))

    def executed(self) -> list[str]:
        """The operations moto executed, in order, once per execution."""
        return [c.operation for c in self.calls for _ in range(c.ran)]

    def mutating(self) -> list[str]:
        return [op for op in self.executed() if is_mutating(op)]

    def resource_mutations(self) -> list[str]:
        """Mutating calls executed on anything but the responder's own state (DynamoDB) and its member-role
        sessions (STS AssumeRole changes nothing)."""
        return [
            f"{c.service}.{c.operation}"
            for c in self.calls
            if c.ran and is_mutating(c.operation) and c.service not in ("dynamodb", "sts")
        ]
