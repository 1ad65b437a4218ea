"""Public buckets (a public Allow statement and a public ACL grant) contained and restored exactly, under
the emulator's S3 rules: public policies refused under BlockPublicPolicy, public ACLs under
BlockPublicAcls, BucketOwnerEnforced refused while the ACL grants outside the owner."""

from __future__ import annotations

import json

import pytest

from responder.adapters.aws import client
from responder.adapters.s3 import PAB_KEYS, S3Gateway
from responder.domain import s3 as dom
from responder.models.common import ResourceType
from tests.support import kinds as k

BUCKET = "public-site"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
OFF = dict.fromkeys(PAB_KEYS, False)
# A public Allow statement as AWS's own static-website example writes it, and a fixed-principal one.
PUBLIC_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{BUCKET}/*"},
            {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
             "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
        ],
    }
)  # fmt: skip
MUTATING = ("Put", "Delete")


def _public_bucket(pab: dict | None = OFF, ownership: str | None = "ObjectWriter"):
    s3 = client("s3", k.REGION)
    s3.create_bucket(Bucket=BUCKET)
    owner = s3.get_bucket_acl(Bucket=BUCKET)["Owner"]["ID"]
    s3.put_bucket_acl(
        Bucket=BUCKET,
        AccessControlPolicy={
            "Owner": {"ID": owner},
            "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": owner}, "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"},
                {"Grantee": {"Type": "Group", "URI": AUTHENTICATED_USERS}, "Permission": "READ_ACP"},
            ],
        },
    )
    s3.put_bucket_policy(Bucket=BUCKET, Policy=PUBLIC_POLICY)
    if ownership is not None:
        s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
    if pab is not None:
        s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=pab)
    return s3


def _record_writes(s3) -> list[str]:
    """The S3 operations that change something, in the order the responder sends them."""
    writes: list[str] = []

    def record(model, **_):
        if model.name.startswith(MUTATING):
            writes.append(model.name)

    s3.meta.events.register("before-call.s3", record)
    return writes


def _pab(s3) -> dict:
    return s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]


def _grantees(s3) -> set[str]:
    return {g["Grantee"].get("URI") or g["Grantee"]["ID"] for g in s3.get_bucket_acl(Bucket=BUCKET)["Grants"]}


def test_public_bucket_is_contained_deny_first_and_restored_exactly(aws):
    s3 = _public_bucket()
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision())
    before = inc.pre_state
    assert {g.grantee for g in before.acl.foreign_grants()} == {ALL_USERS, AUTHENTICATED_USERS}
    assert any("Reset the ACL" in a.description and "AllUsers READ" in a.description for a in inc.plan)
    writes = _record_writes(s3)

    k.contain(inc)

    # the deny first, while S3 still accepts the public statements it keeps; ownership last, on an owner-only ACL
    assert writes == ["PutBucketPolicy", "PutPublicAccessBlock", "PutBucketAcl", "PutBucketOwnershipControls"]
    statements = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert [st["Sid"] for st in statements] == ["PublicRead", "Partner", dom.DENY_SID]
    assert _pab(s3) == dict.fromkeys(PAB_KEYS, True)
    assert _grantees(s3) == {before.acl.owner_id}
    assert s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"] == dom.ACLS_OFF
    assert k.verify(inc) == []

    writes.clear()
    assert k.restore(inc) == []

    # ACLs on before grants, BPA down before the public grant and policy, the policy (the deny) last
    assert writes == ["PutBucketOwnershipControls", "PutPublicAccessBlock", "PutBucketAcl", "PutBucketPolicy"]
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == PUBLIC_POLICY
    assert _pab(s3) == OFF
    assert _grantees(s3) == {before.acl.owner_id, ALL_USERS, AUTHENTICATED_USERS}
    assert dom.capture(S3Gateway(s3), BUCKET) == before
    assert k.verify_restored(inc) == []


def test_public_bucket_without_any_block_or_ownership_has_them_deleted_on_restore(aws):
    s3 = _public_bucket(pab=None, ownership=None)
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision())
    k.contain(inc)
    assert k.verify(inc) == []
    k.restore(inc)
    assert dom.capture(S3Gateway(s3), BUCKET) == inc.pre_state
    assert k.verify_restored(inc) == []


@pytest.mark.parametrize("block_public_access", [True, False])
def test_block_public_policy_already_on_with_a_public_policy(aws, block_public_access):
    """Enabling BlockPublicPolicy leaves a policy in place, so a bucket can have both; S3 then refuses the
    merged policy. Only that setting is lifted, for that one put, and put back at once."""
    pab = {**OFF, "BlockPublicPolicy": True}
    s3 = _public_bucket(pab=pab)
    inc = k.plan_and_record(
        k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision(s3={"block_public_access": block_public_access})
    )
    assert any("BlockPublicPolicy is on" in line for line in inc.impact.lines())
    writes = _record_writes(s3)

    rec = k.contain(inc)

    assert writes[:4] == ["PutBucketPolicy", "PutPublicAccessBlock", "PutBucketPolicy", "PutPublicAccessBlock"]
    assert [a.action for a in rec.actions][:3] == [
        "lift_block_public_policy",
        "reapply_block_public_policy",
        "deny_policy",
    ]
    assert dom.has_deny(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert _pab(s3) == (dict.fromkeys(PAB_KEYS, True) if block_public_access else pab)
    assert k.verify(inc) == []

    k.restore(inc)

    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == PUBLIC_POLICY
    assert _pab(s3) == pab
    assert dom.capture(S3Gateway(s3), BUCKET) == inc.pre_state
    assert k.verify_restored(inc) == []


def test_account_level_block_public_policy_fails_clearly_and_closes_what_it_may(aws):
    s3 = _public_bucket()
    client("s3control", k.REGION).put_public_access_block(
        AccountId=k.ACCOUNT, PublicAccessBlockConfiguration={"BlockPublicPolicy": True}
    )
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision())
    before = inc.pre_state

    with pytest.raises(dom.PublicAccessRefused, match="account-level Block Public Access"):
        k.contain(inc)

    # nothing more open than found: the policy as it was, and the other steps closed the bucket
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == PUBLIC_POLICY
    assert _pab(s3) == dict.fromkeys(PAB_KEYS, True)
    assert _grantees(s3) == {before.acl.owner_id}
    assert s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"] == dom.ACLS_OFF
    assert "deny_policy" not in [a.action for a in inc.actions]

    k.restore(inc)
    assert dom.capture(S3Gateway(s3), BUCKET) == before
    assert k.verify_restored(inc) == []


@pytest.mark.parametrize(
    "failing", ["put_policy", "put_public_access_block", "put_acl_private", "put_ownership_controls"]
)
def test_public_bucket_failure_at_each_step_then_restore(aws, monkeypatch, failing):
    s3 = _public_bucket()
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision())
    before = inc.pre_state

    def boom(*args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(S3Gateway, failing, boom)
    with pytest.raises(RuntimeError):
        k.contain(inc)
    monkeypatch.undo()
    k.restore(inc)
    assert k.verify_restored(inc) == []
    assert dom.capture(S3Gateway(s3), BUCKET) == before


def test_verify_reads_the_policy_content_not_the_statement_id(aws):
    """A statement under the responder's Sid that does not deny (the bucket's owner may be the attacker)
    is not containment."""
    s3 = _public_bucket()
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision())
    k.contain(inc)
    doc = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    doc["Statement"][-1]["Condition"]["ArnNotLike"]["aws:PrincipalArn"].append("arn:aws:iam::444455556666:root")
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=OFF)  # S3 refuses it under BPA
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(doc))
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=dict.fromkeys(PAB_KEYS, True))

    assert any("not the one written" in p for p in k.verify(inc))


def test_verify_reads_the_acl_back(aws, monkeypatch):
    s3 = _public_bucket()
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision())
    monkeypatch.setattr(S3Gateway, "put_acl_private", lambda self, bucket: None)  # a reset that did nothing
    monkeypatch.setattr(S3Gateway, "put_ownership_controls", lambda self, bucket, rules: None)
    k.contain(inc)
    problems = k.verify(inc)
    assert any("ACL still grants outside the owner" in p and "AllUsers READ" in p for p in problems)
    assert any("ACLs are not disabled" in p for p in problems)
    assert ALL_USERS in _grantees(s3)


def test_ownership_and_acl_an_operator_changed_after_containment_are_kept_and_reported(aws):
    s3 = _public_bucket()
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision())
    k.contain(inc)
    s3.put_bucket_ownership_controls(  # the operator turns ACLs back on
        Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    )
    s3.put_bucket_acl(Bucket=BUCKET, ACL="log-delivery-write")  # and grants the log delivery group

    report = k.restore(inc)

    joined = "\n".join(report)
    assert "ownership_controls was changed after containment" in joined
    assert "its ACL was changed after containment (owner, and LogDelivery READ_ACP, LogDelivery WRITE)" in joined
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == PUBLIC_POLICY
    assert k.verify_restored(inc) == []


def test_incident_recorded_before_acls_were_recorded_leaves_the_acl_alone(aws):
    s3 = _public_bucket()
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision(s3={"disable_acls": False}))
    inc.pre_state = inc.pre_state.model_copy(update={"acl": None})
    k.contain(inc)
    writes = _record_writes(s3)
    k.restore(inc)
    assert "PutBucketAcl" not in writes
    assert k.verify_restored(inc) == []


def test_block_public_acls_already_on_with_a_public_grant_is_restored_exactly(aws):
    """Enabling BlockPublicAcls leaves the grants in place; restore lifts it for the one PutBucketAcl."""
    pab = {**OFF, "BlockPublicAcls": True}
    s3 = _public_bucket(pab=pab)
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision())
    k.contain(inc)
    assert k.verify(inc) == []
    writes = _record_writes(s3)

    rec_report = k.restore(inc)

    assert rec_report == []
    assert writes == [
        "PutBucketOwnershipControls",
        "PutPublicAccessBlock",  # back to the pre-state: BlockPublicAcls on
        "PutBucketAcl",  # refused: public
        "PutPublicAccessBlock",  # BlockPublicAcls lifted ...
        "PutBucketAcl",
        "PutPublicAccessBlock",  # ... and put back at once
        "PutBucketPolicy",
    ]
    assert _pab(s3) == pab
    assert ALL_USERS in _grantees(s3)
    assert dom.capture(S3Gateway(s3), BUCKET) == inc.pre_state
    assert k.verify_restored(inc) == []
