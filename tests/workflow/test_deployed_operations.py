"""What the deployed stack leaves in the account (in moto): the Security Hub custom action made by its custom
resource, the API Gateway account's CloudWatch role, the intake's on-failure destination, and the alarms."""

from __future__ import annotations

from tests.workflow.test_securityhub_and_accounts import ACTION_ARN


def test_the_custom_resource_created_the_custom_action(responder):
    targets = responder.session.client("securityhub").describe_action_targets()["ActionTargets"]
    assert [t["ActionTargetArn"] for t in targets] == [ACTION_ARN]
    assert targets[0]["Name"] == "Contain resource"


def test_the_api_gateway_account_has_the_cloudwatch_role_stage_logging_needs(responder):
    role = responder.session.client("apigateway").get_account()["cloudwatchRoleArn"]
    assert role.startswith("arn:aws:iam::123456789012:role/")


def test_the_intake_sends_failed_events_to_the_failed_invocations_queue(responder):
    lam = responder.session.client("lambda")
    intake = next(f["FunctionName"] for f in lam.list_functions()["Functions"] if "Intake" in f["FunctionName"])
    config = lam.get_function_event_invoke_config(FunctionName=intake)
    assert config["MaximumRetryAttempts"] == 2
    queue_arn = config["DestinationConfig"]["OnFailure"]["Destination"]
    assert queue_arn.startswith("arn:aws:sqs:us-east-1:123456789012:")


def test_the_alarms_notify_the_topic(responder):
    alarms = responder.session.client("cloudwatch").describe_alarms()["MetricAlarms"]
    topic = responder.stack.outputs["NotificationTopic"]
    names = {a["AlarmName"] for a in alarms}
    assert {"ContainmentResponder-ContainmentExecutionsFailed", "ContainmentResponder-IntakeErrors",
            "ContainmentResponder-ApprovalsExpired"} <= names  # fmt: skip
    assert all(a["AlarmActions"] == [topic] for a in alarms)
