"""The permission check: the IAM evaluator's rules, the calls the workflow tests never make (WAF,
member-account IAM and S3) evaluated against the synthesized roles, a removed grant caught by name, and
every boto3 operation in the adapters declared and allowed for the functions that can make it.

The workflow tests check every call their functions make (tests/workflow/conftest.py); this module
covers what they cannot reach."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import botocore.session
import pytest

from tests.support.iam_calls import TABLE, UNAUTHORIZED, State, Target, UnknownCall, authorizations
from tests.support.iam_eval import Decision, PolicyError, Request, arn_match, evaluate, statements
from tests.support.iam_recorder import CallRecorder, RecordedCall
from tests.support.iam_roles import MEMBER_TEMPLATE, MemberRoleTemplate, RolePolicies, template_role
from tests.workflow.conftest import MEMBER_EXTERNAL_ID as EXTERNAL_ID

OWN = "123456789012"
MEMBER = "222222222222"
STACK = "ContainmentResponder"
ADAPTERS = Path(__file__).resolve().parents[2] / "lambdas" / "responder" / "adapters"


# -- the evaluator ---------------------------------------------------------------------------------


def _allow(action: str, resource: str = "*", **extra: object) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _decide(stmts: list[dict], action: str, resource: str, context: dict | None = None) -> Decision:
    return evaluate(stmts, Request(action, resource, context or {})).decision


def test_explicit_deny_wins_over_any_allow():
    stmts = [_allow("iam:*"), {"Effect": "Deny", "Action": "iam:Put*", "Resource": "arn:aws:iam::1:role/own-*"}]
    assert _decide(stmts, "iam:PutRolePolicy", "arn:aws:iam::1:role/own-Contain") is Decision.EXPLICIT_DENY
    assert _decide(stmts, "iam:PutRolePolicy", "arn:aws:iam::1:role/victim") is Decision.ALLOWED
    assert _decide([], "iam:PutRolePolicy", "arn:aws:iam::1:role/victim") is Decision.IMPLICIT_DENY


def test_actions_match_case_insensitively_with_wildcards_and_notaction():
    assert _decide([_allow("EC2:describe*")], "ec2:DescribeInstances", "*") is Decision.ALLOWED
    assert _decide([_allow("ec2:Describe?nstances")], "ec2:DescribeInstances", "*") is Decision.ALLOWED
    assert _decide([_allow("ec2:Describe*")], "ec2:CreateTags", "*") is Decision.IMPLICIT_DENY
    not_action = [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]
    assert _decide(not_action, "s3:GetBucketPolicy", "arn:aws:s3:::b") is Decision.ALLOWED
    assert _decide(not_action, "iam:ListUsers", "*") is Decision.IMPLICIT_DENY


def test_resource_arns_match_part_by_part():
    stmts = [_allow("wafv2:GetIPSet", "arn:aws:wafv2:*:123456789012:*/ipset/*/*")]
    ipset = "arn:aws:wafv2:eu-west-1:123456789012:regional/ipset/blocklist/abc"
    assert _decide(stmts, "wafv2:GetIPSet", ipset) is Decision.ALLOWED
    assert _decide(stmts, "wafv2:GetIPSet", ipset.replace("123456789012", "999999999999")) is Decision.IMPLICIT_DENY
    # a table grant does not cover its indexes: the index ARN is longer
    table = "arn:aws:dynamodb:us-east-1:1:table/incidents"
    assert _decide([_allow("dynamodb:Query", table)], "dynamodb:Query", f"{table}/index/by-status") is (
        Decision.IMPLICIT_DENY
    )
    assert _decide([_allow("dynamodb:Query", f"{table}/index/*")], "dynamodb:Query", f"{table}/index/by-status") is (
        Decision.ALLOWED
    )
    # a '*' in the region does not reach across the colon into the account
    assert not arn_match("arn:aws:ec2:*:instance/*", "arn:aws:ec2:us-east-1:1:instance/i-1")
    not_resource = [{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret*"}]
    assert _decide(not_resource, "s3:GetBucketPolicy", "arn:aws:s3:::public") is Decision.ALLOWED
    assert _decide(not_resource, "s3:GetBucketPolicy", "arn:aws:s3:::secret-1") is Decision.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("operator", "expected", "value", "allowed"),
    [
        ("StringEquals", "true", "true", True),
        ("StringEquals", "true", "True", False),
        ("StringEquals", ["CreateSecurityGroup", "CreateSnapshot"], "CreateSnapshot", True),
        ("StringNotEquals", "prod", "dev", True),
        ("StringNotEquals", "prod", "prod", False),
        ("StringEqualsIgnoreCase", "TRUE", "true", True),
        ("StringLike", "team-*", "team-a", True),
        ("StringLike", "team-?", "team-ab", False),
        ("StringNotLike", "team-*", "ops", True),
        ("ArnEquals", "arn:aws:iam::1:policy/deny-all", "arn:aws:iam::1:policy/deny-all", True),
        ("ArnEquals", "arn:aws:iam::1:policy/deny-all", "arn:aws:iam::aws:policy/AdministratorAccess", False),
        ("ArnLike", "arn:aws:iam::*:role/responder-*", "arn:aws:iam::2:role/responder-Plan", True),
        ("ArnNotLike", "arn:aws:iam::*:role/responder-*", "arn:aws:iam::2:role/other", True),
        ("Bool", "true", "true", True),
        ("Bool", True, "false", False),
    ],
)
def test_each_condition_operator(operator, expected, value, allowed):
    stmts = [_allow("x:Y", Condition={operator: {"k:key": expected}})]
    assert (_decide(stmts, "x:Y", "*", {"k:key": value}) is Decision.ALLOWED) is allowed


def test_null_ifexists_and_set_operators():
    null = [_allow("x:Y", Condition={"Null": {"aws:RequestTag/owner": "false"}})]
    assert _decide(null, "x:Y", "*", {"aws:RequestTag/owner": "me"}) is Decision.ALLOWED
    assert _decide(null, "x:Y", "*", {}) is Decision.IMPLICIT_DENY
    if_exists = [_allow("x:Y", Condition={"StringEqualsIfExists": {"aws:ResourceTag/env": "dev"}})]
    assert _decide(if_exists, "x:Y", "*", {}) is Decision.ALLOWED
    assert _decide(if_exists, "x:Y", "*", {"aws:ResourceTag/env": "prod"}) is Decision.IMPLICIT_DENY
    any_value = [_allow("x:Y", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}})]
    assert _decide(any_value, "x:Y", "*", {"aws:TagKeys": ["z", "b"]}) is Decision.ALLOWED
    assert _decide(any_value, "x:Y", "*", {"aws:TagKeys": ["z"]}) is Decision.IMPLICIT_DENY
    all_values = [_allow("x:Y", Condition={"ForAllValues:StringLike": {"aws:TagKeys": ["responder:*"]}})]
    assert _decide(all_values, "x:Y", "*", {"aws:TagKeys": ["responder:managed"]}) is Decision.ALLOWED
    assert _decide(all_values, "x:Y", "*", {"aws:TagKeys": ["responder:managed", "x"]}) is Decision.IMPLICIT_DENY


def test_conditions_and_across_keys_and_operators():
    stmts = [
        _allow(
            "x:Y",
            Condition={"StringEquals": {"a": "1", "b": "2"}, "ArnLike": {"c": "arn:aws:iam::*:role/r"}},
        )
    ]
    full = {"a": "1", "b": "2", "c": "arn:aws:iam::5:role/r"}
    assert _decide(stmts, "x:Y", "*", full) is Decision.ALLOWED
    assert _decide(stmts, "x:Y", "*", {**full, "b": "3"}) is Decision.IMPLICIT_DENY


def test_a_missing_context_key_fails_closed():
    # an Allow whose key the request lacks does not apply, even under a negated operator
    for operator in ("StringEquals", "StringNotEquals", "ArnNotLike"):
        stmts = [_allow("x:Y", Condition={operator: {"aws:ResourceTag/responder:managed": "true"}})]
        assert _decide(stmts, "x:Y", "*", {}) is Decision.IMPLICIT_DENY, operator
    # a Deny whose key the request lacks applies
    deny = [_allow("x:Y"), {"Effect": "Deny", "Action": "x:Y", "Resource": "*",
                            "Condition": {"StringEquals": {"aws:ResourceTag/protected": "true"}}}]  # fmt: skip
    assert _decide(deny, "x:Y", "*", {}) is Decision.EXPLICIT_DENY
    assert _decide(deny, "x:Y", "*", {"aws:ResourceTag/protected": "false"}) is Decision.ALLOWED


def test_what_the_evaluator_does_not_know_raises_instead_of_guessing():
    with pytest.raises(PolicyError, match="NumericLessThan"):
        _decide([_allow("x:Y", Condition={"NumericLessThan": {"k": "1"}})], "x:Y", "*", {"k": "0"})
    with pytest.raises(PolicyError, match="policy variables"):
        _decide([_allow("iam:GetUser", "arn:aws:iam::1:user/${aws:username}")], "iam:GetUser", "arn:aws:iam::1:user/a")
    with pytest.raises(PolicyError, match="multi-valued"):
        _decide(
            [_allow("x:Y", Condition={"StringEquals": {"aws:TagKeys": "a"}})], "x:Y", "*", {"aws:TagKeys": ["a", "b"]}
        )


def test_trust_policies_match_the_principal():
    trust = statements([{"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                        "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}])  # fmt: skip
    ok = Request("sts:AssumeRole", "arn:aws:iam::2:role/m", principal="arn:aws:iam::123456789012:role/r")
    other = Request("sts:AssumeRole", "arn:aws:iam::2:role/m", principal="arn:aws:iam::999999999999:role/r")
    assert evaluate(trust, ok).allowed and not evaluate(trust, other).allowed


# -- the synthesized roles -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthesized(assembly) -> tuple[dict, Path]:
    """The templates the workflow tests deploy (synthesized once per session)."""
    return json.loads((assembly / f"{STACK}.template.json").read_text()), assembly


def _function_role(template: dict, function: str) -> RolePolicies:
    """A function's role as deployed in the responder's account (`template` from `_inline_refs`)."""
    resources = template["Resources"]
    logical = next(k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function" and function in k)
    role_id = resources[logical]["Properties"]["Role"]["Fn::GetAtt"][0]
    return template_role(template, role_id, OWN, "us-east-1", {})


def _resolvable(logical_id: str, resource: dict) -> dict:
    """Stand-ins for what only a deployment names: each Ref/GetAtt to a table, topic, key, log group or
    secret becomes the ARN of a resource named by its logical id; a role without a name gets its id."""
    text = json.dumps(resource)
    arn = {
        "AWS::DynamoDB::Table": "arn:aws:dynamodb:us-east-1:123456789012:table/{}",
        "AWS::SNS::Topic": "arn:aws:sns:us-east-1:123456789012:{}",
        "AWS::KMS::Key": "arn:aws:kms:us-east-1:123456789012:key/{}",
        "AWS::Logs::LogGroup": "arn:aws:logs:us-east-1:123456789012:log-group:{}:*",
        "AWS::SecretsManager::Secret": "arn:aws:secretsmanager:us-east-1:123456789012:secret:{}",
        "AWS::StepFunctions::StateMachine": "arn:aws:states:us-east-1:123456789012:stateMachine:{}",
        "AWS::SQS::Queue": "arn:aws:sqs:us-east-1:123456789012:{}",
        "AWS::Lambda::Function": "arn:aws:lambda:us-east-1:123456789012:function:{}",
    }
    out = json.loads(text)
    if resource["Type"] == "AWS::IAM::Role":
        out["Properties"].setdefault("RoleName", logical_id)
    out["_arn"] = arn.get(resource["Type"], "").format(logical_id)
    return out


@pytest.fixture(scope="module")
def roles(synthesized):
    template, _ = synthesized
    return _RoleBook(template)


class _RoleBook:
    def __init__(self, template: dict) -> None:
        self.template = _inline_refs(template)
        self._cache: dict[str, RolePolicies] = {}

    def function(self, name: str) -> RolePolicies:
        if name not in self._cache:
            self._cache[name] = _function_role(self.template, name)
        return self._cache[name]


def _inline_refs(template: dict) -> dict:
    """Replace each Ref / Fn::GetAtt .Arn of a non-IAM resource with its stand-in ARN, so that the
    template resolver (which knows IAM resources only) can resolve the function roles' policies."""
    resources = {k: _resolvable(k, r) for k, r in template["Resources"].items()}

    def walk(value: object) -> object:
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            if set(value) == {"Ref"} and resources.get(value["Ref"], {}).get("_arn"):
                return resources[value["Ref"]]["_arn"]
            if set(value) == {"Fn::GetAtt"}:
                name, attribute = value["Fn::GetAtt"]
                if attribute == "Arn" and resources.get(name, {}).get("_arn"):
                    return resources[name]["_arn"]
            return {k: walk(v) for k, v in value.items()}
        return value

    return {"Resources": {k: walk(r) for k, r in resources.items()}}


