"""IAM users and roles: deny-all, key deactivation, older-session revocation, and exact restore."""

from __future__ import annotations

import json

import pytest

from responder.adapters.aws import client
from responder.adapters.iam import IamGateway
from responder.domain import iam as dom
from responder.domain.errors import ContainmentError
from responder.models.common import ResourceType
from responder.models.incident import RestoreOptions
from tests.support import kinds as k

FULL = RestoreOptions(reactivate_keys=True, lift_session_revocation=True)
ALLOW = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)


def _user(iam, name: str, keys: list[str], attached: int = 0, inline: int = 0) -> list[str]:
    iam.create_user(UserName=name)
    ids = []
    for status in keys:
        key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
        iam.update_access_key(UserName=name, AccessKeyId=key, Status=status)
        ids.append(key)
    for i in range(attached):
        arn = iam.create_policy(PolicyName=f"{name}-managed-{i}", PolicyDocument=ALLOW)["Policy"]["Arn"]
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    for i in range(inline):
        iam.put_user_policy(UserName=name, PolicyName=f"inline-{i}", PolicyDocument=ALLOW)
    return ids


def test_user_contained_then_restored_with_keys_left_inactive_by_default(aws):
    iam = client("iam")
    deny = k.create_deny_all_policy(iam)
    compromised, other = _user(iam, "alice", ["Active", "Active"], attached=1, inline=1)
    inc = k.plan_and_record(k.incident(ResourceType.IAM_USER, "alice", access_key=compromised), k.decision())
    before = inc.pre_state

    k.contain(inc)

    assert deny in [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"]]
    status = {x["AccessKeyId"]: x["Status"] for x in iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]}
    assert status == {compromised: "Inactive", other: "Active"}  # only the key in the finding
    revoke = iam.get_user_policy(UserName="alice", PolicyName=dom.REVOKE_SESSIONS)["PolicyDocument"]
    revoke = json.loads(revoke) if isinstance(revoke, str) else revoke
    assert "aws:TokenIssueTime" in revoke["Statement"][0]["Condition"]["DateLessThan"]
    assert k.verify(inc) == []

    report = k.restore(inc)

    assert any(compromised in line and "stay inactive" in line for line in report)
    assert any("session revocation kept" in line for line in report)
    assert k.verify_restored(inc) == []
    assert [
        p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"]
    ] == before.attached_policies
    # Asked for, a full restore puts back every attribute exactly.
    k.restore(inc, FULL)
    assert k.verify_restored(inc, FULL) == []
    assert IamGateway(iam).access_keys("alice") == [(x.access_key_id, x.status) for x in before.keys]
    assert dom.capture_user(IamGateway(iam), "alice") == before


def test_all_keys_when_the_preference_widens_it(aws):
    iam = client("iam")
    k.create_deny_all_policy(iam)
    first = _user(iam, "bob", ["Active", "Active"])[0]
    inc = k.plan_and_record(
        k.incident(ResourceType.IAM_USER, "bob", access_key=first), k.decision(iam_user={"deactivate_keys": "all"})
    )
    k.contain(inc)
    assert {x["Status"] for x in iam.list_access_keys(UserName="bob")["AccessKeyMetadata"]} == {"Inactive"}
    assert k.verify(inc) == []


def test_user_with_ten_managed_policies_gets_an_inline_deny(aws):
    iam = client("iam")
    k.create_deny_all_policy(iam)
    _user(iam, "carol", ["Active"], attached=10)
    inc = k.plan_and_record(k.incident(ResourceType.IAM_USER, "carol"), k.decision())

    rec = k.contain(inc)

    assert any(a.action == "put_inline_deny_all" for a in rec.actions)
    assert dom.DENY_ALL_INLINE in iam.list_user_policies(UserName="carol")["PolicyNames"]
    assert k.verify(inc) == []
    k.restore(inc, FULL)
    assert k.verify_restored(inc, FULL) == []
    assert dom.DENY_ALL_INLINE not in iam.list_user_policies(UserName="carol")["PolicyNames"]


def test_rerun_is_idempotent(aws):
    iam = client("iam")
    k.create_deny_all_policy(iam)
    key = _user(iam, "dave", ["Active"])[0]
    inc = k.plan_and_record(k.incident(ResourceType.IAM_USER, "dave", access_key=key), k.decision())
    k.contain(inc)
    second = k.contain(inc)
    assert {a.status.value for a in second.actions} == {"skipped"}
    assert len(iam.list_user_policies(UserName="dave")["PolicyNames"]) == 1


