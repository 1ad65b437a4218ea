"""Notifications: the SNS topic the responder emails through."""

from __future__ import annotations

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
