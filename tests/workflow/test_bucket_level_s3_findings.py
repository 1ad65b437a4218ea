"""Bucket-level S3 findings (from CloudTrail management events: `resourceType: AccessKey`, the buckets in
`s3BucketDetails`) through the deployed stack: every bucket named is contained, each by an incident of its
own, and each is restored exactly. A redelivery contains nothing twice."""

from __future__ import annotations

import json

from responder.adapters.preferences import PreferenceStore
from responder.models.preferences import Mode, Rule, RuleMatch
from responder_cli.samples import s3_finding

GRANTED = "Policy:S3/BucketPublicAccessGranted"


def _auto_for_buckets(responder) -> None:
    store = PreferenceStore(responder.stack.outputs["PreferencesTable"], responder.session.client("dynamodb"))
    store.put(Rule(id="buckets-auto", priority=1, match=RuleMatch(resource_types=["s3_bucket"]), mode=Mode.AUTO))


def _policy(bucket: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "Partner", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    )  # fmt: skip


def test_a_finding_naming_two_buckets_contains_and_restores_both(responder):
    _auto_for_buckets(responder)
    s3 = responder.session.client("s3")
    buckets = ["ledger-exports", "ledger-archive"]
    for bucket in buckets:
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket))
    event = s3_finding(GRANTED, bucket=buckets[0], more_buckets=(buckets[1],))
    assert event["detail"]["resource"]["resourceType"] == "AccessKey"  # as GuardDuty sends it

    assert responder.wait(responder.start(event))["status"] == "SUCCEEDED"
    descriptions = responder.wait_all()
    assert len(descriptions) == 2 and all(d["status"] == "SUCCEEDED" for d in descriptions)
    incidents = {i.resource.id: i for i in responder.incidents()}
    assert sorted(incidents) == sorted(buckets)
    for bucket in buckets:
        assert incidents[bucket].status.value == "CONTAINED"
        sids = [s["Sid"] for s in json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]]
        assert sids == ["Partner", "ResponderContainmentDenyAll"]

    # The same finding again (GuardDuty re-sends it with a new event id): absorbed, nothing contained twice.
    again = json.loads(json.dumps(event))
    again["id"] = "redelivery-1"
    assert responder.wait(responder.start(again))["status"] == "SUCCEEDED"
    assert all(d["status"] == "SUCCEEDED" for d in responder.wait_all())
    assert len(responder.incidents()) == 2
    assert all(i.delivery_count == 2 for i in responder.incidents())

    for bucket in buckets:
        assert responder.wait(responder.restore(incidents[bucket].incident_id))["status"] == "SUCCEEDED"
        assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == _policy(bucket)
