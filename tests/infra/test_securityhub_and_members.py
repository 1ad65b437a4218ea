"""The Security Hub triggers and the MemberRoleStack, asserted on the synthesized templates."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from infra.synth import build_app

CALLERS = ["Triage", "Plan", "Contain", "Verify", "RestoreApply", "RestoreVerify", "Reverify"]


@pytest.fixture(scope="module")
def stacks(tmp_path_factory):
    app, stack = build_app(
        {"notificationEmail": "soc@example.com", "memberExternalId": "ext-1234"}, str(tmp_path_factory.mktemp("cdk"))
    )
    member = next(s for s in app.node.children if getattr(s, "stack_name", "") == "ContainmentResponderMemberRole")
    return Template.from_stack(stack), Template.from_stack(member)


def _statements(template: Template, role_logical_id: str) -> list[dict]:
    out = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            out += policy["Properties"]["PolicyDocument"]["Statement"]
    return out


def test_security_hub_rules_go_to_the_intake_and_the_custom_action_rule_is_scoped_to_the_action(stacks):
    template, _ = stacks
    # The custom action is a custom resource (see tests/infra/test_operations.py); its ARN is fixed by its Id.
    template.has_resource_properties(
        "Custom::SecurityHubActionTarget", {"Id": "ContainResource", "Name": "Contain resource"}
    )
    rules = template.find_resources("AWS::Events::Rule")
    by_type = {
        tuple(r["Properties"]["EventPattern"]["detail-type"]): r["Properties"]
        for r in rules.values()
        if "EventPattern" in r["Properties"]
    }
    custom = by_type[("Security Hub Findings - Custom Action",)]
    (arn,) = custom["EventPattern"]["resources"]
    assert arn["Fn::Join"][1][-1] == ":action/custom/ContainResource"
    intake = next(k for k in template.find_resources("AWS::Lambda::Function") if "Intake" in k)
    for detail_type in [
        ("Security Hub Findings - Imported",),
        ("Findings Imported V2",),
        ("Security Hub Findings - Custom Action",),
    ]:
        target = by_type[detail_type]["Targets"][0]
        assert target["Arn"] == {"Fn::GetAtt": [intake, "Arn"]}
        assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400
    intake_role = template.find_resources("AWS::Lambda::Function")[intake]["Properties"]["Role"]["Fn::GetAtt"][0]
    (start,) = [s for s in _statements(template, intake_role)
                if s["Action"] == "states:StartExecution"]  # fmt: skip
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    containment = next(k for k in machines if "Containment" in k)
    assert start["Resource"] == {"Ref": containment}  # that machine only


def test_only_the_resource_facing_functions_have_fixed_names_and_may_assume_the_member_role(stacks):
    template, _ = stacks
    roles = template.find_resources("AWS::IAM::Role")
    named = sorted(r["Properties"]["RoleName"] for r in roles.values() if "RoleName" in r["Properties"])
    assert named == sorted(f"ContainmentResponder-{c}" for c in CALLERS)
    assumers = []
    for logical_id, role in roles.items():
        for st in _statements(template, logical_id):
            if st["Action"] == "sts:AssumeRole":
                assumers.append(role["Properties"].get("RoleName"))
                assert json.dumps(st["Resource"]).endswith(':iam::*:role/ContainmentResponderMember"]]}')
    assert sorted(assumers) == sorted(f"ContainmentResponder-{c}" for c in CALLERS)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"MEMBER_EXTERNAL_ID": "ext-1234",
                                                         "MEMBER_ROLE_NAME": "ContainmentResponderMember"})}},
    )  # fmt: skip


def test_the_member_role_trusts_only_those_functions_with_the_external_id(stacks):
    _, member = stacks
    (role,) = member.find_resources("AWS::IAM::Role").values()
    props = role["Properties"]
    assert props["RoleName"] == "ContainmentResponderMember" and props["MaxSessionDuration"] == 3600
    (trust,) = props["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"]["StringEquals"] == {"sts:ExternalId": {"Ref": "ExternalId"}}
    callers = json.dumps(trust["Condition"]["ArnEquals"]["aws:PrincipalArn"])
    for caller in CALLERS:
        assert f":role/ContainmentResponder-{caller}" in callers
    assert callers.count(":role/") == len(CALLERS)
    params = member.to_json()["Parameters"]
    assert params["ExternalId"]["NoEcho"] is True and "SecurityAccountId" in params
    assert "BootstrapVersion" not in params  # standalone: a StackSet can deploy it


def test_the_member_role_has_the_action_permissions_and_cannot_change_itself(stacks):
    _, member = stacks
    (role_id,) = member.find_resources("AWS::IAM::Role")
    statements = _statements(member, role_id)
    actions = {
        a
        for s in statements
        if s["Effect"] == "Allow"
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    for needed in ["ec2:ModifyNetworkInterfaceAttribute", "iam:AttachUserPolicy", "iam:DetachUserPolicy",
                   "iam:UpdateAccessKey", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "wafv2:UpdateIPSet",
                   "autoscaling:EnterStandby", "autoscaling:ExitStandby", "iam:ListAccountAliases"]:  # fmt: skip
        assert needed in actions, needed
    for st in statements:
        if st["Effect"] == "Allow" and st["Resource"] == "*":
            verbs = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
            assert all(v.split(":")[1].startswith(("Describe", "List", "Get")) for v in verbs), verbs
    denies = json.dumps([s for s in statements if s["Effect"] == "Deny"])
    assert ":role/ContainmentResponderMember" in denies
    assert "*" not in denies.replace('"iam:Attach*"', "").replace('"iam:Detach*"', "").replace(
        '"iam:Put*"', ""
    ).replace('"iam:Delete*"', "").replace('"iam:Update*"', ""), (
        denies
    )  # exact ARNs: no pattern an attacker's look-alike role could match
    member.has_resource_properties("AWS::IAM::ManagedPolicy", {"ManagedPolicyName": "ContainmentResponder-deny-all"})
