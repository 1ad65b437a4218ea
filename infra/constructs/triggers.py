"""Triggers: EventBridge rules that start the containment workflow."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Duration, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.function import ResponderFunction
from infra.nag import acknowledge, checkov_skip
from responder.models.securityhub import ASFF_CUSTOM_ACTION, ASFF_IMPORTED, OCSF_IMPORTED

CUSTOM_ACTION_ID = "ContainResource"
CUSTOM_ACTION_NAME = "Contain resource"


class Triggers(Construct):
    """GuardDuty findings start the workflow directly. Security Hub events (imported ASFF findings, v2
    OCSF findings and the "Contain resource" custom action) go to the intake function, which starts one
    execution per trusted finding."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        containment: sfn.IStateMachine,
        layer: lambda_.ILayerVersion,
        security_hub: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        # Events EventBridge could not deliver to the workflow, kept for 14 days for replay.
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        checkov_skip(self.dead_letters, "CKV_AWS_27", "Encrypted with SQS-managed keys (SqsManagedSseEnabled); "
                     "checkov recognises only a KMS key id.")  # fmt: skip
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the rule targets.",
        )
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
            self._security_hub(containment, layer)

    def _security_hub(self, containment: sfn.IStateMachine, layer: lambda_.ILayerVersion) -> None:
        self.intake = ResponderFunction(
            self,
            "Intake",
            handler="responder.handlers.intake.handler",
            layer=layer,
            environment={"CONTAINMENT_STATE_MACHINE_ARN": containment.state_machine_arn},
            description="split Security Hub events into one containment execution per finding",
        )
        self.intake.allow(["states:StartExecution"], [containment.state_machine_arn])
        self.custom_action = CfnResource(
            self,
            "ContainAction",
            type="AWS::SecurityHub::ActionTarget",
            properties={
                "Id": CUSTOM_ACTION_ID,
                "Name": CUSTOM_ACTION_NAME,
                "Description": "Contain the finding's resource with the containment responder (approval "
                "required unless a preference for custom actions says otherwise)",
            },
        )
        Validations.of(self.custom_action).acknowledge(
            Acknowledgment(
                id="CloudFormation-Validate::F3006",
                reason="AWS::SecurityHub::ActionTarget is a documented CloudFormation type that this CDK "
                "release's bundled schema does not list yet (cfn-lint knows it).",
            )
        )
        patterns = {
            "SecurityHubImported": events.EventPattern(source=["aws.securityhub"], detail_type=[ASFF_IMPORTED]),
            "SecurityHubV2Imported": events.EventPattern(source=["aws.securityhub"], detail_type=[OCSF_IMPORTED]),
            "SecurityHubCustomAction": events.EventPattern(
                source=["aws.securityhub"],
                detail_type=[ASFF_CUSTOM_ACTION],
                resources=[self.custom_action.ref],
            ),
        }
        for name, pattern in patterns.items():
            rule = events.Rule(self, name, description=f"{name}: to the containment intake", event_pattern=pattern)
            rule.add_target(
                targets.LambdaFunction(
                    self.intake.function,
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=185,
                    max_event_age=Duration.hours(24),
                )
            )
