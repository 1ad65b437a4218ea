"""Workflow tests: the synthesized template deployed into moto, executed by moto's Step Functions."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from responder.adapters.aws import reset_clients
from responder_cli.sandbox import lambda_runtime
from responder_cli.sandbox.deploy import deploy
from tests.support.harness import STACK, Responder, code_dir
from tests.support.iam_recorder import CallRecorder
from tests.support.iam_roles import MemberRoleTemplate

APPROVAL_TIMEOUT_S = 8
MEMBER_EXTERNAL_ID = "workflow-test-external-id"


@pytest.fixture(scope="session")
def assembly(tmp_path_factory) -> Path:
    from infra.synth import synth_template

    out = tmp_path_factory.mktemp("cdk-out")
    synth_template(
        {
            "notificationEmail": "soc@example.com",
            "approvalTimeoutHours": APPROVAL_TIMEOUT_S / 3600,
            "protectedArns": "arn:aws:ec2:*:123456789012:instance/i-0protected*,"
            "arn:aws:iam::123456789012:role/breakglass/BreakGlassAdmin",
            "memberExternalId": MEMBER_EXTERNAL_ID,
        },
        str(out),
    )
    return out


@pytest.fixture
def responder(assembly, monkeypatch):
    from responder.adapters import cfn
    from responder_cli.sandbox import moto_fidelity

    monkeypatch.setattr(cfn, "send_response", moto_fidelity.deliver_custom_resource_response)
    reset_clients()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": True}}):
        invoker = lambda_runtime.InProcessInvoker(code_dir())
        # Every AWS call a function makes (custom resources during the deploy included) is checked
        # against its role's policies as deployed, or the member role's for member-account calls.
        calls = CallRecorder(MemberRoleTemplate.load(assembly, "123456789012", MEMBER_EXTERNAL_ID))
        calls.install(monkeypatch, invoker)
        lambda_runtime.install(invoker)
        session = boto3.Session(region_name="us-east-1")
        stack = deploy(session, assembly, STACK)
        responder = Responder(session, stack, invoker)
        responder.calls = calls
        yield responder
        lambda_runtime.uninstall()
        calls.assert_allowed()
    reset_clients()
