"""One Lambda function with its own role and log group, and nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.bundling import function_code_dir
from infra.nag import LOGS_AWS_MANAGED, acknowledge, checkov_skip

RUNTIME = lambda_.Runtime.PYTHON_3_14
# Powertools metrics: the namespace and the `service` dimension of every metric the functions emit.
METRICS_NAMESPACE = "ContainmentResponder"
SERVICE_NAME = "containment-responder"
FUNCTION_CHECKOV_TRIAGE = {
    "CKV_AWS_115": "No reserved concurrency: a reservation would throttle containment during a finding storm and "
    "take capacity from the account's other functions; Step Functions and the deduplication bound the load.",
    "CKV_AWS_116": "Invoked synchronously (Step Functions, API Gateway), where a Lambda DLQ never applies; the "
    "asynchronously invoked ones (the Security Hub intake, custom resources) have an on-failure destination "
    "queue instead, which also keeps the failure's reason.",
    "CKV_AWS_117": "Calls only AWS APIs; a VPC would add NAT or endpoints and cold-start time for no isolation "
    "gain. Deployers who require it can attach the functions to a VPC with endpoints.",
    "CKV_AWS_173": "The environment holds names and ARNs only (tables, topic, secret id), no secrets; Lambda "
    "encrypts it at rest with its service key.",
}


# Lambda's asynchronous invocation settings, explicit: two retries (Lambda's default) and the longest age
# Lambda allows; then the event goes to the on-failure queue instead of being dropped.
ASYNC_RETRY_ATTEMPTS = 2
ASYNC_MAX_EVENT_AGE = Duration.hours(6)


class Grants:
    """Adds least-privilege statements to `self.role`, and cdk-nag acknowledgments for its wildcards."""

    role: iam.Role

    def allow(self, actions: list[str], resources: list[str], conditions: Mapping[str, Any] | None = None) -> None:
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=actions, resources=resources, conditions=dict(conditions) if conditions else None
            )
        )

    def acknowledge_resources(self, resources: list[str], reason: str) -> None:
        for resource in resources:
            acknowledge(self.role, f"AwsSolutions-IAM5[Resource::{resource}]", reason)


class RoleGrants(Grants):
    def __init__(self, role: iam.Role) -> None:
        self.role = role


class ResponderFunction(Construct, Grants):
    """A function of the responder. Its role starts with only its own log group; its code asset holds only
    the modules its handler imports."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        layer: lambda_.ILayerVersion,
        environment: dict[str, str],
        description: str,
        timeout_s: int = 60,
        memory_mb: int = 512,
        role_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.publishes = False  # set by publish_to: the topic admits only the roles that publish
        self.log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.RETAIN
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            # A fixed name where member accounts must trust exactly this role (MemberRoleStack).
            role_name=role_name,
            description=f"containment responder: {description}",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            handler=handler,
            code=lambda_.Code.from_asset(str(function_code_dir(handler)), exclude=[".complete"]),
            layers=[layer],
            role=self.role,
            timeout=Duration.seconds(timeout_s),
            memory_size=memory_mb,
            description=description,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                # pydantic looks for plugins in every installed distribution at the first model build.
                "PYDANTIC_DISABLE_PLUGINS": "__all__",
                **environment,
            },
        )
        self.log_group.grant_write(self.role)
        checkov_skip(self.log_group, "CKV_AWS_158", LOGS_AWS_MANAGED)
        for check, reason in FUNCTION_CHECKOV_TRIAGE.items():
            checkov_skip(self.function, check, reason)
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords and the EC2, Auto Scaling and ELB Describe* calls "
            "support no resource-level permissions; no mutating action is granted on '*'.",
        )

    def send_failures_to(self, queue: sqs.IQueue) -> None:
        """For functions invoked asynchronously (EventBridge, CloudFormation custom resources): an event
        that still fails after Lambda's retries goes to the queue, with the error, instead of being dropped.
        A rule's dead-letter queue does not cover this; it only catches events EventBridge could not deliver."""
        self.function.configure_async_invoke(
            on_failure=destinations.SqsDestination(queue),
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=ASYNC_MAX_EVENT_AGE,
        )

    def use_table(self, table: ddb.ITable, write: bool) -> None:
        """Item-level access to the table itself (not its indexes): what the handlers call, no more."""
        actions = ["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query"]
        if write:
            actions += [
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:ConditionCheckItem",
            ]
        self.allow(actions, [table.table_arn])

    def publish_to(self, topic: sns.ITopic, key: kms.IKey) -> None:
        self.publishes = True
        self.allow(["sns:Publish"], [topic.topic_arn])
        self.allow(["kms:GenerateDataKey", "kms:Decrypt"], [key.key_arn])
