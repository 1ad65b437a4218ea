"""Hostile owner, IAM (issue 13, items 1, 3 and 7): the owner of a user or role, possibly the attacker,
writes under the responder's reserved names or alters its deny-all managed policy before containment, or
changes the responder's documents after it. Containment decides by content; verify reads every document
back. Each test builds the attacker's setup first, then asserts the effective state by reading documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from responder.adapters.aws import client
from responder.domain import iam as dom
from responder.models.common import ResourceType
from responder.models.incident import RestoreOptions
from tests.support import kinds as k

FULL = RestoreOptions(reactivate_keys=True, lift_session_revocation=True)
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
HARMLESS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/y"}],
    }
)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def _principal(iam, kind: str, name: str) -> None:
    if kind == "user":
        iam.create_user(UserName=name)
    else:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)


def _put(iam, kind: str, name: str, policy: str, document: str) -> None:
    if kind == "user":
        iam.put_user_policy(UserName=name, PolicyName=policy, PolicyDocument=document)
    else:
        iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=document)


def _document(iam, kind: str, name: str, policy: str) -> dict:
    if kind == "user":
        doc = iam.get_user_policy(UserName=name, PolicyName=policy)["PolicyDocument"]
    else:
        doc = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
    return json.loads(doc) if isinstance(doc, str) else doc


def _attached(iam, kind: str, name: str) -> list[str]:
    if kind == "user":
        resp = iam.list_attached_user_policies(UserName=name)
    else:
        resp = iam.list_attached_role_policies(RoleName=name)
    return [p["PolicyArn"] for p in resp["AttachedPolicies"]]


def _incident(kind: str, name: str):
    """Users get the deny-all by default; roles only when asked, so ask for it here."""
    if kind == "user":
        return k.plan_and_record(k.incident(ResourceType.IAM_USER, name), k.decision())
    return k.plan_and_record(k.incident(ResourceType.IAM_ROLE, name), k.decision(iam_role={"deny_all": True}))


def _revoked_before(iam, kind: str, name: str) -> datetime:
    doc = _document(iam, kind, name, dom.REVOKE_SESSIONS)
    stamp = doc["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
    assert doc == json.loads(dom.revoke_document(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@pytest.mark.parametrize("kind", ["user", "role"])
def test_decoy_inline_deny_all_allowing_everything_is_overwritten_and_not_restored(aws, kind):
    iam = client("iam")
    k.create_deny_all_policy(iam)
    _principal(iam, kind, "owned")
    _put(iam, kind, "owned", dom.DENY_ALL_INLINE, ALLOW_ALL)  # the attacker's decoy
    inc = _incident(kind, "owned")

    k.contain(inc)

    assert _document(iam, kind, "owned", dom.DENY_ALL_INLINE) == json.loads(dom.deny_all_document())
    assert k.verify(inc) == []
    evidence = [a for a in inc.actions if a.detail.get("replaced_foreign") == "true"]
    assert [a.detail["policy"] for a in evidence] == [dom.DENY_ALL_INLINE]
    assert json.loads(evidence[0].detail["foreign_document"]) == json.loads(ALLOW_ALL)
    assert any(e.event == "decoy_policy" for e in inc.timeline)

    report = k.restore(inc, FULL)

    # The attacker's Allow *:* is not put back: the responder's document is removed and the decoy reported.
    names = (iam.list_user_policies if kind == "user" else iam.list_role_policies)(
        **({"UserName": "owned"} if kind == "user" else {"RoleName": "owned"})
    )["PolicyNames"]
    assert dom.DENY_ALL_INLINE not in names
    assert any("decoy" in line and dom.DENY_ALL_INLINE in line for line in report)
    assert k.verify_restored(inc, FULL) == []


@pytest.mark.parametrize("kind", ["user", "role"])
def test_decoy_session_revocation_with_harmless_content_is_rewritten(aws, kind):
    iam = client("iam")
    k.create_deny_all_policy(iam)
    _principal(iam, kind, "owned")
    _put(iam, kind, "owned", dom.REVOKE_SESSIONS, HARMLESS)
    inc = _incident(kind, "owned")
    start = datetime.now(UTC).replace(microsecond=0)

    k.contain(inc)

    assert _revoked_before(iam, kind, "owned") >= start
    assert k.verify(inc) == []
    evidence = [a for a in inc.actions if a.detail.get("replaced_foreign") == "true"]
    assert [a.detail["policy"] for a in evidence] == [dom.REVOKE_SESSIONS]


def test_stale_session_revocation_from_an_earlier_incident_is_moved_to_now(aws):
    iam = client("iam")
    k.create_deny_all_policy(iam)
    _principal(iam, "user", "alice")
    earlier = datetime(2024, 1, 1, tzinfo=UTC)
    _put(iam, "user", "alice", dom.REVOKE_SESSIONS, dom.revoke_document(earlier))  # kept by an earlier restore
    inc = _incident("user", "alice")
    start = datetime.now(UTC).replace(microsecond=0)

    k.contain(inc)

    assert _revoked_before(iam, "user", "alice") >= start
    revoke = [a for a in inc.actions if a.action == "revoke_sessions"]
    assert revoke[-1].detail["previous_issued_before"] == "2024-01-01T00:00:00Z"
    assert "replaced_foreign" not in revoke[-1].detail
    assert k.verify(inc) == []


def test_a_later_revocation_already_in_place_is_kept(aws):
    iam = client("iam")
    k.create_deny_all_policy(iam)
    _principal(iam, "role", "app")
    later = datetime(2099, 1, 1, tzinfo=UTC)
    _put(iam, "role", "app", dom.REVOKE_SESSIONS, dom.revoke_document(later))
    inc = _incident("role", "app")

    k.contain(inc)

    assert _revoked_before(iam, "role", "app") == later
    assert k.verify(inc) == []


@pytest.mark.parametrize("kind", ["user", "role"])
def test_tampered_deny_all_managed_policy_is_not_relied_on_and_verify_names_it(aws, kind):
    iam = client("iam")
    deny = k.create_deny_all_policy(iam)
    iam.create_policy_version(PolicyArn=deny, PolicyDocument=ALLOW_ALL, SetAsDefault=True)  # iam:CreatePolicyVersion
    _principal(iam, kind, "owned")
    inc = _incident(kind, "owned")

    k.contain(inc)

    assert deny not in _attached(iam, kind, "owned")
    assert _document(iam, kind, "owned", dom.DENY_ALL_INLINE) == json.loads(dom.deny_all_document())
    problems = k.verify(inc)
    assert any(deny in p and "Deny * on *" in p for p in problems), problems


def test_tampered_deny_all_managed_policy_already_attached_gets_the_inline_deny(aws):
    iam = client("iam")
    deny = k.create_deny_all_policy(iam)
    _principal(iam, "user", "alice")
    iam.attach_user_policy(UserName="alice", PolicyArn=deny)
    iam.create_policy_version(PolicyArn=deny, PolicyDocument=ALLOW_ALL, SetAsDefault=True)
    inc = _incident("user", "alice")

    k.contain(inc)

    assert _document(iam, "user", "alice", dom.DENY_ALL_INLINE) == json.loads(dom.deny_all_document())
    assert any(deny in p for p in k.verify(inc))


@pytest.mark.parametrize("kind", ["user", "role"])
def test_verify_catches_a_revocation_changed_after_containment(aws, kind):
    iam = client("iam")
    k.create_deny_all_policy(iam)
    _principal(iam, kind, "owned")
    inc = _incident(kind, "owned")
    k.contain(inc)
    assert k.verify(inc) == []

    _put(iam, kind, "owned", dom.REVOKE_SESSIONS, HARMLESS)  # same name, content changed

    problems = k.verify(inc)
    assert any(dom.REVOKE_SESSIONS in p for p in problems), problems


def test_verify_catches_an_earlier_revocation_time_written_after_containment(aws):
    iam = client("iam")
    k.create_deny_all_policy(iam)
    _principal(iam, "user", "alice")
    inc = _incident("user", "alice")
    k.contain(inc)

    _put(iam, "user", "alice", dom.REVOKE_SESSIONS, dom.revoke_document(datetime(2024, 1, 1, tzinfo=UTC)))

    assert any("2024-01-01T00:00:00Z" in p for p in k.verify(inc))


@pytest.mark.parametrize("kind", ["user", "role"])
def test_verify_catches_an_inline_deny_all_changed_after_containment(aws, kind):
    iam = client("iam")
    k.create_deny_all_policy(iam)
    _principal(iam, kind, "owned")
    _put(iam, kind, "owned", dom.DENY_ALL_INLINE, ALLOW_ALL)  # containment overwrites it with the deny
    inc = _incident(kind, "owned")
    k.contain(inc)
    assert k.verify(inc) == []

    _put(iam, kind, "owned", dom.DENY_ALL_INLINE, ALLOW_ALL)

    problems = k.verify(inc)
    assert any(dom.DENY_ALL_INLINE in p for p in problems), problems
    assert any("no deny-all policy" in p for p in problems), problems


def test_is_deny_all_accepts_only_deny_everything():
    assert dom.is_deny_all(json.loads(k.DENY_ALL))
    assert dom.is_deny_all(json.loads(dom.deny_all_document()))
    assert dom.is_deny_all({"Statement": {"Effect": "Deny", "Action": ["*"], "Resource": ["*"]}})
    assert not dom.is_deny_all(json.loads(ALLOW_ALL))
    assert not dom.is_deny_all({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {}}]})
    assert not dom.is_deny_all({"Statement": [{"Effect": "Deny", "NotAction": "*", "Resource": "*"}]})
    two = [{"Effect": "Deny", "Action": "*", "Resource": "*"}, {"Effect": "Allow", "Action": "*", "Resource": "*"}]
    assert not dom.is_deny_all({"Statement": two})


@pytest.mark.parametrize("kind", ["user", "role"])
def test_reserved_names_holding_foreign_content_do_not_count_as_containment_begun(aws, kind):
    """Containment's start re-reads the pre-state unless the responder's own content is on the principal.
    The owner's decoys under the reserved names are not the responder's content."""
    from responder.domain import kinds as domain_kinds

    iam = client("iam")
    k.create_deny_all_policy(iam)
    _principal(iam, kind, "owned")
    _put(iam, kind, "owned", dom.DENY_ALL_INLINE, ALLOW_ALL)
    _put(iam, kind, "owned", dom.REVOKE_SESSIONS, HARMLESS)
    inc = _incident(kind, "owned")

    fresh = domain_kinds.capture(k.GATEWAYS, inc, k.SETTINGS)
    assert fresh is not None and sorted(fresh.inline_policies) == sorted([dom.DENY_ALL_INLINE, dom.REVOKE_SESSIONS])

    k.contain(inc)
    assert domain_kinds.capture(k.GATEWAYS, inc, k.SETTINGS) is None  # now the responder's content is there


def test_keys_are_deactivated_before_the_deny_all_so_a_refused_deny_leaves_no_key_active(aws, monkeypatch):
    """Issue 13, item 12: when IAM refuses the deny-all (a full quota, throttling past retries), the step
    fails, but the compromised key is already inactive: the riskiest credential goes first."""
    from responder.adapters.iam import IamGateway

    iam = client("iam")
    k.create_deny_all_policy(iam)
    iam.create_user(UserName="quota-bot")
    key = iam.create_access_key(UserName="quota-bot")["AccessKey"]["AccessKeyId"]
    inc = k.plan_and_record(
        k.incident(ResourceType.IAM_USER, "quota-bot", access_key=key), k.decision(iam_user={"deny_all": True})
    )

    def refuse(self, kind, name, arn):
        raise RuntimeError("Throttling: Rate exceeded (after the SDK's retries)")

    monkeypatch.setattr(IamGateway, "attach", refuse)
    with pytest.raises(RuntimeError, match="Throttling"):
        k.contain(inc)

    (meta,) = iam.list_access_keys(UserName="quota-bot")["AccessKeyMetadata"]
    assert meta["Status"] == "Inactive"
