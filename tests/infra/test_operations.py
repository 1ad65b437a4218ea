"""Operating the stack on real AWS: lost events, the API Gateway account role, the Security Hub custom
action in every region, and the alarms and dashboard that tell the team the responder itself is failing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from infra.config import ConfigError
from infra.synth import build_app

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas" / "responder"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Template:
    app, stack = build_app(
        {"notificationEmail": "soc@example.com", "memberExternalId": "ext-1234"}, str(tmp_path_factory.mktemp("cdk"))
    )
    app.synth()  # cdk-nag runs here: any unacknowledged finding raises
    return Template.from_stack(stack)


def _resources(template: Template, kind: str) -> dict[str, dict]:
    return template.find_resources(kind)


def _logical(ref: dict) -> str:
    """The logical id of a `Ref` or `Fn::GetAtt`."""
    return ref["Ref"] if "Ref" in ref else ref["Fn::GetAtt"][0]


def _asynchronously_invoked(template: Template) -> set[str]:
    """Functions that EventBridge, SNS, S3 or CloudFormation (custom resources) invoke: all of them
    asynchronously."""
    functions = set(_resources(template, "AWS::Lambda::Function"))
    invoked = set()
    for rule in _resources(template, "AWS::Events::Rule").values():
        for target in rule["Properties"].get("Targets", []):
            if _logical(target["Arn"]) in functions:
                invoked.add(_logical(target["Arn"]))
    for sub in _resources(template, "AWS::SNS::Subscription").values():
        if sub["Properties"]["Protocol"] == "lambda":
            invoked.add(_logical(sub["Properties"]["Endpoint"]))
    for resource in template.to_json()["Resources"].values():
        custom = resource["Type"].startswith("Custom::") or resource["Type"] == "AWS::CloudFormation::CustomResource"
        if custom and _logical(resource["Properties"]["ServiceToken"]) in functions:
            invoked.add(_logical(resource["Properties"]["ServiceToken"]))
    for permission in _resources(template, "AWS::Lambda::Permission").values():
        if permission["Properties"]["Principal"] in ("s3.amazonaws.com", "sns.amazonaws.com"):
            invoked.add(_logical(permission["Properties"]["FunctionName"]))
    return invoked


def _alarms(template: Template) -> list[dict]:
    return [a["Properties"] for a in _resources(template, "AWS::CloudWatch::Alarm").values()]


def _dimensions(alarm: dict) -> dict[str, object]:
    return {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}


# -- lost events -------------------------------------------------------------------------------------
def test_every_asynchronously_invoked_function_sends_failed_events_to_an_on_failure_queue(template):
    """EventBridge invokes Lambda asynchronously; a function error is retried twice and then dropped
    unless the function has an on-failure destination (the rule's DLQ catches delivery failures only)."""
    invoked = _asynchronously_invoked(template)
    assert any("Intake" in f for f in invoked) and any("Loader" in f for f in invoked)
    configs = {_logical(c["Properties"]["FunctionName"]): c["Properties"]
               for c in _resources(template, "AWS::Lambda::EventInvokeConfig").values()}  # fmt: skip
    queues = _resources(template, "AWS::SQS::Queue")
    policies = [p["Properties"] for p in _resources(template, "AWS::SQS::QueuePolicy").values()]
    for function in invoked:
        assert function in configs, f"{function} is invoked asynchronously without an on-failure destination"
        config = configs[function]
        assert config["Qualifier"] == "$LATEST"
        assert config["MaximumRetryAttempts"] == 2
        assert 60 <= config["MaximumEventAgeInSeconds"] <= 21600
        queue = _logical(config["DestinationConfig"]["OnFailure"]["Destination"])
        assert queue in queues, config
        props = queues[queue]["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props
        assert props["MessageRetentionPeriod"] == 14 * 86400
        ssl_only = [
            s
            for p in policies
            if {"Ref": queue} in p["Queues"]
            for s in p["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert ssl_only, f"{queue} accepts requests without TLS"


def test_the_on_failure_queue_is_writable_by_the_function_that_fails(template):
    (config,) = [c["Properties"] for c in _resources(template, "AWS::Lambda::EventInvokeConfig").values()
                 if "Intake" in _logical(c["Properties"]["FunctionName"])]  # fmt: skip
    queue = _logical(config["DestinationConfig"]["OnFailure"]["Destination"])
    function = _resources(template, "AWS::Lambda::Function")[_logical(config["FunctionName"])]
    role = _logical(function["Properties"]["Role"])
    statements = [
        s
        for p in _resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any(
        "sqs:SendMessage" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        and s["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}
        for s in statements
    )


# -- API Gateway account role ------------------------------------------------------------------------
def test_the_api_gateway_account_role_is_created_before_the_stage_and_retained(template):
    """Stage access logging needs the account's API Gateway CloudWatch role: without it, creating the
    stage fails. The account setting is account-wide, so it outlives the stack."""
    (account_id, account), *rest = _resources(template, "AWS::ApiGateway::Account").items()
    assert not rest
    assert account["DeletionPolicy"] == "Retain"
    role_id = _logical(account["Properties"]["CloudWatchRoleArn"])
    role = _resources(template, "AWS::IAM::Role")[role_id]
    assert role["DeletionPolicy"] == "Retain"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    (stage,) = _resources(template, "AWS::ApiGateway::Stage").values()
    deployment = _resources(template, "AWS::ApiGateway::Deployment")[_logical(stage["Properties"]["DeploymentId"])]
    api = _resources(template, "AWS::ApiGateway::RestApi")
    depends = set(stage.get("DependsOn", [])) | set(deployment.get("DependsOn", []))
    depends |= {d for a in api.values() for d in a.get("DependsOn", [])}
    assert account_id in depends, "the stage may be created before the account's CloudWatch role is set"


def test_accounts_that_manage_the_api_gateway_role_elsewhere_can_opt_out(tmp_path):
    app, stack = build_app({"apiGatewayCloudWatchRole": "false"}, str(tmp_path))
    app.synth()
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ApiGateway::Account", 0)
    template.resource_count_is("AWS::ApiGateway::Stage", 1)


def test_an_invalid_api_gateway_role_flag_stops_the_synth(tmp_path):
    with pytest.raises(ConfigError, match="apiGatewayCloudWatchRole"):
        build_app({"apiGatewayCloudWatchRole": "maybe"}, str(tmp_path))


# -- Security Hub custom action ----------------------------------------------------------------------
def test_the_custom_action_is_created_by_a_custom_resource_in_every_region(template):
    """AWS::SecurityHub::ActionTarget is missing from most regions' CloudFormation registry."""
    template.resource_count_is("AWS::SecurityHub::ActionTarget", 0)
    action, *rest = _resources(template, "Custom::SecurityHubActionTarget").values()
    assert not rest
    props = action["Properties"]
    assert props["Id"] == "ContainResource" and props["Name"] == "Contain resource"
    handler = _resources(template, "AWS::Lambda::Function")[_logical(props["ServiceToken"])]
    assert handler["Properties"]["Handler"] == "responder.handlers.securityhub_action.handler"


def test_the_custom_action_rule_matches_the_action_arn_and_waits_for_the_action(template):
    rules = _resources(template, "AWS::Events::Rule")
    (rule, *rest) = [
        r for r in rules.values()
        if r["Properties"].get("EventPattern", {}).get("detail-type") == ["Security Hub Findings - Custom Action"]
    ]  # fmt: skip
    assert not rest
    (resource,) = rule["Properties"]["EventPattern"]["resources"]
    parts = resource["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "{" + (p.get("Ref") or "?") + "}" for p in parts)
    assert text == "arn:{AWS::Partition}:securityhub:{AWS::Region}:{AWS::AccountId}:action/custom/ContainResource"
    (action_id,) = _resources(template, "Custom::SecurityHubActionTarget")
    assert action_id in rule.get("DependsOn", []), "the rule may match before the action exists"


def test_the_custom_action_function_may_only_manage_action_targets(template):
    (action,) = _resources(template, "Custom::SecurityHubActionTarget").values()
    handler = _resources(template, "AWS::Lambda::Function")[_logical(action["Properties"]["ServiceToken"])]
    role = _logical(handler["Properties"]["Role"])
    statements = [
        s
        for p in _resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    securityhub = {a for a in actions if a.startswith("securityhub:")}
    assert securityhub == {
        "securityhub:CreateActionTarget",
        "securityhub:UpdateActionTarget",
        "securityhub:DeleteActionTarget",
    }
    # its log group, tracing, and its on-failure queue (what CDK's grantSendMessages grants)
    assert actions - securityhub <= {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments",
                                     "xray:PutTelemetryRecords", "sqs:SendMessage", "sqs:GetQueueAttributes",
                                     "sqs:GetQueueUrl"}  # fmt: skip
    for s in statements:
        if any(a.startswith("securityhub:") for a in s["Action"]):
            assert s["Resource"] != "*"


def test_without_security_hub_there_is_no_custom_action_and_no_intake(tmp_path):
    app, stack = build_app({"securityHub": "false"}, str(tmp_path))
    app.synth()
    template = Template.from_stack(stack)
    template.resource_count_is("Custom::SecurityHubActionTarget", 0)
    template.resource_count_is("AWS::Lambda::Function", 15)  # the workflows, the approval API, the loader
    # only the onboarding loader and the scheduled re-verification are invoked asynchronously then
    configs = template.find_resources("AWS::Lambda::EventInvokeConfig").values()
    names = sorted(_logical(c["Properties"]["FunctionName"]) for c in configs)
    assert len(names) == 2 and "Loader" in names[0] and "Reverify" in names[1], names


# -- monitoring --------------------------------------------------------------------------------------
def test_failed_timed_out_and_aborted_executions_of_both_workflows_alarm(template):
    machines = set(_resources(template, "AWS::StepFunctions::StateMachine"))
    assert len(machines) == 2
    seen = {
        (alarm["MetricName"], _logical(_dimensions(alarm)["StateMachineArn"]))  # type: ignore[arg-type]
        for alarm in _alarms(template)
        if alarm.get("Namespace") == "AWS/States"
    }
    for machine in machines:
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
            assert (metric, machine) in seen, (metric, machine)


def test_every_queue_alarms_when_a_message_arrives(template):
    """Every queue in the stack is a dead-letter or on-failure queue: one message is one lost event."""
    queues = set(_resources(template, "AWS::SQS::Queue"))
    assert len(queues) >= 2
    alarmed = {
        _logical(_dimensions(a)["QueueName"])  # type: ignore[arg-type]
        for a in _alarms(template)
        if a.get("Namespace") == "AWS/SQS" and a["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert alarmed == queues
    for a in _alarms(template):
        if a.get("Namespace") == "AWS/SQS":
            assert a["Threshold"] == 0 and a["ComparisonOperator"] == "GreaterThanThreshold"


def test_intake_errors_alarm(template):
    intake = next(k for k in _resources(template, "AWS::Lambda::Function") if "Intake" in k)
    assert any(
        a.get("Namespace") == "AWS/Lambda"
        and a["MetricName"] == "Errors"
        and _logical(_dimensions(a)["FunctionName"]) == intake  # type: ignore[arg-type]
        for a in _alarms(template)
    )


RESPONDER_METRICS = {
    "FindingsUntrusted",
    "SecurityHubWriteBackFailures",
    "ApprovalsExpired",
    "ContainmentDrift",
    "ReverifyErrors",
    "EvidenceOfTampering",
    "TriageFailures",
}


def test_untrusted_findings_write_back_failures_and_expired_approvals_alarm(template):
    alarmed = {
        a["MetricName"]
        for a in _alarms(template)
        if a.get("Namespace") == "ContainmentResponder"
        and _dimensions(a) == {"service": "containment-responder"}
        and a["Statistic"] == "Sum"
    }
    assert alarmed >= RESPONDER_METRICS


def test_the_alarmed_responder_metrics_are_the_ones_the_functions_emit():
    """An alarm on a metric no function emits never fires: tie the names to the code."""
    source = "\n".join(p.read_text() for p in (LAMBDAS / "handlers").glob("*.py"))
    emitted = set(re.findall(r'count\(\s*"(\w+)"', source))
    assert emitted >= RESPONDER_METRICS, RESPONDER_METRICS - emitted
    assert "TimeToContain" in emitted


def test_every_alarm_notifies_the_topic_and_missing_data_is_not_a_failure(template):
    (topic,) = _resources(template, "AWS::SNS::Topic")
    alarms = _alarms(template)
    assert len(alarms) >= 2 * 3 + 2 + 1 + 3
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic}], alarm.get("AlarmName")
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["ActionsEnabled"] is True
        assert alarm["AlarmDescription"]


def test_cloudwatch_may_publish_to_the_encrypted_topic(template):
    """Alarm actions to an SSE-KMS topic are dropped unless CloudWatch may use the key
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services)."""
    (key,) = _resources(template, "AWS::KMS::Key").values()
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch
    actions = {a for s in cloudwatch for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= actions
    for s in cloudwatch:
        assert "aws:SourceAccount" in json.dumps(s["Condition"])


def test_the_dashboard_shows_incidents_by_status_and_time_to_contain(template):
    (dashboard,) = _resources(template, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    text = body if isinstance(body, str) else json.dumps(body)
    assert "TimeToContain" in text
    assert "IncidentsByStatus" in text and "status" in text


def test_incidents_by_status_is_emitted_with_a_status_dimension():
    source = (LAMBDAS / "handlers" / "_runtime.py").read_text()
    assert '"IncidentsByStatus"' in source and '"status"' in source


# -- the notification topic (issue 16) -------------------------------------------------------------------
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:responder-topic"
TLS = {"aws:SecureTransport": "true"}


def _resolved_topic_policy(template: Template) -> list[dict]:
    """The topic policy with its references replaced: the topic by TOPIC_ARN, a role by a role ARN named after
    its logical id, so that the permission evaluator can read it."""

    def resolve(value):
        if isinstance(value, dict) and "Ref" in value:
            pseudo = {"AWS::AccountId": "123456789012", "AWS::Partition": "aws", "AWS::Region": "us-east-1"}
            return pseudo.get(value["Ref"], TOPIC_ARN)
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return f"arn:aws:iam::123456789012:role/{value['Fn::GetAtt'][0]}"
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    (policy,) = _resources(template, "AWS::SNS::TopicPolicy").values()
    return resolve(policy["Properties"]["PolicyDocument"]["Statement"])


def test_only_the_responders_publishing_roles_and_cloudwatch_may_publish(template):
    """A forged "[APPROVAL NEEDED]" from the real sender: an outside role with sns:Publish on * is refused by
    the topic policy; the four publishing functions (exact ARNs) and CloudWatch alarms are not."""
    from tests.support.iam_eval import Request, evaluate

    docs = _resolved_topic_policy(template)
    power_user = "arn:aws:iam::123456789012:role/PowerUser"
    outsider = Request("sns:Publish", TOPIC_ARN, {"aws:PrincipalArn": power_user, **TLS}, principal=power_user)
    outcome = evaluate(docs, outsider)
    assert not outcome.allowed and outcome.statement and outcome.statement["Sid"] == "OnlyTheResponderPublishes"
    (deny,) = [s for s in docs if s.get("Sid") == "OnlyTheResponderPublishes"]
    publishers = deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert len(publishers) == 4 and not any("*" in p for p in publishers), publishers
    for logical in ("RequestApproval", "Notify", "Finalize", "Reverify"):
        assert any(logical in p for p in publishers), logical
    for publisher in publishers:
        own = Request("sns:Publish", TOPIC_ARN, {"aws:PrincipalArn": publisher, **TLS}, principal=publisher)
        assert evaluate([deny], own).statement is None  # the deny does not apply; its role policy allows
    alarm = Request(
        "sns:Publish",
        TOPIC_ARN,
        {"aws:PrincipalServiceName": "cloudwatch.amazonaws.com", "aws:SourceAccount": "123456789012", **TLS},
        principal="cloudwatch.amazonaws.com",
    )
    assert evaluate(docs, alarm).allowed