@pytest.fixture(scope="module")
def member(synthesized) -> MemberRoleTemplate:
    _, assembly = synthesized
    assert (assembly / MEMBER_TEMPLATE).exists()
    return MemberRoleTemplate.load(assembly, OWN, EXTERNAL_ID)


class _NoState(State):
    """No emulator: resources carry the tags the case gives."""

    def __init__(self, tags: dict[str, dict[str, str]] | None = None) -> None:
        self.tags = tags or {}

    def ec2_tags(self, target, resource_id):
        return dict(self.tags.get(resource_id, {}))

    def asg_tags(self, target, name):
        return dict(self.tags.get(name, {}))

    def topic_key(self, target, topic_arn):
        return None

    def secret_arn(self, target, secret_id):
        return secret_id

    def task_token_machine(self, target, token):
        return None

    def instance_profile(self, target, name):
        """Every profile lives under the path /app/ and holds the role of its name."""
        return f"arn:aws:iam::{target.account}:instance-profile/app/{name}", [
            f"arn:aws:iam::{target.account}:role/app/{name}"
        ]

    def profile_association_instance(self, target, association_id):
        return "i-0123456789abcdef0"


def _check(policies: RolePolicies, service: str, operation: str, params: dict, account: str = OWN,
           tags: dict | None = None) -> list[str]:  # fmt: skip
    """The authorizations of the call that the role does not allow, as 'action on resource: decision'."""
    requests = authorizations(service, operation, Target(account, "us-east-1"), params, _NoState(tags))
    assert requests, f"{service}:{operation} authorizes nothing"
    return [
        f"{r.describe()}: {evaluate(policies.identity, r).decision.value}"
        for r in requests
        if not evaluate(policies.identity, r).allowed
    ]


