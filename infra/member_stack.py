"""MemberRoleStack: the role the responder assumes in a member account, with exactly the permissions its
actions need there, trusting only the responder's functions that act on resources.

One self-contained template (no assets, no bootstrap): deploy it per account with `cdk deploy`, or to
every member account through a CloudFormation StackSet (README, "Many accounts").
"""

from __future__ import annotations

from aws_cdk import CfnOutput, CfnParameter, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs.function import RoleGrants
from infra.constructs.permissions import (
    deny_all_policy,
    deny_changes_to,
    grant_ec2_write,
    grant_principal_and_bucket_writes,
)
from infra.constructs.workflow import MEMBER_CALLERS, member_caller_role_name
from infra.nag import acknowledge
from responder.models.common import ACCOUNT_ID, EXTERNAL_ID


class MemberRoleStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        responder_stack_name: str,
        member_role_name: str,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        security_account = CfnParameter(
            self,
            "SecurityAccountId",
            type="String",
            allowed_pattern=ACCOUNT_ID,
            description="The account the containment responder runs in (the security account)",
        ).value_as_string
        external_id = CfnParameter(
            self,
            "ExternalId",
            type="String",
            no_echo=True,
            min_length=2,
            max_length=1224,
            allowed_pattern=EXTERNAL_ID,
            description="The ExternalId the responder presents (its memberExternalId context value)",
        ).value_as_string

        callers = [
            f"arn:{self.partition}:iam::{security_account}:role/{member_caller_role_name(responder_stack_name, f)}"
            for f in MEMBER_CALLERS
        ]
        self.role = iam.Role(
            self,
            "MemberRole",
            role_name=member_role_name,
            description="Containment responder: contain and restore resources in this account",
            max_session_duration=Duration.hours(1),
            assumed_by=iam.AccountPrincipal(security_account).with_conditions(
                {"StringEquals": {"sts:ExternalId": external_id}, "ArnEquals": {"aws:PrincipalArn": callers}}
            ),
        )
        # The same deny-all managed policy the responder attaches in its own account, under the same name.
        deny_all = deny_all_policy(self, responder_stack_name)
        grants = RoleGrants(self.role)
        for containing in (True, False):
            grant_ec2_write(grants, self, containing=containing)
            grant_principal_and_bucket_writes(grants, self, deny_all.managed_policy_arn, containing=containing)
        deny_changes_to(self.role, [f"arn:{self.partition}:iam::{self.account}:role/{member_role_name}"])
        grants.allow(
            [
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
                "iam:ListAccountAliases",
            ],
            ["*"],
        )
        # The member role never changes itself, whatever a finding says.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=["iam:Attach*", "iam:Detach*", "iam:Put*", "iam:Delete*", "iam:Update*"],
                resources=[f"arn:{self.partition}:iam::{self.account}:role/{member_role_name}"],
            )
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "The EC2, Auto Scaling and ELB Describe* calls and iam:ListAccountAliases support no "
            "resource-level permissions; no mutating action is granted on '*'.",
        )
        CfnOutput(self, "MemberRoleArn", value=self.role.role_arn)
