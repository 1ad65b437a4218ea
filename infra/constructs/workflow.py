"""Containment and restore workflows (Step Functions Standard) and the functions behind their tasks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.config import ResponderConfig
from infra.constructs.function import ResponderFunction
from infra.constructs.permissions import (
    EC2_READ,
    deny_all_policy,
    deny_changes_to,
    grant_ec2_write,
    grant_principal_and_bucket_writes,
    grant_reads,
)
from infra.constructs.state import STATUS_INDEX
from infra.nag import LOGS_AWS_MANAGED, acknowledge, checkov_skip

LAMBDA_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
]
# Raised by the handlers for conditions worth another try (optimistic-lock contention).
RETRYABLE = ["ConcurrentUpdate"]


# The functions that read or change resources, and so may act in member accounts through the member role.
MEMBER_CALLERS = ("Triage", "Plan", "Contain", "Verify", "RestoreApply", "RestoreVerify", "Reverify")
# The functions that write incident state changes back to Security Hub.
WRITE_BACK_CALLERS = ("Triage", "RequestApproval", "Notify", "Finalize", "RestoreVerify")


def member_caller_role_name(stack_name: str, function: str) -> str:
    """The fixed role name of a function that member accounts trust: `<stack>-<function>`."""
    return f"{stack_name}-{function}"[:64]


@dataclass(frozen=True)
class WorkflowInputs:
    config: ResponderConfig
    layer: lambda_.ILayerVersion
    incidents: ddb.ITable
    preferences: ddb.ITable
    topic: sns.ITopic
    topic_key: kms.IKey
    signing_secret_arn: str
    approval_api_url: str


class Workflows(Construct):
    def __init__(self, scope: Construct, construct_id: str, inputs: WorkflowInputs) -> None:
        super().__init__(scope, construct_id)
        cfg = inputs.config
        stack = Stack.of(self)
        table_env = {"INCIDENTS_TABLE": inputs.incidents.table_name}
        topic_env = {"TOPIC_ARN": inputs.topic.topic_arn}
        self._inputs = inputs
        self._function_scope = Construct(self, "Functions")
        self.functions: dict[str, ResponderFunction] = {}
        self.deny_all = deny_all_policy(self, stack.stack_name)
        # Triage starts one containment execution per further bucket an S3 finding names. The machine's ARN
        # is built from its fixed name: a reference to the machine would make a dependency cycle (the
        # machine depends on this function).
        containment_arn = (
            f"arn:{stack.partition}:states:{stack.region}:{stack.account}:stateMachine:{stack.stack_name}-containment"
        )
        triage = self._fn(
            "Triage",
            "responder.handlers.triage.handler",
            "triage findings",
            {
                **table_env,
                "PROTECTED_ARNS": json.dumps(cfg.protected_arns),
                "CONTAINMENT_STATE_MACHINE_ARN": containment_arn,
            },
        )
        triage.allow(["states:StartExecution"], [containment_arn])
        triage.allow(["ec2:DescribeInstances"], ["*"])
        triage.allow(["iam:GetUser", "iam:GetRole"], [self._iam_arn("user/*"), self._iam_arn("role/*")])
        triage.allow(["s3:GetBucketTagging"], [f"arn:{stack.partition}:s3:::*"])
        triage.acknowledge_resources(
            [
                "arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*",
                "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*",
                "arn:<AWS::Partition>:s3:::*",
            ],
            "Triage reads the tags of the user, role or bucket a finding names (to honour responder:exempt); "
            "which one is known only at run time.",
        )
        triage.use_table(inputs.incidents, write=True)

        evaluate = self._fn(
            "Evaluate",
            "responder.handlers.evaluate.handler",
            "evaluate containment preferences",
            {**table_env, "PREFERENCES_TABLE": inputs.preferences.table_name},
        )
        evaluate.use_table(inputs.incidents, write=True)
        evaluate.use_table(inputs.preferences, write=False)

        # A contained bucket still admits, by exact ARN, the roles of the functions that read, change and
        # restore it in this account (fixed names), and the operator's break-glass principals.
        exempt = [self._iam_arn(f"role/{member_caller_role_name(stack.stack_name, f)}") for f in MEMBER_CALLERS]
        exempt += cfg.break_glass_arns
        containment_env = {
            **table_env,
            "ISOLATION_MODE": cfg.isolation_mode,
            "DENY_ALL_POLICY_NAME": f"{stack.stack_name}-deny-all",
            "EXEMPT_PRINCIPALS": stack.to_json_string(exempt),
        }
        plan = self._fn("Plan", "responder.handlers.plan.handler", "plan containment and its impact", containment_env)
        plan.use_table(inputs.incidents, write=False)
        plan.allow(
            [
                *EC2_READ,
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
                "iam:ListAccountAliases",
            ],
            ["*"],
        )
        # The plan reads the user's keys and policies, the bucket's configuration and the IP set it will
        # change, in this account as in member accounts (there through the member role).
        grant_reads(plan, self)

        record = self._fn("Record", "responder.handlers.record.handler", "record pre-state", table_env)
        record.use_table(inputs.incidents, write=True)

        request = self._fn(
            "RequestApproval",
            "responder.handlers.request_approval.handler",
            "request approval",
            {
                **table_env,
                **topic_env,
                "SIGNING_SECRET_ID": inputs.signing_secret_arn,
                "APPROVAL_API_URL": inputs.approval_api_url,
                "APPROVAL_TIMEOUT_SECONDS": str(cfg.approval_timeout_seconds),
            },
        )
        request.use_table(inputs.incidents, write=True)
        request.publish_to(inputs.topic, inputs.topic_key)
        request.allow(["secretsmanager:GetSecretValue"], [inputs.signing_secret_arn])

        contain = self._fn(
            "Contain",
            "responder.handlers.contain.handler",
            "apply containment",
            containment_env,
            300,
        )
        contain.use_table(inputs.incidents, write=True)
        grant_ec2_write(contain, self, containing=True)
        grant_principal_and_bucket_writes(contain, self, self.deny_all.managed_policy_arn, containing=True)

        verify = self._fn("Verify", "responder.handlers.verify.handler", "verify containment", containment_env)
        verify.use_table(inputs.incidents, write=True)
        verify.allow(EC2_READ, ["*"])
        grant_reads(verify, self)

        self._reverify(containment_env, topic_env)

        notify = self._fn("Notify", "responder.handlers.notify.handler", "email outcomes", {**table_env, **topic_env})
        notify.use_table(inputs.incidents, write=False)
        notify.publish_to(inputs.topic, inputs.topic_key)

        finalize = self._fn(
            "Finalize",
            "responder.handlers.finalize.handler",
            "record failures and expiry",
            {**table_env, **topic_env},
        )
        finalize.use_table(inputs.incidents, write=True)
        finalize.publish_to(inputs.topic, inputs.topic_key)

        restore_begin = self._fn("RestoreBegin", "responder.handlers.restore.begin", "begin restore", containment_env)
        restore_begin.use_table(inputs.incidents, write=True)
        restore_apply = self._fn(
            "RestoreApply",
            "responder.handlers.restore.apply",
            "apply restore",
            containment_env,
            300,
        )
        restore_apply.use_table(inputs.incidents, write=True)
        # A WAF block stays while another open incident needs it: found through the status index.
        restore_apply.allow(["dynamodb:Query"], [f"{inputs.incidents.table_arn}/index/{STATUS_INDEX}"])
        grant_ec2_write(restore_apply, self, containing=False)
        grant_principal_and_bucket_writes(restore_apply, self, self.deny_all.managed_policy_arn, containing=False)
        restore_verify = self._fn(
            "RestoreVerify", "responder.handlers.restore.verify", "verify restore", containment_env
        )
        restore_verify.use_table(inputs.incidents, write=True)
        restore_verify.allow(EC2_READ, ["*"])
        grant_reads(restore_verify, self)

        self.containment = self._containment_machine(cfg)
        self.restore = self._restore_machine()
        # Built from the name, not a reference: the approval API's function needs it, and the workflow
        # needs the approval API's URL, so a reference would be a cycle.
        self.containment_arn = (
            f"arn:{stack.partition}:states:{stack.region}:{stack.account}:stateMachine:{stack.stack_name}-containment"
        )

    def _reverify(self, containment_env: dict[str, str], topic_env: dict[str, str]) -> None:
        """Every CONTAINED resource verified again on a schedule; re-contained where its rule says so."""
        inputs = self._inputs
        minutes = inputs.config.reverify_minutes
        fn = self._fn(
            "Reverify",
            "responder.handlers.reverify.handler",
            "re-verify contained resources",
            {**containment_env, **topic_env},
            600,
        )
        fn.use_table(inputs.incidents, write=True)
        fn.allow(["dynamodb:Query"], [f"{inputs.incidents.table_arn}/index/{STATUS_INDEX}"])
        fn.publish_to(inputs.topic, inputs.topic_key)
        fn.allow(EC2_READ, ["*"])
        grant_reads(fn, self)
        grant_ec2_write(fn, self, containing=True)  # on_drift: recontain
        grant_principal_and_bucket_writes(fn, self, self.deny_all.managed_policy_arn, containing=True)
        events.Rule(
            self,
            "ReverifySchedule",
            description="Re-verify every contained resource",
            schedule=events.Schedule.rate(Duration.minutes(max(minutes, 1))),
            enabled=minutes > 0,
            targets=[targets.LambdaFunction(fn.function, retry_attempts=0)],
        )

    def protect_own(self, roles: list[str]) -> None:
        """Give Triage the exact ARNs of the responder's own roles (every role in the stack, as deployed)
        and state machines, which it never contains. Called once the stack holds all its roles."""
        stack = Stack.of(self)
        machines = [
            f"arn:{stack.partition}:states:{stack.region}:{stack.account}:stateMachine:{stack.stack_name}-{name}"
            for name in ("containment", "restore")
        ]
        self.functions["Triage"].function.add_environment("OWN_ARNS", stack.to_json_string([*roles, *machines]))
        for name in ("Contain", "RestoreApply", "Reverify"):
            deny_changes_to(self.functions[name].role, roles)

    # -- helpers ---------------------------------------------------------------------------------
    def _fn(
        self,
        name: str,
        handler: str,
        description: str,
        env: dict[str, str],
        timeout_s: int = 60,
    ) -> ResponderFunction:
        stack = Stack.of(self)
        cfg = self._inputs.config
        member = name in MEMBER_CALLERS
        if member:
            env = {
                **env,
                "RESPONDER_ACCOUNT_ID": stack.account,
                "MEMBER_ROLE_NAME": cfg.member_role_name,
                **({"MEMBER_EXTERNAL_ID": cfg.member_external_id} if cfg.member_external_id else {}),
            }
        fn = ResponderFunction(
            self._function_scope,
            name,
            handler=handler,
            layer=self._inputs.layer,
            environment=env,
            description=description,
            timeout_s=timeout_s,
            role_name=member_caller_role_name(stack.stack_name, name) if member else None,
        )
        if member and cfg.member_external_id:
            fn.allow(["sts:AssumeRole"], [f"arn:{stack.partition}:iam::*:role/{cfg.member_role_name}"])
            fn.acknowledge_resources(
                [f"arn:<AWS::Partition>:iam::*:role/{cfg.member_role_name}"],
                "The member role has one name in every member account; the account is the finding's.",
            )
        if name in WRITE_BACK_CALLERS and cfg.security_hub:
            fn.allow(
                ["securityhub:BatchUpdateFindings"],
                [f"arn:{stack.partition}:securityhub:{stack.region}:{stack.account}:hub/default"],
            )
        self.functions[name] = fn
        return fn

    def _iam_arn(self, resource: str) -> str:
        stack = Stack.of(self)
        return f"arn:{stack.partition}:iam::{stack.account}:{resource}"

    def _task(
        self,
        name: str,
        fn: ResponderFunction,
        payload: dict[str, Any],
        selector: dict[str, Any] | None,
        result_path: str | None,
        failure: sfn.IChainable | None,
    ) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self,
            name,
            lambda_function=fn.function,
            payload=sfn.TaskInput.from_object(payload),
            result_selector=selector,
            result_path=result_path if result_path is not None else sfn.JsonPath.DISCARD,
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(Duration.minutes(6)),
        )
        task.add_retry(
            errors=LAMBDA_TRANSIENT,
            interval=Duration.seconds(1),
            max_attempts=6,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        task.add_retry(errors=RETRYABLE, interval=Duration.seconds(1), max_attempts=3, backoff_rate=2)
        if failure is not None:
            task.add_catch(failure, errors=["States.ALL"], result_path="$.error")
        return task

    def _log_group(self, name: str) -> logs.LogGroup:
        group = logs.LogGroup(
            self, f"{name}Logs", retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.RETAIN
        )
        checkov_skip(group, "CKV_AWS_158", LOGS_AWS_MANAGED)
        return group

    def _machine(self, name: str, definition: sfn.IChainable, timeout: Duration) -> sfn.StateMachine:
        machine = sfn.StateMachine(
            self,
            name,
            state_machine_name=f"{Stack.of(self).stack_name}-{name.lower()}",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            tracing_enabled=True,
            timeout=timeout,
            logs=sfn.LogOptions(
                destination=self._log_group(name), level=sfn.LogLevel.ALL, include_execution_data=False
            ),
        )
        reason = (
            "Step Functions' Lambda integration is granted each task function's ARN and its qualified ARNs "
            "(versions and aliases): only the workflow's own functions."
        )
        for fn in self.functions.values():
            token = Stack.of(self).resolve(fn.function.node.default_child.logical_id)  # type: ignore[union-attr]
            acknowledge(machine.role, f"AwsSolutions-IAM5[Resource::<{token}.Arn>:*]", reason)
        acknowledge(
            machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "CloudWatch Logs delivery (logs:CreateLogDelivery and related) and X-Ray tracing support no "
            "resource-level permissions.",
        )
        return machine

    # -- containment -----------------------------------------------------------------------------
    def _containment_machine(self, cfg: ResponderConfig) -> sfn.StateMachine:
        f = self.functions
        iid = {"incident_id.$": "$.incident_id"}
        done = sfn.Succeed(self, "Done")
        failed = sfn.Fail(self, "ContainmentFailed", error_path="$.error.Error", cause_path="$.error.Cause")
        mark_failed = self._task(
            "MarkFailed",
            f["Finalize"],
            {**iid, "outcome": "FAILED", "error.$": "$.error"},
            None,
            None,
            None,
        ).next(failed)
        rejected = sfn.Fail(self, "FindingRejected", error_path="$.error.Error", cause_path="$.error.Cause")
        # A malformed finding is refused quietly (the alarm on failed executions still counts it); any other
        # triage failure (a member account that cannot be reached, a throttled read) is emailed first.
        report = self._task(
            "ReportTriageFailure",
            f["Notify"],
            {"triage_error.$": "$.error", "execution_arn.$": "$$.Execution.Id"},
            None,
            None,
            rejected,
        ).next(rejected)
        triage_failed = (
            sfn.Choice(self, "TriageFailureKind")
            .when(sfn.Condition.string_equals("$.error.Error", "MalformedFinding"), rejected)
            .otherwise(report)
        )

        triage = self._task(
            "Triage",
            f["Triage"],
            {"event.$": "$", "execution_arn.$": "$$.Execution.Id"},
            {"incident_id.$": "$.Payload.incident_id", "outcome.$": "$.Payload.outcome"},
            "$",
            triage_failed,
        )
        evaluate = self._task(
            "Evaluate",
            f["Evaluate"],
            iid,
            {
                "mode.$": "$.Payload.mode",
                "on_timeout.$": "$.Payload.on_timeout",
                "dry_run.$": "$.Payload.dry_run",
                "rule_id.$": "$.Payload.rule_id",
            },
            "$.decision",
            mark_failed,
        )
        plan = self._task("Plan", f["Plan"], iid, {"value.$": "$.Payload.plan"}, "$.plan", mark_failed)
        record = self._task(
            "RecordPreState",
            f["Record"],
            {**iid, "plan.$": "$.plan.value"},
            {"status.$": "$.Payload.status"},
            "$.plan",
            mark_failed,
        )
        request = tasks.LambdaInvoke(
            self,
            "RequestApproval",
            lambda_function=f["RequestApproval"].function,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object({**iid, "task_token": sfn.JsonPath.task_token}),
            result_path="$.approval",
            task_timeout=sfn.Timeout.duration(Duration.seconds(cfg.approval_timeout_seconds)),
            retry_on_service_exceptions=False,
        )
        request.add_retry(errors=LAMBDA_TRANSIENT, interval=Duration.seconds(1), max_attempts=6, backoff_rate=2)
        contain_after = {
            trigger: self._task(
                f"Contain{trigger.capitalize()}",
                f["Contain"],
                {**iid, "trigger": trigger},
                None,
                None,
                mark_failed,
            )
            for trigger in ("auto", "approved", "timeout")
        }
        verify = self._task("Verify", f["Verify"], iid, None, None, mark_failed)
        notify = self._task("NotifyOutcome", f["Notify"], iid, None, None, mark_failed)
        expire = self._task("MarkExpired", f["Finalize"], {**iid, "outcome": "EXPIRED"}, None, None, mark_failed)
        on_timeout = (
            sfn.Choice(self, "OnApprovalTimeout")
            .when(sfn.Condition.string_equals("$.decision.on_timeout", "contain"), contain_after["timeout"])
            .otherwise(expire)
        )
        request.add_catch(on_timeout, errors=["States.Timeout"], result_path="$.timeout")
        request.add_catch(mark_failed, errors=["States.ALL"], result_path="$.error")

        # Notify and MarkExpired end the execution themselves: a Succeed state after them is a billed
        # transition that does no work.
        verify.next(notify)
        for task in contain_after.values():
            task.next(verify)
        decision = (
            sfn.Choice(self, "ApprovalDecision")
            .when(sfn.Condition.string_equals("$.approval.decision", "approved"), contain_after["approved"])
            .otherwise(notify)
        )
        request.next(decision)
        by_status = (
            sfn.Choice(self, "RouteByStatus")
            .when(sfn.Condition.string_equals("$.plan.status", "CONTAINING"), contain_after["auto"])
            .when(sfn.Condition.string_equals("$.plan.status", "PENDING_APPROVAL"), request)
            .otherwise(notify)
        )
        record.next(by_status)
        plan.next(record)
        after_decision = (
            sfn.Choice(self, "IgnoredByPreference")
            .when(sfn.Condition.string_equals("$.decision.mode", "ignore"), done)
            .otherwise(plan)
        )
        evaluate.next(after_decision)
        after_triage = (
            sfn.Choice(self, "NewIncident")
            .when(sfn.Condition.string_equals("$.outcome", "new"), evaluate)
            # A protected resource is never contained, and the team is told that a finding named it.
            .when(sfn.Condition.string_equals("$.outcome", "protected"), notify)
            .when(sfn.Condition.string_equals("$.outcome", "unhandled"), notify)
            .otherwise(done)
        )
        definition = triage.next(after_triage)
        return self._machine("Containment", definition, Duration.seconds(cfg.approval_timeout_seconds + 2 * 3600))

    # -- restore ---------------------------------------------------------------------------------
    def _restore_machine(self) -> sfn.StateMachine:
        f = self.functions
        iid = {"incident_id.$": "$.incident_id"}
        done = sfn.Succeed(self, "RestoreDone")
        failed = sfn.Fail(self, "RestoreFailed", error_path="$.error.Error", cause_path="$.error.Cause")
        refused = sfn.Fail(self, "RestoreRefused", error_path="$.error.Error", cause_path="$.error.Cause")
        mark_failed = self._task(
            "MarkRestoreFailed",
            f["Finalize"],
            {**iid, "outcome": "FAILED", "error.$": "$.error"},
            None,
            None,
            None,
        ).next(failed)
        begin = self._task(
            "BeginRestore",
            f["RestoreBegin"],
            {**iid, "options.$": "$"},
            {"outcome.$": "$.Payload.outcome"},
            "$.begin",
            refused,
        )
        apply = self._task("RestoreResource", f["RestoreApply"], iid, None, None, mark_failed)
        verify = self._task("VerifyRestore", f["RestoreVerify"], iid, None, None, mark_failed)
        notify = self._task("NotifyRestored", f["Notify"], iid, None, None, mark_failed)
        apply.next(verify).next(notify)
        choice = (
            sfn.Choice(self, "AlreadyRestored")
            .when(sfn.Condition.string_equals("$.begin.outcome", "noop"), done)
            .otherwise(apply)
        )
        return self._machine("Restore", begin.next(choice), Duration.hours(1))
