"""What IAM authorizes for each AWS call the responder makes: the action, the resource ARN(s) and the
request's condition context, built from the call's parameters and the emulator's state of the resource.

One table entry per (botocore service, operation). A call the table does not know raises `UnknownCall`,
so a new call must be declared here before the permission check passes. The action names and resource
types follow the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html):
where the IAM action differs from the operation (S3's public access block and deletes, DynamoDB
transactions) or one call authorizes several resources (EC2's tag-on-create, a network interface's
groups), the entry says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.support.iam_eval import ContextValue, Request

Tags = dict[str, str]


class UnknownCall(LookupError):
    """A call with no entry in the table: declare its action and resources before it can be checked."""


@dataclass(frozen=True)
class Target:
    """Where a call acts: the account and region of the caller's credentials and client."""

    account: str
    region: str
    partition: str = "aws"


class State:
    """Reads the emulator's state of a resource (its tags, its real ARN) as it is before the call."""

    def ec2_tags(self, target: Target, resource_id: str) -> Tags:
        from moto.ec2.models import ec2_backends

        return dict(ec2_backends[target.account][target.region].tags.get(resource_id, {}))

    def asg_tags(self, target: Target, name: str) -> Tags:
        from moto.autoscaling.models import autoscaling_backends

        group = autoscaling_backends[target.account][target.region].autoscaling_groups.get(name)
        return {t["Key"]: t.get("Value", "") for t in (group.tags if group else [])}

    def topic_key(self, target: Target, topic_arn: str) -> str | None:
        """The ARN of the KMS key a topic encrypts with (SNS calls KMS as the publisher), None if none."""
        from moto.kms.models import kms_backends
        from moto.sns.models import sns_backends

        account, region = topic_arn.split(":")[4], topic_arn.split(":")[3]
        topic = sns_backends[account][region].topics.get(topic_arn)
        key_id = topic.kms_master_key_id if topic else ""
        if not key_id:
            return None
        kms = kms_backends[account][region]
        return str(kms.describe_key(kms.any_id_to_key_id(key_id)).arn)

    def secret_arn(self, target: Target, secret_id: str) -> str:
        from moto.secretsmanager.models import secretsmanager_backends

        secrets = secretsmanager_backends[target.account][target.region].secrets
        return str(secrets[secret_id].arn) if secret_id in secrets else secret_id

    def instance_profile(self, target: Target, name: str) -> tuple[str, list[str]] | None:
        """An instance profile's real ARN (with its path) and its roles' real ARNs, None if it does not exist."""
        from moto.iam.models import iam_backends

        profile = iam_backends[target.account][target.partition].instance_profiles.get(name)
        if profile is None:
            return None
        return str(profile.arn), [str(role.arn) for role in profile.roles]

    def profile_association_instance(self, target: Target, association_id: str) -> str | None:
        """The instance an instance profile association belongs to."""
        from moto.ec2.models import ec2_backends

        associations = ec2_backends[target.account][target.region].iam_instance_profile_associations
        return next((i for i, a in associations.items() if a.association_id == association_id), None)

    def task_token_machine(self, target: Target, token: str) -> str | None:
        """The state machine whose running execution waits on this task token."""
        from moto.stepfunctions.models import stepfunctions_backends

        for machine in stepfunctions_backends[target.account][target.region].state_machines:
            for execution in getattr(machine, "executions", []):
                worker = getattr(execution, "exec_worker", None)
                pool = getattr(getattr(worker, "env", None), "callback_pool_manager", None)
                if pool is not None and pool.get(token) is not None:
                    return str(machine.arn)
        return None


Builder = Callable[[Target, Mapping[str, Any], State], list[Request]]
TABLE: dict[tuple[str, str], Builder] = {}
# Calls IAM never authorizes (any valid credentials may make them).
UNAUTHORIZED = {("sts", "GetCallerIdentity")}


