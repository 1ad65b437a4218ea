"""Hostile owner, S3 (issue 13, item 2): the bucket's owner may be the attacker and may write a statement
under the responder's reserved Sid. The responder recognises its deny statement by its whole content, never
by the Sid; a foreign statement under that Sid is evidence, recorded, and never decides anything."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from responder.adapters.aws import client, reset_clients
from responder.adapters.s3 import PAB_KEYS, S3Gateway
from responder.domain import kinds
from responder.domain import s3 as dom
from responder.models.common import ResourceType
from tests.support import kinds as k

BUCKET = "hostile-bucket"
OUTSIDER = "arn:aws:iam::444455556666:root"
# what the responder computes for this bucket (its roles, the member role, break-glass), sorted as written
EXEMPT = sorted(set(kinds._exempt(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision(), k.SETTINGS)))


def _decoy(bucket: str = BUCKET) -> dict:
    return {"Sid": dom.DENY_SID, "Effect": "Allow", "Principal": {"AWS": OUTSIDER}, "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}  # fmt: skip


def _partner(bucket: str = BUCKET) -> dict:
    return {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"}  # fmt: skip


def _real_deny(bucket: str = BUCKET) -> dict:
    """What the responder writes, spelled out here independently of the code under test."""
    return {
        "Sid": dom.DENY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": EXEMPT}},
    }


def _statements(s3, bucket: str = BUCKET) -> list[dict]:
    found = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    return [found] if isinstance(found, dict) else found


def _hostile_bucket(statements: list[dict]) -> tuple[object, str]:
    s3 = client("s3", k.REGION)
    s3.create_bucket(Bucket=BUCKET)
    original = json.dumps({"Version": "2012-10-17", "Statement": statements})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=original)
    return s3, original


def test_a_decoy_under_the_reserved_sid_before_containment(aws):
    s3, original = _hostile_bucket([_partner(), _decoy()])
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision())
    assert inc.pre_state.policy == original
    assert not dom.has_deny(original)  # the decoy is not the responder's deny
    assert k.current(inc) == inc.pre_state  # so containment has not begun: the write-ahead capture is taken
    assert any(dom.DENY_SID in line and OUTSIDER in line for line in inc.impact.lines())  # told at plan time

    rec = k.contain(inc)

    statements = _statements(s3)
    assert _real_deny() in statements
    assert _decoy() not in statements
    assert not any(OUTSIDER in json.dumps(s) for s in statements)
    assert dom.has_deny(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert k.verify(inc) == []
    # the decoy is recorded as evidence, by content
    assert any(a.action == "remove_reserved_sid_decoy" and OUTSIDER in a.detail["statement"] for a in rec.actions)
    assert any(n.event == "reserved_sid_decoy" and OUTSIDER in n.detail for n in rec.notes)

    assert k.restore(inc) == []

    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == original  # exactly what the owner had
    assert k.verify_restored(inc) == []


def test_verify_passes_only_for_the_real_deny(aws):
    s3, _ = _hostile_bucket([_partner(), _decoy()])
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision())
    k.contain(inc)
    assert k.verify(inc) == []
    # the attacker puts its decoy back beside a deny that no longer covers the objects
    weak = {**_real_deny(), "Resource": [f"arn:aws:s3:::{BUCKET}"]}
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=dict.fromkeys(PAB_KEYS, False))
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [_partner(), weak]}))
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=dict.fromkeys(PAB_KEYS, True))
    assert not dom.has_deny(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert any("not the one written" in p for p in k.verify(inc))


def test_the_attacker_replaces_the_deny_with_an_allow_under_the_same_sid(aws):
    s3, original = _hostile_bucket([_partner()])
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision())
    k.contain(inc)
    assert k.verify(inc) == []

    statements = [s for s in _statements(s3) if s != _real_deny()] + [_decoy()]
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    policy = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]

    assert not dom.has_deny(policy)
    assert k.current(inc) is not None  # not contained any more, whatever the Sid says
    problems = k.verify(inc)
    assert any("not the one written" in p for p in problems)
    assert any(dom.DENY_SID in p and "not the responder's" in p for p in problems)

    report = k.restore(inc)

    # the reserved Sid is the responder's: a foreign statement there is evidence, removed and reported
    assert any(dom.DENY_SID in line and OUTSIDER in line for line in report)
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == original
    assert k.verify_restored(inc) == []


# -- property: random pre-existing policies, some using the reserved Sid ------------------------------

_principals = st.sampled_from(["*", {"AWS": OUTSIDER}, {"AWS": f"arn:aws:iam::{k.ACCOUNT}:root"}])
_actions = st.sampled_from(["s3:*", "s3:GetObject", ["s3:GetObject", "s3:PutObject"], "s3:ListBucket"])
_resources = st.sampled_from([f"arn:aws:s3:::{BUCKET}/*", [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]])


@st.composite
def _statement(draw: st.DrawFn, index: int) -> dict:
    reserved = draw(st.booleans()) and index == 0  # S3 wants Sids unique: at most one uses the reserved Sid
    effect = draw(st.sampled_from(["Allow", "Deny"]))
    principal = draw(_principals)
    if principal == "*" and effect == "Allow":
        principal = {"AWS": OUTSIDER}  # keep the bucket non-public so S3 accepts every example as is
    statement = {"Sid": dom.DENY_SID if reserved else f"S{index}", "Effect": effect, "Principal": principal,
                 "Action": draw(_actions), "Resource": draw(_resources)}  # fmt: skip
    if draw(st.booleans()) and reserved:  # the responder's exact shape, with the attacker exempt
        statement = {**_real_deny(), "Condition": {"ArnNotLike": {"aws:PrincipalArn": [OUTSIDER]}}}
    return statement


_policies = st.integers(min_value=0, max_value=3).flatmap(
    lambda n: st.tuples(*[_statement(i) for i in range(n)]).map(list)
)


@settings(max_examples=25)
@given(statements=_policies, reserved_first=st.booleans())
def test_random_policies_are_denied_when_contained_and_restored_exactly(statements, reserved_first):
    if not reserved_first:
        statements = list(reversed(statements))
    reset_clients()
    with mock_aws():
        s3 = client("s3", k.REGION)
        s3.create_bucket(Bucket=BUCKET)
        original = None
        if statements:
            original = json.dumps({"Version": "2012-10-17", "Statement": statements})
            s3.put_bucket_policy(Bucket=BUCKET, Policy=original)
        inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, BUCKET), k.decision())

        k.contain(inc)

        found = _statements(s3)
        assert _real_deny() in found  # everyone not exempt is denied, and the deny wins over any Allow
        assert [s.get("Sid") for s in found].count(dom.DENY_SID) == 1
        assert k.verify(inc) == []

        k.restore(inc)

        assert S3Gateway(s3).policy(BUCKET) == original  # the exact text, or no policy at all
        assert k.verify_restored(inc) == []
    reset_clients()


# CloudTrail's required bucket policy, as the CloudTrail User Guide writes it ("Amazon S3 bucket policy for
# CloudTrail": AWSCloudTrailAclCheck and AWSCloudTrailWrite, principal cloudtrail.amazonaws.com).
TRAIL_BUCKET = "org-trail-logs"
TRAIL_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}"},
            {"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}/AWSLogs/123456789012/*",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
        ],
    }
)  # fmt: skip


def test_containing_a_log_destination_bucket_says_that_delivery_stops(aws):
    """Issue 13, item 12: the deny stops CloudTrail's (and Config's, and access logs') delivery; the plan,
    the approval email and the CONTAINED email say so, naming the services, instead of stopping it silently."""
    from responder.domain import messages
    from responder.models.incident import Status

    s3 = client("s3", k.REGION)
    s3.create_bucket(Bucket=TRAIL_BUCKET)
    s3.put_bucket_policy(Bucket=TRAIL_BUCKET, Policy=TRAIL_POLICY)
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, TRAIL_BUCKET), k.decision())

    warning = [line for line in inc.impact.lines() if "cloudtrail.amazonaws.com" in line]
    assert warning and "stops" in warning[0], inc.impact.lines()
    assert any("cloudtrail.amazonaws.com" in a.description for a in inc.plan if a.action == "deny_policy")
    k.contain(inc)
    inc.status = Status.CONTAINED
    assert "cloudtrail.amazonaws.com" in messages.outcome(inc).body
