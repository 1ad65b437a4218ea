"""Property: for a hostile owner's random policies on an IAM user or role, containment denies and restore returns it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from responder.adapters.aws import client, reset_clients
from responder.domain import iam as dom
from responder.models.common import ResourceType
from responder.models.incident import RestoreOptions
from tests.support import kinds as k

# The example count comes from the hypothesis profile in tests/conftest.py: the default profile (CI) runs a
# modest number, HYPOTHESIS_PROFILE=nightly many more. Each example builds its own moto world.
FULL = RestoreOptions(reactivate_keys=True, lift_session_revocation=True)
STAMP = "%Y-%m-%dT%H:%M:%SZ"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
RESERVED = (dom.DENY_ALL_INLINE, dom.REVOKE_SESSIONS)
RESPONDER_DENY = json.loads(dom.deny_all_document())
MANAGED_DENY = json.loads(k.DENY_ALL)


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


CONDITION = {"Bool": {"aws:SecureTransport": "false"}}
ALLOW_ALL = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})

allow_documents = st.builds(
    lambda actions, resource: _doc({"Effect": "Allow", "Action": actions, "Resource": resource}),
    st.lists(
        st.sampled_from(["s3:GetObject", "ec2:Describe*", "iam:List*", "sts:AssumeRole", "*"]),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    st.sampled_from(["*", "arn:aws:s3:::prop-bucket/*"]),
)
times = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda t: t.replace(microsecond=0, tzinfo=UTC)
)
past_times = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2025, 12, 31)).map(
    lambda t: t.replace(microsecond=0, tzinfo=UTC)
)
# What an owner may write under the responder's reserved names: grants, harmless denies, near misses of the
# responder's documents, and the responder's own documents (left by an earlier incident's restore).
hostile_documents = st.one_of(
    st.just(ALLOW_ALL),
    allow_documents,
    st.just(_doc({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/y"})),
    st.just(k.DENY_ALL),  # Deny * on *, but not the responder's exact document (no Sid)
    st.just(_doc({**json.loads(dom.deny_all_document())["Statement"][0], "Condition": CONDITION})),
    st.just(dom.deny_all_document()),
    past_times.map(dom.revoke_document),  # an old-time revocation
    times.map(dom.revoke_document),
    past_times.map(
        lambda t: _doc(
            json.loads(dom.revoke_document(t))["Statement"][0], {"Effect": "Allow", "Action": "*", "Resource": "*"}
        )
    ),  # the responder's revocation plus an Allow *:*
)
inline_policies = st.lists(
    st.sampled_from(["app-read", "ops-legacy", "ci-deploy", *RESERVED]).flatmap(
        lambda name: st.tuples(st.just(name), hostile_documents if name in RESERVED else allow_documents)
    ),
    max_size=3,
    unique_by=lambda p: p[0],
)
cases = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["user", "role"]),
        "managed": st.lists(allow_documents, max_size=3),
        "inline": inline_policies,
        "keys": st.lists(st.sampled_from(["Active", "Inactive"]), max_size=2),
        "tampered": st.booleans(),
        "owner_attached_deny": st.booleans(),  # the owner attached the deny-all itself (before any tampering)
    }
)


def _key(kind: str, name: str) -> dict[str, str]:
    return {"UserName": name} if kind == "user" else {"RoleName": name}


def _parse(raw: Any) -> dict[str, Any]:
    return json.loads(raw) if isinstance(raw, str) else raw


def _snapshot(iam, kind: str, name: str) -> dict[str, Any]:
    """The principal's policies, their documents and (for users) key statuses, read back from IAM."""
    key = _key(kind, name)
    if kind == "user":
        attached = iam.list_attached_user_policies(**key)["AttachedPolicies"]
        names = iam.list_user_policies(**key)["PolicyNames"]
        inline = {n: _parse(iam.get_user_policy(**key, PolicyName=n)["PolicyDocument"]) for n in names}
        keys = {m["AccessKeyId"]: m["Status"] for m in iam.list_access_keys(**key)["AccessKeyMetadata"]}
    else:
        attached = iam.list_attached_role_policies(**key)["AttachedPolicies"]
        names = iam.list_role_policies(**key)["PolicyNames"]
        inline = {n: _parse(iam.get_role_policy(**key, PolicyName=n)["PolicyDocument"]) for n in names}
        keys = {}
    return {"attached": sorted(p["PolicyArn"] for p in attached), "inline": inline, "keys": keys}


