"""Triggers: EventBridge rules that start the containment workflow."""

from __future__ import annotations

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.function import ResponderFunction
from infra.constructs.queues import failure_queue
from responder.models.securityhub import ASFF_CUSTOM_ACTION, ASFF_IMPORTED, OCSF_IMPORTED

CUSTOM_ACTION_ID = "ContainResource"
CUSTOM_ACTION_NAME = "Contain resource"
CUSTOM_ACTION_DESCRIPTION = (
    "Contain the finding's resource with the containment responder (approval required unless a preference "
    "for custom actions says otherwise)"
)


class Triggers(Construct):
    """GuardDuty findings start the workflow directly. Security Hub events (imported ASFF findings, v2
    OCSF findings and the "Contain resource" custom action) go to the intake function, which starts one
    execution per trusted finding.

    Two queues keep what would otherwise be lost: the rules' dead-letter queue (events EventBridge could not
    deliver) and `failures`, the intake's on-failure destination (events the function failed on after
    Lambda's retries)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        containment: sfn.IStateMachine,
        layer: lambda_.ILayerVersion,
        security_hub: bool,
        failures: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.intake: ResponderFunction | None = None
        self.custom_action: CustomResource | None = None
        # Events EventBridge could not deliver to the workflow, kept for 14 days for replay.
        self.dead_letters = failure_queue(self, "DeadLetters", "events the rules could not deliver to their targets")
        self.guardduty = events.Rule(
            self,
            "GuardDutyFindings",
            description="GuardDuty findings start the containment workflow",
            event_pattern=events.EventPattern(source=["aws.guardduty"], detail_type=["GuardDuty Finding"]),
        )
        self.guardduty.add_target(
            targets.SfnStateMachine(
                containment,
                dead_letter_queue=self.dead_letters,
                retry_attempts=185,
                max_event_age=Duration.hours(24),
            )
        )
        if security_hub:
            self._security_hub(containment, layer, failures)

    def _security_hub(self, containment: sfn.IStateMachine, layer: lambda_.ILayerVersion, failures: sqs.IQueue) -> None:
        intake = self.intake = ResponderFunction(
            self,
            "Intake",
            handler="responder.handlers.intake.handler",
            layer=layer,
            environment={"CONTAINMENT_STATE_MACHINE_ARN": containment.state_machine_arn},
            description="split Security Hub events into one containment execution per finding",
        )
        intake.allow(["states:StartExecution"], [containment.state_machine_arn])
        intake.send_failures_to(failures)
        self.custom_action, action_arn = self._custom_action(layer, failures)
        patterns = {
            "SecurityHubImported": events.EventPattern(source=["aws.securityhub"], detail_type=[ASFF_IMPORTED]),
            "SecurityHubV2Imported": events.EventPattern(source=["aws.securityhub"], detail_type=[OCSF_IMPORTED]),
            "SecurityHubCustomAction": events.EventPattern(
                source=["aws.securityhub"],
                detail_type=[ASFF_CUSTOM_ACTION],
                resources=[action_arn],
            ),
        }
        for name, pattern in patterns.items():
            rule = events.Rule(self, name, description=f"{name}: to the containment intake", event_pattern=pattern)
            if name == "SecurityHubCustomAction":
                rule.node.add_dependency(self.custom_action)  # the rule names the action's ARN: create it first
            rule.add_target(
                targets.LambdaFunction(
                    intake.function,
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=185,
                    max_event_age=Duration.hours(24),
                )
            )

    def _custom_action(self, layer: lambda_.ILayerVersion, failures: sqs.IQueue) -> tuple[CustomResource, str]:
        """The "Contain resource" custom action, through Security Hub's API in a custom resource:
        `AWS::SecurityHub::ActionTarget` is missing from the CloudFormation registry of most regions
        (cfn-lint E3006). Returns the resource and the action's ARN, which its Id fixes (`action/custom/<Id>`)."""
        stack = Stack.of(self)
        hub = f"arn:{stack.partition}:securityhub:{stack.region}:{stack.account}:hub/default"
        action_arn = (
            f"arn:{stack.partition}:securityhub:{stack.region}:{stack.account}:action/custom/{CUSTOM_ACTION_ID}"
        )
        handler = ResponderFunction(
            self,
            "ContainActionHandler",
            handler="responder.handlers.securityhub_action.handler",
            layer=layer,
            environment={},
            description="create the Security Hub custom action",
        )
        # Security Hub authorizes the custom-action calls on the hub resource; the action's ARN is listed too.
        handler.allow(
            [
                "securityhub:CreateActionTarget",
                "securityhub:UpdateActionTarget",
                "securityhub:DeleteActionTarget",
            ],
            [hub, action_arn],
        )
        handler.send_failures_to(failures)
        action = CustomResource(
            self,
            # Not "ContainAction", the logical id of the AWS::SecurityHub::ActionTarget of earlier versions:
            # CloudFormation refuses to change a resource's type in place.
            "CustomAction",
            service_token=handler.function.function_arn,
            resource_type="Custom::SecurityHubActionTarget",
            properties={"Id": CUSTOM_ACTION_ID, "Name": CUSTOM_ACTION_NAME, "Description": CUSTOM_ACTION_DESCRIPTION},
        )
        return action, action_arn
