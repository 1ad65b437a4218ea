"""The deployed responder in moto, in-process: synthesized template, real handlers, moto's Step Functions."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3

from infra.bundling import LAMBDA_DIR
from responder.adapters.incidents import IncidentStore
from responder.models.incident import Incident
from responder_cli.sandbox.apigw import proxy_event
from responder_cli.sandbox.deploy import DeployedStack
from responder_cli.sandbox.lambda_runtime import FunctionSpec, InProcessInvoker

STACK = "ContainmentResponder"


@dataclass
class Email:
    subject: str
    body: str

    def link(self, label: str) -> str:
        for line in self.body.splitlines():
            if line.strip().startswith(f"{label}:"):
                return line.split(":", 1)[1].strip()
        raise AssertionError(f"no {label} link in email:\n{self.body}")


class Responder:
    """Helpers over one deployed stack."""

    calls: Any = None  # the CallRecorder checking every call the functions make (tests/support/iam_recorder.py)

    def __init__(self, session: boto3.Session, stack: DeployedStack, invoker: InProcessInvoker) -> None:
        self.session = session
        self.stack = stack
        self.invoker = invoker
        self.sfn = session.client("stepfunctions")
        self.lam = session.client("lambda")
        self.store = IncidentStore(stack.outputs["IncidentsTable"], session.client("dynamodb"))

    # -- workflow --------------------------------------------------------------------------------
    def start(self, event: dict[str, Any]) -> str:
        return self.sfn.start_execution(
            stateMachineArn=self.stack.outputs["ContainmentStateMachine"],
            name=uuid.uuid4().hex,
            input=json.dumps(event),
        )["executionArn"]

    def restore(self, incident_id: str) -> str:
        return self.sfn.start_execution(
            stateMachineArn=self.stack.outputs["RestoreStateMachine"],
            name=uuid.uuid4().hex,
            input=json.dumps({"incident_id": incident_id}),
        )["executionArn"]

    def wait(self, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            desc = self.sfn.describe_execution(executionArn=execution_arn)
            if desc["status"] != "RUNNING":
                return desc
            if time.monotonic() > deadline:
                raise AssertionError(f"execution still running after {timeout}s: {self.states(execution_arn)}")
            time.sleep(0.05)

    def states(self, execution_arn: str) -> list[str]:
        events = self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

    def wait_for_status(self, incident_id: str, status: str, timeout: float = 30) -> Incident:
        deadline = time.monotonic() + timeout
        while True:
            try:
                incident = self.store.get(incident_id)
                if incident.status.value == status:
                    return incident
            except LookupError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"incident {incident_id} never reached {status}")
            time.sleep(0.05)

    def incidents(self) -> list[Incident]:
        return self.store.list()

    def only_incident(self) -> Incident:
        found = self.incidents()
        assert len(found) == 1, [i.incident_id for i in found]
        return found[0]

    # -- email -----------------------------------------------------------------------------------
    def emails(self) -> list[Email]:
        from moto.sns.models import sns_backends

        topic_arn = self.stack.outputs["NotificationTopic"]
        topic = sns_backends["123456789012"]["us-east-1"].topics[topic_arn]
        return [Email(subject=n[2] or "", body=n[1]) for n in topic.sent_notifications]

    def wait_for_email(self, prefix: str, timeout: float = 30) -> Email:
        deadline = time.monotonic() + timeout
        while True:
            for email in self.emails():
                if email.subject.startswith(prefix):
                    return email
            if time.monotonic() > deadline:
                raise AssertionError(f"no email {prefix!r}; got {[e.subject for e in self.emails()]}")
            time.sleep(0.05)

    # -- functions, invoked as Lambda would -------------------------------------------------------
    def function(self, logical_id_part: str) -> FunctionSpec:
        name = next(
            p for k, (t, p) in self.stack.resources.items() if t == "AWS::Lambda::Function" and logical_id_part in k
        )
        cfg = self.lam.get_function_configuration(FunctionName=name)
        return FunctionSpec(
            name=name,
            arn=cfg["FunctionArn"],
            handler=cfg["Handler"],
            environment=cfg["Environment"]["Variables"],
        )

    def invoke(self, logical_id_part: str, payload: Any) -> tuple[dict[str, Any], bool]:
        result, errored = self.invoker.invoke(self.function(logical_id_part), payload)
        return json.loads(result), errored

    def executions(self) -> list[dict[str, Any]]:
        arn = self.stack.outputs["ContainmentStateMachine"]
        return self.sfn.list_executions(stateMachineArn=arn, maxResults=1000)["executions"]

    def wait_all(self, timeout: float = 60) -> list[dict[str, Any]]:
        """Wait for every containment execution to end; their descriptions."""
        return [self.wait(e["executionArn"], timeout) for e in self.executions()]

    def _approval_function(self) -> FunctionSpec:
        return self.function("ApprovalHandler")

    def http(
        self, method: str, url: str, form: dict[str, str] | None = None, content_type: str | None = None
    ) -> tuple[int, str]:
        parsed = urlparse(url)
        path = parsed.path.split("/v1", 1)[-1]
        approval_id = path.rsplit("/", 1)[-1]
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        body = None
        headers = {"User-Agent": "pytest-browser/1.0"}
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode(form).encode()
            headers["Content-Type"] = content_type or "application/x-www-form-urlencoded"
        event = proxy_event(
            method,
            path,
            resource="/approvals/{approval_id}",
            path_parameters={"approval_id": approval_id},
            query=query,
            headers=headers,
            body=body,
            source_ip="203.0.113.7",
        )
        result, errored = self.invoker.invoke(self._approval_function(), event)
        assert not errored, result
        response = json.loads(result)
        return int(response["statusCode"]), str(response["body"])


def code_dir() -> Path:
    return LAMBDA_DIR