@pytest.mark.parametrize("failing", ["attach", "set_key_status", "put_inline"])
def test_failure_at_each_step_then_restore_undoes_what_was_applied(aws, monkeypatch, failing):
    iam = client("iam")
    k.create_deny_all_policy(iam)
    keys = _user(iam, "erin", ["Active", "Inactive"], attached=2, inline=1)
    inc = k.plan_and_record(
        k.incident(ResourceType.IAM_USER, "erin", access_key=keys[0]), k.decision(iam_user={"deactivate_keys": "all"})
    )
    before = inc.pre_state

    def boom(*args, **kwargs):
        raise RuntimeError(f"injected failure in {failing}")

    monkeypatch.setattr(IamGateway, failing, boom)
    with pytest.raises(RuntimeError, match="injected"):
        k.contain(inc)
    monkeypatch.undo()

    k.restore(inc, FULL)
    assert k.verify_restored(inc, FULL) == []
    assert dom.capture_user(IamGateway(iam), "erin") == before


def test_role_sessions_revoked_and_deny_all_when_asked(aws):
    iam = client("iam")
    deny = k.create_deny_all_policy(iam)
    iam.create_role(
        RoleName="app-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    iam.put_role_policy(RoleName="app-role", PolicyName="app", PolicyDocument=ALLOW)
    inc = k.plan_and_record(k.incident(ResourceType.IAM_ROLE, "app-role"), k.decision(iam_role={"deny_all": True}))
    before = inc.pre_state

    k.contain(inc)

    assert dom.REVOKE_SESSIONS in iam.list_role_policies(RoleName="app-role")["PolicyNames"]
    assert deny in [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="app-role")["AttachedPolicies"]]
    assert k.verify(inc) == []
    k.restore(inc)
    assert dom.REVOKE_SESSIONS in iam.list_role_policies(RoleName="app-role")["PolicyNames"]  # kept by default
    assert k.verify_restored(inc) == []
    k.restore(inc, FULL)
    assert dom.capture_role(IamGateway(iam), "app-role") == before


def _filler_policy(characters: int) -> str:
    """A valid inline policy of `characters` non-whitespace characters (padded in the Sid)."""
    statement = {"Sid": "", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    base = {"Version": "2012-10-17", "Statement": [statement]}
    statement["Sid"] = "F" * (characters - len(json.dumps(base, separators=(",", ":"))))
    return json.dumps(base, separators=(",", ":"))


def test_role_at_its_inline_policy_size_fails_closed_naming_the_role_and_the_limit(aws):
    """IAM refuses the session revocation (an inline policy) when the role's inline policies would pass
    10,240 characters. The deny-all is still attached, the step fails with the role and the limit
    named, and what was applied is recorded, so restore removes it."""
    iam = client("iam")
    k.create_deny_all_policy(iam)
    iam.create_role(RoleName="full", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    iam.put_role_policy(RoleName="full", PolicyName="big", PolicyDocument=_filler_policy(10_100))
    inc = k.plan_and_record(
        k.incident(ResourceType.IAM_ROLE, "full"), k.decision(iam_role={"revoke_sessions": True, "deny_all": True})
    )

    with pytest.raises(ContainmentError) as err:
        k.contain(inc)

    message = str(err.value)
    assert "role full" in message and "10,240" in message and dom.REVOKE_SESSIONS in message
    assert [a.action for a in inc.actions if a.status.value == "applied"] == ["attach_deny_all"]
    assert iam.list_role_policies(RoleName="full")["PolicyNames"] == ["big"]
    k.restore(inc, FULL)
    assert k.verify_restored(inc, FULL) == []
    assert iam.list_attached_role_policies(RoleName="full")["AttachedPolicies"] == []


def test_user_at_its_inline_policy_size_fails_closed_after_the_other_steps(aws):
    iam = client("iam")
    k.create_deny_all_policy(iam)
    key = _user(iam, "erin", ["Active"])[0]
    iam.put_user_policy(UserName="erin", PolicyName="big", PolicyDocument=_filler_policy(2_000))
    inc = k.plan_and_record(k.incident(ResourceType.IAM_USER, "erin", access_key=key), k.decision())

    with pytest.raises(ContainmentError, match=r"user erin.*2,048"):
        k.contain(inc)

    applied = [a.action for a in inc.actions if a.status.value == "applied"]
    assert applied == ["deactivate_key", "attach_deny_all"]
    assert iam.list_access_keys(UserName="erin")["AccessKeyMetadata"][0]["Status"] == "Inactive"
    k.restore(inc, FULL)
    assert k.verify_restored(inc, FULL) == []
