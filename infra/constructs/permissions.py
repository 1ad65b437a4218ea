"""The permissions the containment actions need, granted to a function's role in the responder's
account or to the member role in a member account (MemberRoleStack): one definition for both."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs.function import Grants

IAM_READ = [
    "iam:ListAccessKeys",
    "iam:ListAttachedUserPolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListUserPolicies",
    "iam:ListRolePolicies",
    "iam:ListUserTags",
    "iam:ListRoleTags",
    "iam:GetRole",
    "iam:GetUser",
    "iam:GetUserPolicy",
    "iam:GetRolePolicy",
]
# The deny-all managed policy's default version is read back before it is relied on (issue 13, item 7).
IAM_POLICY_READ = ["iam:GetPolicy", "iam:GetPolicyVersion"]
# An instance's role is found through its instance profile (issue 13, item 10).
IAM_PROFILE_READ = ["iam:GetInstanceProfile"]
S3_READ = [
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketAcl",
    "s3:GetBucketTagging",
]
EC2_READ = [
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceAttribute",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSnapshots",
    "ec2:DescribeIamInstanceProfileAssociations",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeAutoScalingGroups",
]
MANAGED = {"StringEquals": {"aws:ResourceTag/responder:managed": "true"}}


def _iam_arn(scope: Construct, resource: str) -> str:
    stack = Stack.of(scope)
    return f"arn:{stack.partition}:iam::{stack.account}:{resource}"


def grant_reads(fn: Grants, scope: Construct) -> None:
    """Read the configuration of the users, roles, buckets and IP sets findings name."""
    stack = Stack.of(scope)
    fn.allow(IAM_READ, [_iam_arn(scope, "user/*"), _iam_arn(scope, "role/*")])
    fn.allow(IAM_POLICY_READ, [_iam_arn(scope, "policy/*")])
    fn.allow(IAM_PROFILE_READ, [_iam_arn(scope, "instance-profile/*")])
    fn.allow(S3_READ, [f"arn:{stack.partition}:s3:::*"])
    fn.allow(["wafv2:GetIPSet"], [f"arn:{stack.partition}:wafv2:*:{stack.account}:*/ipset/*/*"])
    fn.acknowledge_resources(
        [
            "arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*",
            "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*",
            "arn:<AWS::Partition>:iam::<AWS::AccountId>:policy/*",
            "arn:<AWS::Partition>:iam::<AWS::AccountId>:instance-profile/*",
            "arn:<AWS::Partition>:s3:::*",
            "arn:<AWS::Partition>:wafv2:*:<AWS::AccountId>:*/ipset/*/*",
        ],
        "The users, roles, buckets, WAF IP sets and instance profiles are named by findings, preferences and "
        "instances at run time; these statements only read their configuration. The deny-all policy's name is "
        "per stack and per member account, so its default version is read under policy/*.",
    )


def grant_principal_and_bucket_writes(fn: Grants, scope: Construct, deny_all_arn: str, containing: bool) -> None:
    """IAM, S3 and WAF changes, limited to the responder's deny-all policy where IAM allows it. The roles
    they must never change are denied by exact ARN (`deny_changes_to`)."""
    stack = Stack.of(scope)
    principals = [_iam_arn(scope, "user/*"), _iam_arn(scope, "role/*")]
    attach = (
        ["iam:AttachUserPolicy", "iam:AttachRolePolicy"]
        if containing
        else ["iam:DetachUserPolicy", "iam:DetachRolePolicy"]
    )
    fn.allow(attach, principals, {"ArnEquals": {"iam:PolicyARN": deny_all_arn}})
    inline = (
        ["iam:PutUserPolicy", "iam:PutRolePolicy"] if containing else ["iam:DeleteUserPolicy", "iam:DeleteRolePolicy"]
    )
    fn.allow(inline, principals)
    fn.allow(["iam:UpdateAccessKey"], [_iam_arn(scope, "user/*")])
    bucket_writes = (
        ["s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls", "s3:PutBucketAcl"]
        if containing
        else [
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutBucketOwnershipControls",
            "s3:PutBucketAcl",
        ]
    )
    fn.allow(bucket_writes, [f"arn:{stack.partition}:s3:::*"])
    fn.allow(["wafv2:GetIPSet", "wafv2:UpdateIPSet"], [f"arn:{stack.partition}:wafv2:*:{stack.account}:*/ipset/*/*"])
    grant_reads(fn, scope)


def deny_changes_to(role: iam.IRole, roles: list[str]) -> None:
    """Invariant 3: the responder never changes its own roles, whatever a finding says. Exact ARNs only: a
    name pattern would also cover roles an attacker creates under a look-alike name, and make them immune."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            effect=iam.Effect.DENY,
            actions=["iam:Attach*", "iam:Detach*", "iam:Put*", "iam:Delete*", "iam:Update*"],
            resources=roles,
        )
    )