DENY_ALL = f"arn:aws:iam::{{account}}:policy/{STACK}-deny-all"
IPSET = {"Name": "blocklist", "Scope": "REGIONAL", "Id": "0123-abcd"}
# The reads Plan, Verify and RestoreVerify make on a user, a role, a bucket and an IP set.
READS = [
    ("iam", "ListAccessKeys", {"UserName": "alice"}),
    ("iam", "ListAttachedUserPolicies", {"UserName": "alice"}),
    ("iam", "ListUserPolicies", {"UserName": "alice"}),
    ("iam", "ListUserTags", {"UserName": "alice"}),
    ("iam", "ListAttachedRolePolicies", {"RoleName": "app"}),
    ("iam", "ListRolePolicies", {"RoleName": "app"}),
    ("iam", "ListRoleTags", {"RoleName": "app"}),
    ("iam", "GetRole", {"RoleName": "app"}),
    ("iam", "GetUser", {"UserName": "alice"}),
    ("iam", "GetUserPolicy", {"UserName": "alice", "PolicyName": "responder-deny-all"}),
    ("iam", "GetRolePolicy", {"RoleName": "app", "PolicyName": "responder-revoke-older-sessions"}),
    ("iam", "GetPolicy", {"PolicyArn": DENY_ALL.format(account=OWN)}),
    ("iam", "GetPolicyVersion", {"PolicyArn": DENY_ALL.format(account=OWN), "VersionId": "v1"}),
    ("iam", "GetInstanceProfile", {"InstanceProfileName": "web"}),
    ("s3", "GetBucketPolicy", {"Bucket": "data"}),
    ("s3", "GetPublicAccessBlock", {"Bucket": "data"}),
    ("s3", "GetBucketOwnershipControls", {"Bucket": "data"}),
    ("s3", "GetBucketTagging", {"Bucket": "data"}),
    ("s3", "GetBucketAcl", {"Bucket": "data"}),
    ("wafv2", "GetIPSet", IPSET),
]


