"""Queues that keep events the responder could not handle: encrypted, TLS-only, 14 days, alarmed."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge, checkov_skip

RETENTION = Duration.days(14)  # SQS's maximum: time to notice the alarm and replay


def failure_queue(scope: Construct, construct_id: str, purpose: str) -> sqs.Queue:
    """A dead-letter or on-failure queue. Every message on it is an event that was lost to the workflow
    (the Monitoring construct alarms on the first one)."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=RETENTION,
    )
    checkov_skip(queue, "CKV_AWS_27", "Encrypted with SQS-managed keys (SqsManagedSseEnabled); checkov "
                 "recognises only a KMS key id.")  # fmt: skip
    acknowledge(queue, "AwsSolutions-SQS3", f"This queue is itself a dead-letter queue: {purpose}.")
    return queue