def grant_ec2_write(fn: Grants, scope: Construct, containing: bool) -> None:
    stack = Stack.of(scope)
    arn = f"arn:{stack.partition}:ec2:*:{stack.account}"
    kinds = ["network-interface", "security-group", "instance"] + (["vpc", "volume"] if containing else [])
    fn.acknowledge_resources(
        [f"arn:<AWS::Partition>:ec2:*:<AWS::AccountId>:{kind}/*" for kind in kinds]
        + (["arn:<AWS::Partition>:ec2:*::snapshot/*"] if containing else [])
        + ["arn:<AWS::Partition>:autoscaling:*:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/*"],
        "The instance, its network interfaces, volumes and Auto Scaling group are named by findings at run "
        "time, in any region; group rule changes are limited to groups tagged responder:managed=true, and new groups "
        "and snapshots must carry that tag.",
    )
    fn.allow(EC2_READ, ["*"])
    # Swapping an ENI's groups needs the ENI and every group named; instance attributes need the instance.
    fn.allow(
        ["ec2:ModifyNetworkInterfaceAttribute"],
        [f"{arn}:network-interface/*", f"{arn}:security-group/*", f"{arn}:instance/*"],
    )
    fn.allow(["ec2:ModifyInstanceAttribute"], [f"{arn}:instance/*"])
    # The instance's credentials: metadata service off and back (both ways), profile detached / re-associated.
    fn.allow(["ec2:ModifyInstanceMetadataOptions"], [f"{arn}:instance/*"])
    # Standby takes the group's ARN; the group is found at run time, so any group of this account.
    asg = f"arn:{stack.partition}:autoscaling:*:{stack.account}:autoScalingGroup:*:autoScalingGroupName/*"
    if containing:
        fn.allow(["autoscaling:EnterStandby"], [asg])
        fn.allow(
            ["ec2:CreateSecurityGroup"],
            [f"{arn}:security-group/*"],
            {"StringEquals": {"aws:RequestTag/responder:managed": "true"}},
        )
        fn.allow(["ec2:CreateSecurityGroup"], [f"{arn}:vpc/*"])
        fn.allow(
            [
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:AuthorizeSecurityGroupEgress",
                "ec2:RevokeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupEgress",
            ],
            [f"{arn}:security-group/*"],
            MANAGED,
        )
        fn.allow(["ec2:CreateSnapshot"], [f"{arn}:volume/*"])
        fn.allow(
            ["ec2:CreateSnapshot"],
            [f"arn:{stack.partition}:ec2:*::snapshot/*"],
            {"StringEquals": {"aws:RequestTag/responder:managed": "true"}},
        )
        fn.allow(
            ["ec2:CreateTags"],
            [f"{arn}:security-group/*", f"arn:{stack.partition}:ec2:*::snapshot/*"],
            {"StringEquals": {"ec2:CreateAction": ["CreateSecurityGroup", "CreateSnapshot"]}},
        )
        fn.allow(["ec2:DisassociateIamInstanceProfile"], [f"{arn}:instance/*"])
    else:
        fn.allow(["autoscaling:ExitStandby"], [asg])
        # Re-associating the recorded instance profile passes its role to EC2, and only to EC2:
        # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/permission-to-pass-iam-roles.html
        fn.allow(["ec2:AssociateIamInstanceProfile"], [f"{arn}:instance/*"])
        fn.allow(
            ["iam:PassRole"],
            [f"arn:{stack.partition}:iam::{stack.account}:role/*"],
            {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        )
        fn.acknowledge_resources(
            ["arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*"],
            "Restore re-associates the instance profile the instance had before containment; its role is known "
            "only at run time. Passing is limited to EC2 (iam:PassedToService).",
        )


def deny_all_policy(scope: Construct, responder_stack_name: str) -> iam.ManagedPolicy:
    """The deny-all managed policy the responder attaches to contained principals, under the name it looks
    for in every account (`<stack>-deny-all`)."""
    return iam.ManagedPolicy(
        scope,
        "DenyAll",
        managed_policy_name=f"{responder_stack_name}-deny-all",
        description="Attached by the containment responder to contained IAM principals; detached on restore",
        statements=[
            iam.PolicyStatement(sid="ResponderDenyAll", effect=iam.Effect.DENY, actions=["*"], resources=["*"])
        ],
    )