def _writes(account: str, containing: bool) -> list[tuple[str, str, dict]]:
    deny_all = DENY_ALL.format(account=account)
    doc = json.dumps({"Version": "2012-10-17", "Statement": []})
    if containing:
        return [
            ("iam", "AttachUserPolicy", {"UserName": "alice", "PolicyArn": deny_all}),
            ("iam", "AttachRolePolicy", {"RoleName": "app", "PolicyArn": deny_all}),
            ("iam", "PutUserPolicy", {"UserName": "alice", "PolicyName": "responder-deny", "PolicyDocument": doc}),
            ("iam", "PutRolePolicy", {"RoleName": "app", "PolicyName": "responder-deny", "PolicyDocument": doc}),
            ("iam", "UpdateAccessKey", {"UserName": "alice", "AccessKeyId": "AKIA1", "Status": "Inactive"}),
            ("s3", "PutBucketPolicy", {"Bucket": "data", "Policy": doc}),
            ("s3", "PutPublicAccessBlock", {"Bucket": "data", "PublicAccessBlockConfiguration": {}}),
            ("s3", "PutBucketOwnershipControls", {"Bucket": "data", "OwnershipControls": {"Rules": []}}),
            ("s3", "PutBucketAcl", {"Bucket": "data", "ACL": "private"}),
            ("wafv2", "UpdateIPSet", {**IPSET, "Addresses": ["198.51.100.7/32"], "LockToken": "t"}),
        ]
    return [
        ("iam", "DetachUserPolicy", {"UserName": "alice", "PolicyArn": deny_all}),
        ("iam", "DetachRolePolicy", {"RoleName": "app", "PolicyArn": deny_all}),
        ("iam", "DeleteUserPolicy", {"UserName": "alice", "PolicyName": "responder-deny"}),
        ("iam", "DeleteRolePolicy", {"RoleName": "app", "PolicyName": "responder-deny"}),
        ("iam", "UpdateAccessKey", {"UserName": "alice", "AccessKeyId": "AKIA1", "Status": "Active"}),
        ("s3", "PutBucketPolicy", {"Bucket": "data", "Policy": doc}),
        ("s3", "DeleteBucketPolicy", {"Bucket": "data"}),
        ("s3", "PutPublicAccessBlock", {"Bucket": "data", "PublicAccessBlockConfiguration": {}}),
        ("s3", "DeletePublicAccessBlock", {"Bucket": "data"}),
        ("s3", "PutBucketOwnershipControls", {"Bucket": "data", "OwnershipControls": {"Rules": []}}),
        ("s3", "DeleteBucketOwnershipControls", {"Bucket": "data"}),
        ("s3", "PutBucketAcl", {"Bucket": "data", "AccessControlPolicy": {"Grants": [], "Owner": {"ID": "o"}}}),
        ("wafv2", "UpdateIPSet", {**IPSET, "Addresses": [], "LockToken": "t"}),
    ]


