"""Deploy-time rules AWS enforces and the emulator now does too: the Security Hub custom action (created
through the API by a custom resource) and API Gateway stage logging without the account's CloudWatch role.
Each rule: the emulator refuses what AWS refuses, and the responder copes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from responder.adapters import cfn
from responder.handlers import securityhub_action
from responder.handlers.securityhub_action import ActionExists, apply

ARN = "arn:aws:securityhub:us-east-1:123456789012:action/custom/ContainResource"
PROPS = {"Id": "ContainResource", "Name": "Contain resource", "Description": "Contain the finding's resource"}


def _event(request: str, physical: str | None = None, old: dict | None = None, **props: str) -> dict[str, Any]:
    event: dict[str, Any] = {
        "RequestType": request,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/ContainmentResponder/1",
        "RequestId": "r-1",
        "LogicalResourceId": "TriggersCustomAction",
        "ResponseURL": "https://cloudformation-custom-resource-response.example/",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:::function:x", **PROPS, **props},
    }
    if physical is not None:
        event["PhysicalResourceId"] = physical
    if old is not None:
        event["OldResourceProperties"] = {**PROPS, **old}
    return event


def _targets(hub) -> dict[str, dict]:
    return {t["ActionTargetArn"]: t for t in hub.describe_action_targets()["ActionTargets"]}


# -- the emulator refuses what Security Hub refuses ----------------------------------------------------
def test_emulator_refuses_a_second_action_with_the_same_id_and_an_unknown_arn(aws):
    hub = aws.client("securityhub")
    assert hub.create_action_target(**PROPS)["ActionTargetArn"] == ARN
    with pytest.raises(ClientError) as conflict:
        hub.create_action_target(**PROPS)
    assert conflict.value.response["Error"]["Code"] == "ResourceConflictException"
    with pytest.raises(ClientError) as missing:
        hub.delete_action_target(ActionTargetArn=ARN.replace("ContainResource", "Other"))
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


# -- the custom resource copes -------------------------------------------------------------------------
def test_create_update_and_delete_the_custom_action(aws):
    hub = aws.client("securityhub")
    physical, data = apply(hub, _event("Create"))
    assert physical == ARN and data == {"ActionTargetArn": ARN}
    assert _targets(hub)[ARN]["Name"] == "Contain resource"

    physical, _ = apply(hub, _event("Update", ARN, old={}, Name="Contain it", Description="new words"))
    assert physical == ARN
    assert _targets(hub)[ARN]["Name"] == "Contain it" and _targets(hub)[ARN]["Description"] == "new words"

    # A new Id is a new action; CloudFormation deletes the old one next, by its physical id.
    new_arn, _ = apply(hub, _event("Update", ARN, old={}, Id="ContainNow"))
    assert new_arn == ARN.replace("ContainResource", "ContainNow")
    apply(hub, _event("Delete", ARN))
    assert set(_targets(hub)) == {new_arn}

    apply(hub, _event("Delete", new_arn))
    apply(hub, _event("Delete", new_arn))  # already gone: still a success
    assert _targets(hub) == {}


def test_an_action_the_stack_did_not_create_is_never_adopted(aws):
    hub = aws.client("securityhub")
    hub.create_action_target(**PROPS)
    with pytest.raises(ActionExists, match="ContainResource"):
        apply(hub, _event("Create"))
    # The rollback's Delete names the placeholder physical id, not the ARN: the action stays.
    apply(hub, _event("Delete", "TriggersCustomAction-not-created"))
    assert ARN in _targets(hub)


@pytest.mark.parametrize("props", [{"Id": "Contain-Resource"}, {"Id": "x" * 21}, {"Name": "n" * 21}, {"Name": ""}])
def test_invalid_properties_fail_naming_the_field(aws, props):
    with pytest.raises(ValueError, match=r"Id|Name"):
        apply(aws.client("securityhub"), _event("Create", **props))


def test_the_handler_always_answers_cloudformation(aws, monkeypatch):
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(cfn, "send_response", lambda url, body: sent.append((url, body)))
    securityhub_action.handler(_event("Create"), _context())
    securityhub_action.handler(_event("Create"), _context())  # now a conflict: FAILED, with the reason
    (_, ok), (_, failed) = sent
    assert ok["Status"] == "SUCCESS" and ok["PhysicalResourceId"] == ARN and ok["Data"]["ActionTargetArn"] == ARN
    assert failed["Status"] == "FAILED" and "already exists" in failed["Reason"]
    assert failed["PhysicalResourceId"] == "TriggersCustomAction-not-created"


def _context() -> Any:
    class Context:
        function_name = "ContainActionHandler"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ContainActionHandler"
        aws_request_id = "req-1"

    return Context()


# -- API Gateway stage logging needs the account's CloudWatch role --------------------------------------
def _api_template(with_account: bool) -> str:
    resources: dict[str, Any] = {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "approvals"}},
        "Method": {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "HttpMethod": "GET",
                "AuthorizationType": "NONE",
                "Integration": {"Type": "MOCK", "IntegrationHttpMethod": "GET", "Uri": ""},
            },
        },
        "Deployment": {
            "Type": "AWS::ApiGateway::Deployment",
            "Properties": {"RestApiId": {"Ref": "Api"}},
            "DependsOn": ["Method"],
        },
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
        "Stage": {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "DeploymentId": {"Ref": "Deployment"},
                "StageName": "v1",
                "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": ["Logs", "Arn"]}, "Format": "$context.requestId"},
            },
        },
    }
    if with_account:
        resources["Role"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "apigateway.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            },
        }
        resources["Account"] = {
            "Type": "AWS::ApiGateway::Account",
            "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["Role", "Arn"]}},
        }
        resources["Stage"]["DependsOn"] = ["Account"]
    return json.dumps({"Resources": resources})


def _create_stack(aws, with_account: bool) -> str:
    cloudformation = aws.client("cloudformation")
    try:
        cloudformation.create_stack(StackName="api", TemplateBody=_api_template(with_account))
    except ClientError as exc:
        return f"refused: {exc}"
    except ValueError as exc:  # moto's in-process CloudFormation raises the resource's error as is
        return f"refused: {exc}"
    return cloudformation.describe_stacks(StackName="api")["Stacks"][0]["StackStatus"]


def test_emulator_refuses_stage_access_logging_without_the_account_cloudwatch_role(aws):
    outcome = _create_stack(aws, with_account=False)
    assert "CloudWatch Logs role ARN must be set" in outcome or "FAILED" in outcome, outcome


def test_stage_access_logging_deploys_once_the_account_role_is_set(aws):
    assert _create_stack(aws, with_account=True) == "CREATE_COMPLETE"
    assert aws.client("apigateway").get_account()["cloudwatchRoleArn"].startswith("arn:aws:iam::123456789012:role/")
