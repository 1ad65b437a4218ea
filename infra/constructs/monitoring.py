"""Monitoring: CloudWatch alarms to the notification topic when the responder itself fails, and a dashboard."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.function import METRICS_NAMESPACE, SERVICE_NAME

PERIOD = Duration.minutes(5)
# The responder's own metrics (Powertools EMF, namespace and `service` dimension from the functions'
# environment) that mean something went wrong: metric name -> what the alarm tells the operator.
RESPONDER_ALARMS = {
    "FindingsUntrusted": "A Security Hub finding from a product that is not an AWS service's own was dropped by "
    "the intake: someone may be importing forged findings (BatchImportFindings).",
    "SecurityHubWriteBackFailures": "The responder could not write an incident's state back to Security Hub "
    "(BatchUpdateFindings); the incident itself is unaffected.",
    "ContainmentDrift": "The scheduled re-verification found a contained resource reopened (a rule added to the "
    "isolation group, the deny-all detached, the bucket statement removed): see the [REOPENED] email.",
    "ReverifyErrors": "The scheduled re-verification could not read some contained resources (their account could "
    "not be reached, or a read failed): their containment is unchecked until it can.",
    "EvidenceOfTampering": "Containment found the resource's owner had written under the responder's reserved "
    "names (a decoy inline policy or bucket statement) or changed the deny-all managed policy: someone expected "
    "the responder. The incident's timeline holds the foreign content.",
    "TriageFailures": "A finding could not be triaged for a reason other than being malformed (a member account "
    "that cannot be reached, a failed read): nothing was contained for it. See the [FAILED] triage email.",
    "ApprovalsExpired": "An approval request expired unanswered: the incident was left uncontained (EXPIRED) or "
    "contained by an on_timeout rule without a person deciding.",
}
# Incident statuses a run ends in (`IncidentsByStatus`, dimension `status`), for the dashboard.
DASHBOARD_STATUSES = ("CONTAINED", "REJECTED", "NOTIFIED", "EXPIRED", "FAILED", "RESTORED")


class Monitoring(Construct):
    """Alarms on: failed, timed-out and aborted executions of each workflow; the first message on every
    dead-letter and on-failure queue; intake errors; untrusted findings, write-back failures, expired
    approvals, and contained resources found reopened or left unchecked by the scheduled re-verification. Every alarm notifies the topic. A dashboard shows incidents by status and time to contain."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        topic_key: kms.IKey,
        state_machines: Mapping[str, sfn.IStateMachine],
        queues: Mapping[str, sqs.IQueue],
        intake: lambda_.IFunction | None,
        reverify: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self._prefix = stack.stack_name
        self._action = cw_actions.SnsAction(topic)
        self.alarms: list[cw.Alarm] = []
        self._allow_cloudwatch(topic, topic_key)

        for name, machine in state_machines.items():
            for suffix, metric, what in (
                ("Failed", machine.metric_failed(period=PERIOD), "failed"),
                ("TimedOut", machine.metric_timed_out(period=PERIOD), "timed out"),
                ("Aborted", machine.metric_aborted(period=PERIOD), "was aborted"),
            ):
                self._alarm(
                    f"{name}Executions{suffix}",
                    metric,
                    f"A {name.lower()} workflow execution {what}: an incident may be left half done. Open the "
                    "execution in Step Functions and the incident with `responder incidents show`.",
                )
        for name, queue in queues.items():
            self._alarm(
                f"{name}Messages",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                f"An event is waiting on the {name} queue: it never reached the containment workflow. Read "
                "the message (it names the error), fix the cause, and replay it.",
                threshold=0,
                comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            )
        if intake is not None:
            self._alarm(
                "IntakeErrors",
                intake.metric_errors(period=PERIOD, statistic="Sum"),
                "The Security Hub intake failed on an event; Lambda retries it twice, then sends it to the "
                "FailedInvocations queue.",
            )
        self._alarm(
            "ReverifyFunctionErrors",
            reverify.metric_errors(period=PERIOD, statistic="Sum"),
            "The scheduled re-verification of contained resources failed: some may be reopened unnoticed. Its log "
            "names the incidents it could not read.",
        )
        for metric_name, description in RESPONDER_ALARMS.items():
            self._alarm(metric_name, self.responder_metric(metric_name), description)

        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{self._prefix}-responder")
        self.dashboard.add_widgets(
            cw.GraphWidget(
                title="Incidents by status (runs ending in each status)",
                left=[
                    self.responder_metric("IncidentsByStatus", {"status": status}, period=Duration.hours(1))
                    for status in DASHBOARD_STATUSES
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="Time to contain (seconds, finding to verified containment)",
                left=[
                    self.responder_metric("TimeToContain", statistic="p50", period=Duration.hours(1)),
                    self.responder_metric("TimeToContain", statistic="p90", period=Duration.hours(1)),
                    self.responder_metric("TimeToContain", statistic="Maximum", period=Duration.hours(1)),
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(cw.AlarmStatusWidget(title="Responder alarms", alarms=self.alarms, width=24))

    @staticmethod
    def responder_metric(
        name: str,
        dimensions: Mapping[str, str] | None = None,
        statistic: str = "Sum",
        period: Duration = PERIOD,
    ) -> cw.Metric:
        return cw.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"service": SERVICE_NAME, **(dimensions or {})},
            statistic=statistic,
            period=period,
        )

    def _alarm(
        self,
        construct_id: str,
        metric: cw.IMetric,
        description: str,
        threshold: float = 1,
        comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) -> cw.Alarm:
        alarm = cw.Alarm(
            self,
            construct_id,
            alarm_name=f"{self._prefix}-{construct_id}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            actions_enabled=True,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def _allow_cloudwatch(self, topic: sns.ITopic, key: kms.IKey) -> None:
        """CloudWatch publishes alarm notifications as its service principal: the topic's policy (which
        replaces SNS's default one) must allow it, and so must the key that encrypts the topic, or the
        notifications are dropped (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html)."""
        account = Stack.of(self).account
        cloudwatch = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        same_account = {"StringEquals": {"aws:SourceAccount": account}}
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=same_account,
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is the key itself
                conditions=same_account,
            )
        )