def _default_document(iam, arn: str) -> dict[str, Any]:
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return _parse(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = doc.get("Statement")
    return found if isinstance(found, list) else [found]


def _build(iam, case: dict[str, Any]) -> str:
    kind, name = case["kind"], f"hostile-{case['kind']}"
    deny = k.create_deny_all_policy(iam)
    attach_later = [deny] if case["owner_attached_deny"] else []
    if case["tampered"]:  # iam:CreatePolicyVersion: the deny-all's new default version allows everything
        iam.create_policy_version(PolicyArn=deny, PolicyDocument=ALLOW_ALL, SetAsDefault=True)
    if kind == "user":
        iam.create_user(UserName=name)
        for status in case["keys"]:
            key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
            iam.update_access_key(UserName=name, AccessKeyId=key, Status=status)
    else:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    for i, document in enumerate(case["managed"]):
        attach_later.append(
            iam.create_policy(PolicyName=f"owner-managed-{i}", PolicyDocument=document)["Policy"]["Arn"]
        )
    for arn in attach_later:
        (iam.attach_user_policy if kind == "user" else iam.attach_role_policy)(**_key(kind, name), PolicyArn=arn)
    for policy, document in case["inline"]:
        (iam.put_user_policy if kind == "user" else iam.put_role_policy)(
            **_key(kind, name), PolicyName=policy, PolicyDocument=document
        )
    return name


def _check(case: dict[str, Any]) -> None:
    iam = client("iam")
    kind = case["kind"]
    name = _build(iam, case)
    deny = f"arn:aws:iam::{k.ACCOUNT}:policy/{k.SETTINGS.deny_all_policy_name}"
    before = _snapshot(iam, kind, name)
    pre_deny = before["inline"].get(dom.DENY_ALL_INLINE)
    pre_revoke = before["inline"].get(dom.REVOKE_SESSIONS)
    # A reserved name holding anything but the responder's own document is a decoy.
    decoys = set()
    if pre_deny is not None and not dom.is_responder_deny_all(pre_deny):
        decoys.add(dom.DENY_ALL_INLINE)
    pre_revoked = dom.revocation_time(pre_revoke)
    if pre_revoke is not None and pre_revoked is None:
        decoys.add(dom.REVOKE_SESSIONS)

    if kind == "user":
        dec = k.decision(iam_user={"deny_all": True, "revoke_sessions": True, "deactivate_keys": "all"})
        inc = k.plan_and_record(k.incident(ResourceType.IAM_USER, name), dec)
    else:
        dec = k.decision(iam_role={"deny_all": True, "revoke_sessions": True})
        inc = k.plan_and_record(k.incident(ResourceType.IAM_ROLE, name), dec)
    start = datetime.now(UTC).replace(microsecond=0)
    k.contain(inc)
    end = datetime.now(UTC).replace(microsecond=0)

    # verify: clean, except that a tampered deny-all managed policy is always named (by design).
    problems = k.verify(inc)
    if case["tampered"]:
        assert len(problems) == 1 and deny in problems[0] and "Deny * on *" in problems[0], problems
    else:
        assert problems == []

    # The effective state, read back: an explicit Deny * on *, by the managed policy or the inline deny-all.
    during = _snapshot(iam, kind, name)
    managed_denies = deny in during["attached"] and _default_document(iam, deny) == MANAGED_DENY
    inline_denies = during["inline"].get(dom.DENY_ALL_INLINE) == RESPONDER_DENY
    assert managed_denies or inline_denies, during
    if case["tampered"] or pre_deny is not None:
        assert inline_denies and (deny in during["attached"]) == case["owner_attached_deny"], during
    else:
        assert managed_denies and dom.DENY_ALL_INLINE not in during["inline"], during
    # No reserved name holds an Allow: each that is there holds exactly the responder's document.
    for policy, doc in during["inline"].items():
        if policy in RESERVED:
            assert all(s.get("Effect") != "Allow" for s in _statements(doc)), (policy, doc)
    revoked = dom.revocation_time(during["inline"][dom.REVOKE_SESSIONS])
    assert revoked is not None and revoked >= start, during["inline"][dom.REVOKE_SESSIONS]
    if pre_revoked is not None and pre_revoked >= end:
        assert revoked == pre_revoked  # a later revocation already in place is kept
    else:
        assert revoked <= end
    assert set(during["keys"].values()) <= {"Inactive"}, during["keys"]
    # The owner's other policies are untouched.
    assert {p: d for p, d in during["inline"].items() if p not in RESERVED} == {
        p: d for p, d in before["inline"].items() if p not in RESERVED
    }
    assert set(before["attached"]) <= set(during["attached"])
    # Each decoy's original document is recorded as evidence.
    evidence = {
        a.detail["policy"]: json.loads(a.detail["foreign_document"])
        for a in inc.actions
        if a.detail.get("replaced_foreign") == "true"
    }
    assert evidence == {p: before["inline"][p] for p in decoys}

    report = k.restore(inc, FULL)

    assert k.verify_restored(inc, FULL) == []
    after = _snapshot(iam, kind, name)
    assert after["attached"] == before["attached"]
    assert after["keys"] == before["keys"]
    # Exactly the pre-state's inline policies, except: a decoy is not put back (and is reported); the
    # responder's own revocation from an earlier incident stays, at the time containment moved it to.
    expected = {p: d for p, d in before["inline"].items() if p not in decoys}
    if dom.REVOKE_SESSIONS in expected:
        expected[dom.REVOKE_SESSIONS] = json.loads(dom.revoke_document(revoked))
    assert after["inline"] == expected
    reported = {p for p in RESERVED if any("decoy" in line and p in line for line in report)}
    assert reported == decoys, report
    assert _default_document(iam, deny) == (json.loads(ALLOW_ALL) if case["tampered"] else MANAGED_DENY)


@given(case=cases)
def test_hostile_owner_policies_contain_to_deny_and_restore_exactly(case):
    reset_clients()
    try:
        with mock_aws():
            _check(case)
    finally:
        reset_clients()
