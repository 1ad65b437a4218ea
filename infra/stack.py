"""The responder stack: one stack built from single-purpose constructs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.bundling import layer_dir
from infra.config import ResponderConfig
from infra.constructs.approval_api import ApprovalApi
from infra.constructs.function import RUNTIME
from infra.constructs.monitoring import Monitoring
from infra.constructs.notifications import Notifications
from infra.constructs.onboarding import DefaultPreferences
from infra.constructs.queues import failure_queue
from infra.constructs.state import State
from infra.constructs.triggers import Triggers
from infra.constructs.workflow import WorkflowInputs, Workflows


class ResponderStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: ResponderConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(layer_dir()), exclude=[".complete"]),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description="Powertools and pydantic for the containment responder",
        )
        state = State(self, "State")
        notifications = Notifications(self, "Notifications", config.notification_email)
        approval = ApprovalApi(
            self,
            "Approval",
            layer=layer,
            incidents=state.incidents,
            cloudwatch_role=config.api_gateway_cloudwatch_role,
        )
        workflows = Workflows(
            self,
            "Workflows",
            WorkflowInputs(
                config=config,
                layer=layer,
                incidents=state.incidents,
                preferences=state.preferences,
                topic=notifications.topic,
                topic_key=notifications.key,
                signing_secret_arn=approval.secret.secret_arn,
                approval_api_url=approval.url,
            ),
        )
        approval.handler.allow(["states:SendTaskSuccess", "states:SendTaskFailure"], [workflows.containment_arn])
        # Asynchronous invocations (the Security Hub intake, custom resources) that failed after Lambda's retries.
        failures = failure_queue(
            self, "FailedInvocations", "asynchronous invocations that failed after Lambda's retries"
        )
        workflows.functions["Reverify"].send_failures_to(failures)  # scheduled: invoked asynchronously
        triggers = Triggers(
            self,
            "Triggers",
            containment=workflows.containment,
            layer=layer,
            security_hub=config.security_hub,
            failures=failures,
        )
        DefaultPreferences(self, "Onboarding", layer=layer, table=state.preferences, failures=failures)
        Monitoring(
            self,
            "Monitoring",
            topic=notifications.topic,
            topic_key=notifications.key,
            state_machines={"Containment": workflows.containment, "Restore": workflows.restore},
            queues={"FailedInvocations": failures, "RuleDeadLetters": triggers.dead_letters},
            intake=triggers.intake.function if triggers.intake else None,
            reverify=workflows.functions["Reverify"].function,
        )

        workflows.protect_own([r.role_arn for r in self.node.find_all() if isinstance(r, iam.Role)])
        notifications.only_these_publish([f.role.role_arn for f in workflows.functions.values() if f.publishes])

        outputs = {
            "IncidentsTable": state.incidents.table_name,
            "PreferencesTable": state.preferences.table_name,
            "ContainmentStateMachine": workflows.containment.state_machine_arn,
            "RestoreStateMachine": workflows.restore.state_machine_arn,
            "ApprovalApiUrl": approval.url,
            "NotificationTopic": notifications.topic.topic_arn,
        }
        for key, value in outputs.items():
            CfnOutput(self, key, value=value)
