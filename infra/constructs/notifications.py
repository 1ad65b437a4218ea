"""Notifications: the SNS topic the responder emails through."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct


class Notifications(Construct):
    def __init__(self, scope: Construct, construct_id: str, email: str | None) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "TopicKey",
            enable_key_rotation=True,
            description="Encrypts the containment responder's notification topic",
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="Containment responder",
            master_key=self.key,
            enforce_ssl=True,
        )
        if email:
            self.topic.add_subscription(subs.EmailSubscription(email))

    def only_these_publish(self, publishers: list[str]) -> None:
        """Nobody but the responder's own roles (exact ARNs) and CloudWatch alarms may publish: a forged
        "[APPROVAL NEEDED]" from the real sender is refused, whatever the caller's identity policy grants."""
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyTheResponderPublishes",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnNotEquals": {"aws:PrincipalArn": publishers},
                    "StringNotEqualsIfExists": {"aws:PrincipalServiceName": "cloudwatch.amazonaws.com"},
                },
            )
        )