def _entry(service: str, *operations: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        for operation in operations:
            TABLE[(service, operation)] = builder
        return builder

    return register


def _simple(service: str, prefix: str, operation: str, arn: Callable[[Target, Mapping[str, Any]], str]) -> None:
    def build(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
        return [Request(f"{prefix}:{operation}", arn(target, params))]

    TABLE[(service, operation)] = build


def _request_tags(params: Mapping[str, Any], resource_type: str) -> Tags:
    tags: Tags = {}
    for spec in params.get("TagSpecifications", []):
        if spec.get("ResourceType") == resource_type:
            tags.update({t["Key"]: t.get("Value", "") for t in spec.get("Tags", [])})
    return tags


def _tag_context(prefix: str, tags: Tags) -> dict[str, ContextValue]:
    out: dict[str, ContextValue] = {f"aws:{prefix}/{k}": v for k, v in tags.items()}
    if prefix == "RequestTag":
        out["aws:TagKeys"] = sorted(tags)
    return out


# -- EC2, Auto Scaling, ELB -------------------------------------------------------------------------


def _ec2_arn(target: Target, kind: str, resource_id: str) -> str:
    account = "" if kind == "snapshot" else target.account  # snapshots' ARNs name no account
    return f"arn:{target.partition}:ec2:{target.region}:{account}:{kind}/{resource_id}"


def _ec2_existing(target: Target, kind: str, resource_id: str, state: State, action: str) -> Request:
    return Request(
        f"ec2:{action}",
        _ec2_arn(target, kind, resource_id),
        _tag_context("ResourceTag", state.ec2_tags(target, resource_id)),
    )


for _op in (
    "DescribeIamInstanceProfileAssociations",
    "DescribeInstances",
    "DescribeInstanceAttribute",
    "DescribeNetworkInterfaces",
    "DescribeSecurityGroups",
    "DescribeSnapshots",
    "DescribeVolumes",
    "DescribeVpcs",
):
    _simple("ec2", "ec2", _op, lambda t, p: "*")
for _op in ("DescribeAutoScalingInstances", "DescribeAutoScalingGroups"):
    _simple("autoscaling", "autoscaling", _op, lambda t, p: "*")
for _op in ("DescribeTargetGroups", "DescribeTargetHealth"):
    _simple("elbv2", "elasticloadbalancing", _op, lambda t, p: "*")


@_entry("ec2", "ModifyNetworkInterfaceAttribute")
def _modify_eni(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    """Replacing an interface's groups authorizes the interface and every group named."""
    action = "ModifyNetworkInterfaceAttribute"
    out = [_ec2_existing(target, "network-interface", params["NetworkInterfaceId"], state, action)]
    out += [_ec2_existing(target, "security-group", g, state, action) for g in params.get("Groups", [])]
    return out


@_entry("ec2", "ModifyInstanceAttribute")
def _modify_instance(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    action = "ModifyInstanceAttribute"
    out = [_ec2_existing(target, "instance", params["InstanceId"], state, action)]
    out += [_ec2_existing(target, "security-group", g, state, action) for g in params.get("Groups", [])]
    return out


@_entry("ec2", "ModifyInstanceMetadataOptions")
def _modify_metadata(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    return [_ec2_existing(target, "instance", params["InstanceId"], state, "ModifyInstanceMetadataOptions")]


@_entry("ec2", "DisassociateIamInstanceProfile")
def _disassociate_profile(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    """Authorized on the instance the association belongs to (the call names only the association)."""
    instance = state.profile_association_instance(target, params["AssociationId"])
    if instance is None:
        raise UnknownCall(f"ec2:DisassociateIamInstanceProfile: no instance holds {params['AssociationId']}")
    return [_ec2_existing(target, "instance", instance, state, "DisassociateIamInstanceProfile")]


@_entry("ec2", "AssociateIamInstanceProfile")
def _associate_profile(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    """The instance, and iam:PassRole on the profile's role, passed to EC2.
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/permission-to-pass-iam-roles.html"""
    out = [_ec2_existing(target, "instance", params["InstanceId"], state, "AssociateIamInstanceProfile")]
    profile = params["IamInstanceProfile"]
    name = profile.get("Name") or profile["Arn"].rsplit("/", 1)[-1]
    found = state.instance_profile(target, name)
    for role in found[1] if found else []:
        out.append(Request("iam:PassRole", role, {"iam:PassedToService": "ec2.amazonaws.com"}))
    return out


def _group_rule_builder(operation: str) -> Builder:
    def build(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
        return [_ec2_existing(target, "security-group", params["GroupId"], state, operation)]

    return build


for _op in (
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
):
    TABLE[("ec2", _op)] = _group_rule_builder(_op)


def _tag_on_create(target: Target, kind: str, action: str, tags: Tags) -> list[Request]:
    """Tags given at creation also need ec2:CreateTags on the new resource, with ec2:CreateAction."""
    if not tags:
        return []
    context = {**_tag_context("RequestTag", tags), "ec2:CreateAction": action}
    return [Request("ec2:CreateTags", _ec2_arn(target, kind, "*"), context)]


@_entry("ec2", "CreateSecurityGroup")
def _create_group(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    tags = _request_tags(params, "security-group")
    out = [
        Request("ec2:CreateSecurityGroup", _ec2_arn(target, "security-group", "*"), _tag_context("RequestTag", tags))
    ]
    if params.get("VpcId"):
        out.append(_ec2_existing(target, "vpc", params["VpcId"], state, "CreateSecurityGroup"))
    return out + _tag_on_create(target, "security-group", "CreateSecurityGroup", tags)


@_entry("ec2", "CreateSnapshot")
def _create_snapshot(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    tags = _request_tags(params, "snapshot")
    return [
        _ec2_existing(target, "volume", params["VolumeId"], state, "CreateSnapshot"),
        Request("ec2:CreateSnapshot", _ec2_arn(target, "snapshot", "*"), _tag_context("RequestTag", tags)),
        *_tag_on_create(target, "snapshot", "CreateSnapshot", tags),
    ]


@_entry("ec2", "CreateTags")
def _create_tags(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    kinds = {"sg-": "security-group", "snap-": "snapshot", "i-": "instance", "eni-": "network-interface"}
    tags = {t["Key"]: t.get("Value", "") for t in params.get("Tags", [])}
    out = []
    for resource_id in params["Resources"]:
        kind = next((k for p, k in kinds.items() if resource_id.startswith(p)), None)
        if kind is None:
            raise UnknownCall(f"ec2:CreateTags on {resource_id}: resource type not in the table")
        context = {
            **_tag_context("ResourceTag", state.ec2_tags(target, resource_id)),
            **_tag_context("RequestTag", tags),
        }
        out.append(Request("ec2:CreateTags", _ec2_arn(target, kind, resource_id), context))
    return out


def _asg_builder(operation: str) -> Builder:
    def build(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
        name = params["AutoScalingGroupName"]
        arn = (
            f"arn:{target.partition}:autoscaling:{target.region}:{target.account}:autoScalingGroup:"
            f"*:autoScalingGroupName/{name}"
        )
        return [Request(f"autoscaling:{operation}", arn, _tag_context("ResourceTag", state.asg_tags(target, name)))]

    return build


for _op in ("EnterStandby", "ExitStandby"):
    TABLE[("autoscaling", _op)] = _asg_builder(_op)


# -- IAM ------------------------------------------------------------------------------------------


def _iam_builder(operation: str, kind: str) -> Builder:
    key = "UserName" if kind == "user" else "RoleName"

    def build(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
        context: dict[str, ContextValue] = {}
        if "PolicyArn" in params and operation.startswith(("Attach", "Detach")):
            context["iam:PolicyARN"] = params["PolicyArn"]
        arn = f"arn:{target.partition}:iam::{target.account}:{kind}/{params[key]}"
        return [Request(f"iam:{operation}", arn, context)]

    return build


for _op, _kind in {
    "ListAccessKeys": "user",
    "UpdateAccessKey": "user",
    "ListAttachedUserPolicies": "user",
    "ListUserPolicies": "user",
    "ListUserTags": "user",
    "AttachUserPolicy": "user",
    "DetachUserPolicy": "user",
    "PutUserPolicy": "user",
    "DeleteUserPolicy": "user",
    "GetUser": "user",
    "ListAttachedRolePolicies": "role",
    "ListRolePolicies": "role",
    "ListRoleTags": "role",
    "AttachRolePolicy": "role",
    "DetachRolePolicy": "role",
    "PutRolePolicy": "role",
    "DeleteRolePolicy": "role",
    "GetRole": "role",
    "GetUserPolicy": "user",
    "GetRolePolicy": "role",
}.items():
    TABLE[("iam", _op)] = _iam_builder(_op, _kind)
# GetPolicy and GetPolicyVersion authorize on the managed policy itself (resource type `policy`).
_simple("iam", "iam", "GetPolicy", lambda t, p: p["PolicyArn"])
_simple("iam", "iam", "GetPolicyVersion", lambda t, p: p["PolicyArn"])
_simple("iam", "iam", "ListAccountAliases", lambda t, p: "*")


@_entry("iam", "GetInstanceProfile")
def _get_instance_profile(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    """Authorized on the profile's ARN, which holds its path (resource type `instance-profile`)."""
    name = params["InstanceProfileName"]
    found = state.instance_profile(target, name)
    arn = found[0] if found else f"arn:{target.partition}:iam::{target.account}:instance-profile/{name}"
    return [Request("iam:GetInstanceProfile", arn)]


# -- S3 -------------------------------------------------------------------------------------------

S3_ACTIONS = {
    "GetBucketPolicy": "s3:GetBucketPolicy",
    "PutBucketPolicy": "s3:PutBucketPolicy",
    "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
    "PutBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "GetBucketTagging": "s3:GetBucketTagging",
    "GetBucketAcl": "s3:GetBucketAcl",
    "PutBucketAcl": "s3:PutBucketAcl",
    "GetBucketLocation": "s3:GetBucketLocation",
    "HeadBucket": "s3:ListBucket",
}


def _s3_builder(action: str) -> Builder:
    def build(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
        return [Request(action, f"arn:{target.partition}:s3:::{params['Bucket']}")]

    return build


for _op, _action in S3_ACTIONS.items():
    TABLE[("s3", _op)] = _s3_builder(_action)


# -- WAF ------------------------------------------------------------------------------------------


def _ipset_builder(operation: str) -> Builder:
    def build(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
        cloudfront = params["Scope"] == "CLOUDFRONT"
        region, scope = ("us-east-1", "global") if cloudfront else (target.region, "regional")
        arn = f"arn:{target.partition}:wafv2:{region}:{target.account}:{scope}/ipset/{params['Name']}/{params['Id']}"
        return [Request(f"wafv2:{operation}", arn)]

    return build


for _op in ("GetIPSet", "UpdateIPSet"):
    TABLE[("wafv2", _op)] = _ipset_builder(_op)


# -- the responder's own state and messaging --------------------------------------------------------


def _table_arn(target: Target, table: str, index: str | None = None) -> str:
    arn = f"arn:{target.partition}:dynamodb:{target.region}:{target.account}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _ddb_builder(operation: str) -> Builder:
    def build(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
        return [Request(f"dynamodb:{operation}", _table_arn(target, params["TableName"], params.get("IndexName")))]

    return build


for _op in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"):
    TABLE[("dynamodb", _op)] = _ddb_builder(_op)

TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@_entry("dynamodb", "TransactWriteItems")
def _transact(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    """A transaction authorizes each item's own action on its table."""
    out = []
    for item in params["TransactItems"]:
        ((kind, body),) = item.items()
        out.append(Request(f"dynamodb:{TRANSACT_ACTIONS[kind]}", _table_arn(target, body["TableName"])))
    return out


@_entry("sns", "Publish")
def _publish(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    """Publishing to an encrypted topic: SNS generates and decrypts the data key as the publisher."""
    topic = params["TopicArn"]
    out = [Request("sns:Publish", topic)]
    key = state.topic_key(target, topic)
    if key:
        out += [Request("kms:GenerateDataKey", key), Request("kms:Decrypt", key)]
    return out


@_entry("secretsmanager", "GetSecretValue")
def _secret(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    return [Request("secretsmanager:GetSecretValue", state.secret_arn(target, params["SecretId"]))]


@_entry("stepfunctions", "StartExecution")
def _start(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    return [Request("states:StartExecution", params["stateMachineArn"])]


def _callback_builder(operation: str) -> Builder:
    def build(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
        machine = state.task_token_machine(target, params["taskToken"])
        unknown = f"arn:{target.partition}:states:{target.region}:{target.account}:stateMachine:<no execution waits>"
        return [Request(f"states:{operation}", machine or unknown)]

    return build


for _op in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
    TABLE[("stepfunctions", _op)] = _callback_builder(_op)


# BatchUpdateFindingsV2 takes the same IAM action as BatchUpdateFindings (API reference,
# https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindingsV2.html).
@_entry("securityhub", "BatchUpdateFindings", "BatchUpdateFindingsV2")
def _write_back(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    return [
        Request(
            "securityhub:BatchUpdateFindings",
            f"arn:{target.partition}:securityhub:{target.region}:{target.account}:hub/default",
        )
    ]


# Custom actions: Security Hub authorizes these on the account's hub (the action may not exist yet).
def _action_target_builder(operation: str) -> Builder:
    def build(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
        hub = f"arn:{target.partition}:securityhub:{target.region}:{target.account}:hub/default"
        return [Request(f"securityhub:{operation}", hub)]

    return build


for _op in ("CreateActionTarget", "UpdateActionTarget", "DeleteActionTarget", "DescribeActionTargets"):
    TABLE[("securityhub", _op)] = _action_target_builder(_op)


@_entry("sts", "AssumeRole")
def _assume(target: Target, params: Mapping[str, Any], state: State) -> list[Request]:
    context: dict[str, ContextValue] = {}
    if "ExternalId" in params:
        context["sts:ExternalId"] = params["ExternalId"]
    return [Request("sts:AssumeRole", params["RoleArn"], context)]


def authorizations(
    service: str, operation: str, target: Target, params: Mapping[str, Any], state: State
) -> list[Request]:
    """The authorizations IAM makes for this call; raises UnknownCall for a call not in the table."""
    if (service, operation) in UNAUTHORIZED:
        return []
    builder = TABLE.get((service, operation))
    if builder is None:
        raise UnknownCall(
            f"{service}:{operation} is not in tests/support/iam_calls.py; declare its action and resources"
        )
    return builder(target, params, state)