@pytest.mark.parametrize("function", ["Plan", "Verify", "RestoreVerify", "Contain", "RestoreApply"])
def test_own_account_reads_of_users_roles_buckets_and_ip_sets_are_allowed(roles, function):
    policies = roles.function(function)
    denied = [d for service, op, params in READS for d in _check(policies, service, op, params)]
    assert denied == [], f"{function}: {denied}"


@pytest.mark.parametrize(("function", "containing"), [("Contain", True), ("RestoreApply", False)])
def test_own_account_writes_of_containment_and_restore_are_allowed(roles, function, containing):
    policies = roles.function(function)
    denied = [d for service, op, params in _writes(OWN, containing) for d in _check(policies, service, op, params)]
    assert denied == [], f"{function}: {denied}"


@pytest.mark.parametrize("containing", [True, False])
def test_member_account_reads_and_writes_are_allowed_to_the_member_role(member, containing):
    policies = member.role(MEMBER)
    calls = READS + _writes(MEMBER, containing) + [("iam", "ListAccountAliases", {})]
    denied = [
        d for service, op, params in calls for d in _check(policies, service, op, _for(params, MEMBER), account=MEMBER)
    ]
    assert denied == []


def test_the_responder_never_changes_its_own_roles_nor_the_member_role(roles, member):
    contain = roles.function("Contain")
    own = {"RoleName": f"{STACK}-Contain", "PolicyName": "x", "PolicyDocument": "{}"}
    assert _check(contain, "iam", "PutRolePolicy", own) == [
        f"iam:PutRolePolicy on arn:aws:iam::{OWN}:role/{STACK}-Contain: explicitly denied"
    ]
    itself = {"RoleName": member.role_name, "PolicyArn": DENY_ALL.format(account=MEMBER)}
    assert _check(member.role(MEMBER), "iam", "AttachRolePolicy", itself, account=MEMBER) == [
        f"iam:AttachRolePolicy on arn:aws:iam::{MEMBER}:role/{member.role_name}: explicitly denied"
    ]


