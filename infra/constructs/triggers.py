"""Triggers: EventBridge rules that start the containment workflow."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.nag import acknowledge, checkov_skip


class Triggers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, containment: sfn.IStateMachine) -> None:
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
