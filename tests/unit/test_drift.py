"""Drift since containment: an operator changed the user, role or bucket after the responder contained it.

Restore must remove what the responder added, keep what the operator did, say which in its report, and
verify as restored. (EC2 drift, a group added to an ENI, is in test_ec2_containment.py.)
"""

from __future__ import annotations

import json

from responder.adapters.aws import client
from responder.adapters.iam import IamGateway
from responder.adapters.s3 import S3Gateway
from responder.domain import iam as iam_dom
from responder.domain import s3 as s3_dom
from responder.models.common import ResourceType
from responder.models.incident import RestoreOptions
from tests.support import kinds as k
from tests.support import scenarios

FULL = RestoreOptions(reactivate_keys=True, lift_session_revocation=True)


def _policy(name: str) -> str:
    return client("iam").create_policy(PolicyName=name, PolicyDocument=scenarios.ALLOW)["Policy"]["Arn"]


def test_user_policies_an_operator_changed_are_kept_and_reported(aws):
    iam = client("iam")
    inc = scenarios.iam_user()
    k.contain(inc)
    original = inc.pre_state.attached_policies[0]
    quarantine = _policy("operator-quarantine")
    iam.attach_user_policy(UserName="build-bot", PolicyArn=quarantine)
    iam.detach_user_policy(UserName="build-bot", PolicyArn=original)
    iam.put_user_policy(UserName="build-bot", PolicyName="operator-note", PolicyDocument=scenarios.ALLOW)
    iam.delete_access_key(UserName="build-bot", AccessKeyId=inc.pre_state.keys[1].access_key_id)

    report = k.restore(inc, FULL)

    attached = [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="build-bot")["AttachedPolicies"]]
    assert sorted(attached) == [quarantine]  # deny-all gone, operator's choice kept, original not re-attached
    inline = iam.list_user_policies(UserName="build-bot")["PolicyNames"]
    assert sorted(inline) == ["inline-read", "operator-note"]
    joined = "\n".join(report)
    assert f"added {quarantine}" in joined and f"removed {original}" in joined
    assert "added operator-note" in joined
    assert f"access key {inc.pre_state.keys[1].access_key_id} was deleted after containment" in joined
    assert k.verify_restored(inc, FULL) == []


def test_role_without_drift_still_verifies_exactly(aws):
    iam = client("iam")
    inc = scenarios.iam_role()
    k.contain(inc)
    report = k.restore(inc, FULL)
    assert report == []
    assert iam_dom.capture_role(IamGateway(iam), "app-role") == inc.pre_state
    # a restore that missed the deny-all is caught, drift or not
    iam.attach_role_policy(RoleName="app-role", PolicyArn=k.SETTINGS.deny_all_arn(inc))
    assert any("still attached" in m for m in k.verify_restored(inc, FULL))


def test_bucket_policy_and_block_public_access_an_operator_changed_are_kept_and_reported(aws):
    s3 = client("s3", k.REGION)
    inc = scenarios.s3_bucket()
    k.contain(inc)
    doc = json.loads(s3.get_bucket_policy(Bucket="data-lake")["Policy"])
    doc["Statement"].insert(0, {"Sid": "OperatorForensics", "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{k.ACCOUNT}:role/forensics"},
                                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data-lake/*"})  # fmt: skip
    operator_pab = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False,
                    "RestrictPublicBuckets": False}  # fmt: skip
    s3.put_public_access_block(Bucket="data-lake", PublicAccessBlockConfiguration=operator_pab)
    s3.put_bucket_policy(Bucket="data-lake", Policy=json.dumps(doc))  # public: refused until BlockPublicPolicy is off

    report = k.restore(inc)

    sids = [st["Sid"] for st in json.loads(s3.get_bucket_policy(Bucket="data-lake")["Policy"])["Statement"]]
    assert sids == ["OperatorForensics", "Reader0", "Reader1", "PublicRead"]  # the deny gone, the operator's kept
    assert s3.get_public_access_block(Bucket="data-lake")["PublicAccessBlockConfiguration"] == operator_pab
    now = s3_dom.capture(S3Gateway(s3), "data-lake")
    assert now.ownership_controls == inc.pre_state.ownership_controls  # not drifted: put back exactly
    joined = "\n".join(report)
    assert "policy was changed after containment; kept that version without the responder's deny" in joined
    assert "public_access_block was changed after containment" in joined
    # the operator's BlockPublicAcls stands: the public-read grant is not put back, and the report says so
    assert "public ACL grants before containment (owner, and AllUsers READ) were not put back" in joined
    assert {g.grantee for g in now.acl.foreign_grants()} == set()
    assert k.verify_restored(inc) == []


def test_bucket_whose_policy_an_operator_deleted_is_not_given_the_old_one_back(aws):
    s3 = client("s3", k.REGION)
    inc = scenarios.s3_bucket()
    k.contain(inc)
    s3.delete_bucket_policy(Bucket="data-lake")

    report = k.restore(inc)

    assert s3_dom.capture(S3Gateway(s3), "data-lake").policy is None
    assert any("policy was changed after containment" in line for line in report)
    assert k.verify_restored(inc) == []


def test_reactivate_keys_leaves_a_key_an_operator_disabled_after_containment(aws):
    """Issue 13, item 11: only the finding's key was deactivated; an operator then disabled the other one.
    `--reactivate-keys` puts back the responder's change only, and says why the other stays inactive."""
    iam = client("iam")
    k.create_deny_all_policy(iam)
    iam.create_user(UserName="ci-bot")
    keys = [iam.create_access_key(UserName="ci-bot")["AccessKey"]["AccessKeyId"] for _ in range(2)]
    inc = k.plan_and_record(
        k.incident(ResourceType.IAM_USER, "ci-bot", access_key=keys[0]),
        k.decision(iam_user={"deactivate_keys": "finding"}),
    )
    k.contain(inc)
    iam.update_access_key(UserName="ci-bot", AccessKeyId=keys[1], Status="Inactive")  # the operator's choice

    report = k.restore(inc, FULL)

    status = {m["AccessKeyId"]: m["Status"] for m in iam.list_access_keys(UserName="ci-bot")["AccessKeyMetadata"]}
    assert status == {keys[0]: "Active", keys[1]: "Inactive"}
    assert any(keys[1] in line and "not deactivated by the responder" in line for line in report), report
    assert k.verify_restored(inc, FULL) == []