def test_only_the_deny_all_policy_may_be_attached(roles, member):
    admin = {"UserName": "alice", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert _check(roles.function("Contain"), "iam", "AttachUserPolicy", admin)
    assert _check(member.role(MEMBER), "iam", "AttachUserPolicy", admin, account=MEMBER)


def test_only_restore_may_pass_an_instance_role_and_only_to_ec2(roles, member):
    """Re-associating the recorded instance profile passes its role to EC2 (RestoreApply, and the member role
    in a member account); nothing else may pass a role, nor pass one to another service."""
    associate = {
        "InstanceId": "i-0123456789abcdef0",
        "IamInstanceProfile": {"Arn": "arn:aws:iam::x:instance-profile/app/web"},
    }
    assert _check(roles.function("RestoreApply"), "ec2", "AssociateIamInstanceProfile", associate) == []
    assert _check(member.role(MEMBER), "ec2", "AssociateIamInstanceProfile", associate, account=MEMBER) == []
    assert _check(roles.function("Contain"), "ec2", "AssociateIamInstanceProfile", associate) == [
        f"ec2:AssociateIamInstanceProfile on arn:aws:ec2:us-east-1:{OWN}:instance/i-0123456789abcdef0: "
        "implicitly denied (no statement allows it)",
        f"iam:PassRole on arn:aws:iam::{OWN}:role/app/web: implicitly denied (no statement allows it)",
    ]
    to_lambda = Request(
        "iam:PassRole", f"arn:aws:iam::{OWN}:role/app/web", {"iam:PassedToService": "lambda.amazonaws.com"}
    )
    assert not evaluate(roles.function("RestoreApply").identity, to_lambda).allowed
    detach = {"AssociationId": "iip-assoc-1"}
    assert _check(roles.function("Contain"), "ec2", "DisassociateIamInstanceProfile", detach) == []
    imds = {"InstanceId": "i-0123456789abcdef0", "HttpEndpoint": "disabled"}
    for function in ("Contain", "RestoreApply"):
        assert _check(roles.function(function), "ec2", "ModifyInstanceMetadataOptions", imds) == []


def test_group_rules_change_only_on_groups_the_responder_manages(roles):
    contain = roles.function("Contain")
    params = {"GroupId": "sg-1", "IpPermissions": []}
    managed = {"sg-1": {"responder:managed": "true"}}
    assert _check(contain, "ec2", "AuthorizeSecurityGroupEgress", params, tags=managed) == []
    assert _check(contain, "ec2", "AuthorizeSecurityGroupEgress", params, tags={}) == [
        f"ec2:AuthorizeSecurityGroupEgress on arn:aws:ec2:us-east-1:{OWN}:security-group/sg-1: "
        "implicitly denied (no statement allows it)"
    ]


def test_the_member_role_trusts_the_resource_facing_functions_with_the_external_id(member):
    trust = member.role(MEMBER).trust
    role = f"arn:aws:iam::{MEMBER}:role/{member.role_name}"

    def assume(caller: str, external_id: str) -> bool:
        request = Request("sts:AssumeRole", role, {"sts:ExternalId": external_id, "aws:PrincipalArn": caller},
                          principal=caller)  # fmt: skip
        return evaluate(trust, request).allowed

    plan = f"arn:aws:iam::{OWN}:role/{STACK}-Plan"
    assert assume(plan, EXTERNAL_ID)
    assert not assume(plan, "guessed")
    assert not assume(f"arn:aws:iam::{OWN}:role/{STACK}-Notify", EXTERNAL_ID)
    assert not assume(f"arn:aws:iam::999999999999:role/{STACK}-Plan", EXTERNAL_ID)


def test_a_removed_grant_fails_the_check_naming_function_action_and_resource(roles):
    """What the workflow fixture does at teardown, with the Plan role's iam:ListAccessKeys statement gone."""
    plan = roles.function("Plan")
    stripped = _without(plan.identity, action="iam:ListAccessKeys")
    assert _actions(stripped) == _actions(plan.identity) - 1  # that one grant, nothing else
    recorder = CallRecorder()
    recorder.policies = lambda arn: RolePolicies(arn, stripped, [])  # type: ignore[method-assign]
    target = Target(OWN, "us-east-1")
    for service, operation, params in [("iam", "ListAccessKeys", {"UserName": "alice"}),
                                       ("iam", "ListUserTags", {"UserName": "alice"})]:  # fmt: skip
        recorder.calls.append(
            RecordedCall(f"{STACK}-Plan-fn", plan.arn, plan.arn, service, operation, target, params,
                         tuple(authorizations(service, operation, target, params, _NoState())))
        )  # fmt: skip
    with pytest.raises(AssertionError) as failed:
        recorder.assert_allowed()
    message = str(failed.value)
    assert "1 call(s)" in message
    assert f"function {STACK}-Plan-fn: iam:ListAccessKeys on arn:aws:iam::{OWN}:user/alice" in message
    assert "implicitly denied" in message


def test_restore_apply_may_query_the_status_index_and_a_dropped_index_grant_is_caught(roles):
    apply = roles.function("RestoreApply")
    table = next(s["Resource"] for s in apply.identity if "dynamodb:Query" in s["Action"])
    table_arn = next(r for r in (table if isinstance(table, list) else [table]) if "/index/" not in r)
    query = Request("dynamodb:Query", f"{table_arn}/index/by-status")
    assert evaluate(apply.identity, query).allowed
    without_index = _without(apply.identity, resource="/index/")
    assert _actions(without_index) < _actions(apply.identity)
    assert evaluate(without_index, query).decision is Decision.IMPLICIT_DENY


def _without(policy: list, action: str | None = None, resource: str | None = None) -> list:
    """The statements with one action, or every resource ARN holding a text, taken out (a statement left
    with no action or no resource is dropped): a grant removed as a regression would remove it."""
    out = []
    for statement in policy:
        actions = [a for a in _listed(statement.get("Action")) if a != action]
        resources = [r for r in _listed(statement.get("Resource")) if resource is None or resource not in r]
        if actions and resources:
            out.append({**statement, "Action": actions, "Resource": resources})
    return out


def _actions(policy: list) -> int:
    return sum(len(_listed(s.get("Action"))) for s in policy)


def _listed(value: object) -> list:
    return value if isinstance(value, list) else [value]


def test_an_undeclared_call_fails_naming_it():
    with pytest.raises(UnknownCall, match="ec2:TerminateInstances"):
        authorizations("ec2", "TerminateInstances", Target(OWN, "us-east-1"), {}, _NoState())


# -- every call the adapters can make is declared and allowed to a caller that makes it --------------


def _operations_in(path: Path, session: botocore.session.Session) -> set[tuple[str, str]]:
    """(service, Operation) for each boto3 method name the module calls, by attribute or by string."""
    tree = ast.parse(path.read_text())
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    found = set()
    for service in SERVICES:
        model = session.get_service_model(service)
        for operation in model.operation_names:
            snake = re.sub(r"(?<!^)(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z])", "_", operation).lower()
            if snake in names:
                found.add((service, operation))
    return found


SERVICES = ["ec2", "autoscaling", "elbv2", "iam", "s3", "wafv2", "dynamodb", "sns", "secretsmanager",
            "stepfunctions", "securityhub", "sts"]  # fmt: skip
# The functions whose code imports each adapter (and so may make its calls).
CALLERS = {
    "ec2.py": ["Triage", "Plan", "Contain", "Verify", "RestoreApply", "RestoreVerify"],
    "iam.py": ["Triage", "Plan", "Contain", "Verify", "RestoreApply", "RestoreVerify"],
    "s3.py": ["Triage", "Plan", "Contain", "Verify", "RestoreApply", "RestoreVerify"],
    "waf.py": ["Plan", "Contain", "RestoreApply"],
    "accounts.py": ["Triage", "Plan", "Contain", "Verify", "RestoreApply", "RestoreVerify"],
}
GENERIC = {"get_paginator", "create_client"}


def test_every_operation_in_the_adapters_is_declared():
    session = botocore.session.get_session()
    undeclared = []
    for path in sorted(ADAPTERS.glob("*.py")):
        for service, operation in sorted(_operations_in(path, session)):
            if (service, operation) not in TABLE and (service, operation) not in UNAUTHORIZED:
                undeclared.append(f"{path.name}: {service}:{operation}")
    assert undeclared == []


@pytest.mark.parametrize("adapter", sorted(CALLERS))
def test_resource_calls_are_allowed_to_some_caller_and_to_the_member_role(roles, member, adapter):
    """Each IAM, S3, WAF and EC2 read or write an adapter holds is allowed to at least one function that
    imports it in the responder's account, and to the member role in a member account."""
    session = botocore.session.get_session()
    samples = {(s, o): p for s, o, p in READS + _writes(OWN, True) + _writes(OWN, False)}
    samples |= {("iam", "ListAccountAliases"): {}, ("sts", "AssumeRole"): {
        "RoleArn": f"arn:aws:iam::{MEMBER}:role/{member.role_name}", "ExternalId": EXTERNAL_ID}}  # fmt: skip
    missing = []
    for service, operation in sorted(_operations_in(ADAPTERS / adapter, session)):
        if service in ("ec2", "autoscaling", "elbv2"):
            continue  # exercised by every EC2 workflow test, with the emulator's tags
        params = samples.get((service, operation))
        if params is None:
            missing.append(f"{service}:{operation} has no sample call here")
            continue
        if not any(_check(roles.function(f), service, operation, params) == [] for f in CALLERS[adapter]):
            missing.append(f"{service}:{operation} allowed to none of {CALLERS[adapter]}")
        if service != "sts":
            denied = _check(member.role(MEMBER), service, operation, _for(params, MEMBER), account=MEMBER)
            if denied:
                missing.append(f"member role: {denied}")
    assert missing == []


def _for(params: dict, account: str) -> dict:
    return {k: v.replace(OWN, account) if isinstance(v, str) else v for k, v in params.items()}
