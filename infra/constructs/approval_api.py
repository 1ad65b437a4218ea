"""Approval API: API Gateway REST in front of the approval function, and the link-signing secret."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.function import ResponderFunction
from infra.nag import LOGS_AWS_MANAGED, acknowledge, checkov_skip

API_ACKNOWLEDGMENTS = {
    "AwsSolutions-APIG4": "Approval links are capability URLs: each carries an HMAC-SHA256 signature with an expiry, "
    "is single-use, and only a POST with the page's nonce decides. Email recipients have no IAM or Cognito identity.",
    "AwsSolutions-COG4": "See APIG4: authorization is the signed, expiring, single-use link.",
    "AwsSolutions-APIG3": "The stage is throttled (10 rps, burst 20); teams that run AWS WAF associate their own web "
    "ACL with the stage.",
    "AwsSolutions-APIG6": "Access logging is on (without the query string). Execution logging is off: it would "
    "record each approval link's query string, which carries the link's signature.",
}
# Stage access logging needs the account's API Gateway CloudWatch role: CloudFormation refuses to create
# the stage without it ("CloudWatch Logs role ARN must be set in account settings to enable logging").
CLOUDWATCH_ROLE_REASON = (
    "AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for the account's API Gateway "
    "CloudWatch role; it is assumable only by apigateway.amazonaws.com and writes only to CloudWatch Logs."
)


class ApprovalApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layer: lambda_.ILayerVersion,
        incidents: ddb.ITable,
        cloudwatch_role: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "SigningSecret",
            description="HMAC key that signs the containment responder's approval links",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "Rotating the HMAC key would invalidate approval links already emailed; rotate it by hand between "
            "incidents (put a new random value) when required.",
        )
        self.handler = ResponderFunction(
            self,
            "Handler",
            handler="responder.handlers.approval_api.handler",
            layer=layer,
            environment={
                "INCIDENTS_TABLE": incidents.table_name,
                "SIGNING_SECRET_ID": self.secret.secret_arn,
            },
            description="approval pages and decisions",
        )
        self.handler.use_table(incidents, write=True)
        self.secret.grant_read(self.handler.role)

        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.RETAIN
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            description="Containment responder approval links",
            # The account-wide API Gateway setting: created here unless the account manages it elsewhere
            # (`apiGatewayCloudWatchRole=false`), and kept on delete, since other APIs may rely on it.
            cloud_watch_role=cloudwatch_role,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if cloudwatch_role else None,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            deploy_options=apigw.StageOptions(
                stage_name="v1",
                tracing_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                throttling_rate_limit=10,
                throttling_burst_limit=20,
            ),
        )
        validator = self.api.add_request_validator(
            "Params", validate_request_parameters=True, validate_request_body=True
        )
        integration = apigw.LambdaIntegration(self.handler.function, proxy=True)
        resource = self.api.root.add_resource("approvals").add_resource("{approval_id}")
        for method in ("GET", "POST"):
            resource.add_method(
                method,
                integration,
                request_validator=validator,
                request_parameters={"method.request.path.approval_id": True},
            )
        for rule, reason in API_ACKNOWLEDGMENTS.items():
            acknowledge(self.api, rule, reason)
        if cloudwatch_role:
            role = self.api.node.find_child("CloudWatchRole")
            acknowledge(
                role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                CLOUDWATCH_ROLE_REASON,
            )
        for child in resource.node.children:
            if isinstance(child, apigw.Method):
                checkov_skip(child, "CKV_AWS_59", "Approval links are opened by email recipients with no AWS "
                             "identity; each link is HMAC-signed, expiring and single-use, and deciding needs a "
                             "POST with the page's nonce.")  # fmt: skip
        checkov_skip(self.api.deployment_stage, "CKV_AWS_120", "Approval pages are single-use and must never "
                     "be served from a cache.")  # fmt: skip
        checkov_skip(access_logs, "CKV_AWS_158", LOGS_AWS_MANAGED)
        checkov_skip(self.secret, "CKV_AWS_149", "Encrypted with the Secrets Manager service key; only the "
                     "approval function's role may read it (resource-scoped grant).")  # fmt: skip

    @property
    def url(self) -> str:
        return self.api.url
