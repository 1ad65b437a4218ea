"""Records every AWS call a deployed function makes while it runs, and checks each against the policies
of the role that made it: the function's own role, or the member role whose credentials it assumed.

`CallRecorder.install` wraps botocore's `BaseClient._make_api_call` (every call, paginated or not, once,
before retries) and the invoker that runs the functions in this process. Only calls made on the thread
of a running invocation are recorded, under that function's name; the tests' own set-up calls and the
emulator's are not. The authorizations of a call are built before it runs, from its parameters and the
emulator's state (tags) of the resources it names, as IAM would see them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

from tests.support.iam_calls import State, Target, UnknownCall, authorizations
from tests.support.iam_eval import Outcome, Request, evaluate
from tests.support.iam_roles import MemberRoleTemplate, RolePolicies, emulator_role


@dataclass(frozen=True)
class RecordedCall:
    function: str  # the function's name
    function_role: str  # its own role's ARN
    identity: str  # the ARN of the role whose credentials made the call
    service: str
    operation: str
    target: Target
    params: Mapping[str, Any]
    requests: tuple[Request, ...]
    unknown: str | None = None  # why the call could not be mapped to authorizations


@dataclass(frozen=True)
class Violation:
    call: RecordedCall
    request: Request | None
    reason: str

    def __str__(self) -> str:
        what = self.request.describe() if self.request else f"{self.call.service}:{self.call.operation}"
        who = (
            self.call.identity
            if self.call.identity == self.call.function_role
            else (f"{self.call.identity} (assumed by {self.call.function_role})")
        )
        return f"function {self.call.function}: {what} by {who}: {self.reason}"


@dataclass
class _Frame:
    function: str
    role_arn: str


@dataclass
class CallRecorder:
    member: MemberRoleTemplate | None = None
    state: State = field(default_factory=State)
    calls: list[RecordedCall] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local)
    _assumed: dict[str, str] = field(default_factory=dict)  # access key id -> role ARN
    _roles: dict[str, str] = field(default_factory=dict)  # function name -> role ARN

    # -- recording ------------------------------------------------------------------------------
    def install(self, monkeypatch: Any, invoker: Any) -> CallRecorder:
        original_call = BaseClient._make_api_call
        recorder = self

        def _make_api_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
            frame = recorder._frame()
            if frame is None:
                return original_call(client, operation_name, api_params)
            recorder._record(frame, client, operation_name, api_params)
            response = original_call(client, operation_name, api_params)
            if operation_name == "AssumeRole" and client.meta.service_model.service_name == "sts":
                recorder._assumed[response["Credentials"]["AccessKeyId"]] = api_params["RoleArn"]
            return response

        monkeypatch.setattr(BaseClient, "_make_api_call", _make_api_call)
        monkeypatch.setattr(invoker, "invoke", self.wrap(invoker.invoke))
        return self

    def wrap(self, invoke: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """The invoker's `invoke`, with calls on its thread attributed to the function it runs."""

        def wrapped(function: Any, event: Any) -> Any:
            stack = self._stack()
            stack.append(_Frame(function.name, self._function_role(function)))
            try:
                return invoke(function, event)
            finally:
                stack.pop()

        return wrapped

    def _stack(self) -> list[_Frame]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack  # type: ignore[no-any-return]

    def _frame(self) -> _Frame | None:
        stack = self._stack()
        return stack[-1] if stack else None

    def _function_role(self, function: Any) -> str:
        role = self._roles.get(function.name)
        if role is None:
            from moto.awslambda.models import lambda_backends

            _, _, _, region, account, *_ = function.arn.split(":")
            role = self._roles[function.name] = str(lambda_backends[account][region].get_function(function.name).role)
        return role

    def _record(self, frame: _Frame, client: BaseClient, operation: str, params: dict[str, Any]) -> None:
        service = client.meta.service_model.service_name
        credentials = client._request_signer._credentials
        access_key = credentials.get_frozen_credentials().access_key if credentials else ""
        identity = self._assumed.get(access_key, frame.role_arn)
        target = Target(identity.split(":")[4], client.meta.region_name or "us-east-1")
        unknown = None
        requests: list[Request] = []
        try:
            requests = authorizations(service, operation, target, params, self.state)
        except UnknownCall as exc:
            unknown = str(exc)
        except (KeyError, ValueError, TypeError) as exc:
            unknown = f"{service}:{operation}: cannot build its authorizations from the request ({exc!r})"
        call = RecordedCall(
            frame.function, frame.role_arn, identity, service, operation, target, params, tuple(requests), unknown
        )
        self.calls.append(call)

    # -- checking -------------------------------------------------------------------------------
    def policies(self, role_arn: str) -> RolePolicies:
        """The policies of a role that made calls: a role deployed in the emulator's responder account,
        or the member role (from its template) in a member account."""
        if self.member is not None and role_arn.endswith(f":role/{self.member.role_name}"):
            return self.member.role(role_arn.split(":")[4])
        return emulator_role(role_arn)

    def violations(self) -> list[Violation]:
        found: dict[str, Violation] = {}
        cache: dict[str, RolePolicies] = {}

        def role(arn: str) -> RolePolicies:
            if arn not in cache:
                cache[arn] = self.policies(arn)
            return cache[arn]

        for call in self.calls:
            for violation in self._check(call, role):
                found.setdefault(str(violation), violation)
        return list(found.values())

    def _check(self, call: RecordedCall, role: Callable[[str], RolePolicies]) -> list[Violation]:
        if call.unknown:
            return [Violation(call, None, call.unknown)]
        out = []
        for request in call.requests:
            outcome = evaluate(role(call.identity).identity, request)
            if not outcome.allowed:
                out.append(Violation(call, request, outcome.decision.value))
            if request.action == "sts:AssumeRole":
                out += self._check_trust(call, request, role)
        return out

    def _check_trust(
        self, call: RecordedCall, request: Request, role: Callable[[str], RolePolicies]
    ) -> list[Violation]:
        """The assumed role's trust policy must let the caller in, with the request's ExternalId."""
        if self.member is None or not request.resource.endswith(f":role/{self.member.role_name}"):
            return [Violation(call, request, "assumes a role whose trust policy the check does not know")]
        trust = Request(
            "sts:AssumeRole",
            request.resource,
            {**request.context, "aws:PrincipalArn": call.identity},
            principal=call.identity,
        )
        outcome: Outcome = evaluate(role(request.resource).trust, trust)
        return (
            [] if outcome.allowed else [Violation(call, request, f"the role's trust policy: {outcome.decision.value}")]
        )

    def assert_allowed(self) -> None:
        violations = self.violations()
        if violations:
            lines = "\n  ".join(str(v) for v in violations)
            raise AssertionError(f"{len(violations)} call(s) the deployed roles do not allow:\n  {lines}")
