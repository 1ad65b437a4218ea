"""S3 buckets (Block Public Access, ACLs off, merged deny policy) and WAF IP blocks, with exact restore."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from responder.adapters.aws import client
from responder.adapters.s3 import PAB_KEYS, S3Gateway
from responder.adapters.waf import WafGateway
from responder.domain import s3 as dom
from responder.domain.kinds import UnsupportedResource
from responder.models.common import ResourceType
from responder.models.incident import Status
from tests.support import kinds as k


def _statement(i: int, bucket: str) -> dict:
    return {
        "Sid": f"Reader{i}",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::123456789012:role/reader-{i}"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }


def _bucket(s3, name: str, statements: int = 0, pab: dict | None = None, ownership: str | None = None) -> str | None:
    s3.create_bucket(Bucket=name)
    policy = None
    if statements:
        policy = json.dumps({"Version": "2012-10-17", "Statement": [_statement(i, name) for i in range(statements)]})
        s3.put_bucket_policy(Bucket=name, Policy=policy)
    if pab is not None:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=pab)
    if ownership is not None:
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
    return policy


def test_bucket_contained_keeping_its_statements_then_restored_exactly(aws):
    s3 = client("s3", "us-east-1")
    original = _bucket(s3, "data-lake", statements=2, pab=dict.fromkeys(PAB_KEYS, False))
    inc = k.plan_and_record(
        k.incident(ResourceType.S3_BUCKET, "data-lake"),
        k.decision(s3={"break_glass_arns": ["arn:aws:iam::123456789012:role/breakglass"]}),
    )

    k.contain(inc)

    policy = json.loads(s3.get_bucket_policy(Bucket="data-lake")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["Reader0", "Reader1", dom.DENY_SID]
    deny = policy["Statement"][-1]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    exempt = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert "arn:aws:iam::123456789012:role/breakglass" in exempt
    assert "arn:aws:iam::123456789012:role/ContainmentResponder-*" in exempt
    assert s3.get_public_access_block(Bucket="data-lake")["PublicAccessBlockConfiguration"] == dict.fromkeys(
        PAB_KEYS, True
    )
    assert s3.get_bucket_ownership_controls(Bucket="data-lake")["OwnershipControls"]["Rules"] == dom.ACLS_OFF
    assert k.verify(inc) == []

    k.restore(inc)

    assert s3.get_bucket_policy(Bucket="data-lake")["Policy"] == original
    assert s3.get_public_access_block(Bucket="data-lake")["PublicAccessBlockConfiguration"] == dict.fromkeys(
        PAB_KEYS, False
    )
    with pytest.raises(ClientError, match="OwnershipControlsNotFound"):
        s3.get_bucket_ownership_controls(Bucket="data-lake")
    assert k.verify_restored(inc) == []


def test_bucket_without_policy_or_block_has_them_deleted_on_restore(aws):
    s3 = client("s3", "us-east-1")
    _bucket(s3, "bare-bucket")
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, "bare-bucket"), k.decision())
    k.contain(inc)
    assert k.verify(inc) == []
    k.restore(inc)
    gw = S3Gateway(s3)
    assert gw.policy("bare-bucket") is None and gw.public_access_block("bare-bucket") is None
    assert k.verify_restored(inc) == []


def test_policy_over_twenty_kilobytes_is_refused_before_anything_changes(aws):
    s3 = client("s3", "us-east-1")
    s3.create_bucket(Bucket="big-policy")
    statements = []
    while True:  # as many statements as fit, leaving less room than the containment statement needs
        candidate = [*statements, _statement(len(statements), "big-policy")]
        if (
            len(json.dumps({"Version": "2012-10-17", "Statement": candidate}, separators=(",", ":")))
            > dom.MAX_POLICY_BYTES - 100
        ):
            break
        statements = candidate
    s3.put_bucket_policy(
        Bucket="big-policy",
        Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":")),
    )
    before = dom.capture(S3Gateway(s3), "big-policy")
    assert len(before.policy.encode()) <= dom.MAX_POLICY_BYTES
    with pytest.raises(dom.PolicyTooLarge, match="nothing was changed"):
        k.plan_and_record(k.incident(ResourceType.S3_BUCKET, "big-policy"), k.decision())
    assert dom.capture(S3Gateway(s3), "big-policy") == before


def test_bucket_rerun_is_idempotent(aws):
    s3 = client("s3", "us-east-1")
    _bucket(s3, "twice", statements=1)
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, "twice"), k.decision())
    k.contain(inc)
    second = k.contain(inc)
    assert {a.status.value for a in second.actions} == {"skipped"}
    statements = json.loads(s3.get_bucket_policy(Bucket="twice")["Policy"])["Statement"]
    assert [s["Sid"] for s in statements].count(dom.DENY_SID) == 1


@pytest.mark.parametrize("failing", ["put_public_access_block", "put_ownership_controls", "put_policy"])
def test_bucket_failure_at_each_step_then_restore(aws, monkeypatch, failing):
    s3 = client("s3", "us-east-1")
    _bucket(s3, "flaky", statements=1, pab=dict.fromkeys(PAB_KEYS, False), ownership="ObjectWriter")
    inc = k.plan_and_record(k.incident(ResourceType.S3_BUCKET, "flaky"), k.decision())
    before = inc.pre_state

    def boom(*args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(S3Gateway, failing, boom)
    with pytest.raises(RuntimeError):
        k.contain(inc)
    monkeypatch.undo()
    k.restore(inc)
    assert k.verify_restored(inc) == []
    assert dom.capture(S3Gateway(s3), "flaky") == before


# -- WAF --------------------------------------------------------------------------------------------
def _ip_set(wafv2, addresses: list[str], version: str = "IPV4") -> str:
    return wafv2.create_ip_set(Name="blocklist", Scope="REGIONAL", IPAddressVersion=version, Addresses=addresses)[
        "Summary"
    ]["ARN"]


def _addresses(wafv2, arn: str) -> list[str]:
    name, set_id = arn.split("/")[-2:]
    return wafv2.get_ip_set(Name=name, Scope="REGIONAL", Id=set_id)["IPSet"]["Addresses"]


def _bucket_incident_with_waf(s3, arn: str, ip: str):
    _bucket(s3, f"waf-{abs(hash(ip)) % 10_000}")
    return k.plan_and_record(
        k.incident(ResourceType.S3_BUCKET, f"waf-{abs(hash(ip)) % 10_000}", remote_ip=ip),
        k.decision(waf_ip_set_arn=arn),
    )


def test_waf_blocks_the_remote_address_and_restore_removes_only_it(aws):
    wafv2, s3 = client("wafv2", "us-east-1"), client("s3", "us-east-1")
    arn = _ip_set(wafv2, ["203.0.113.0/24"])
    inc = _bucket_incident_with_waf(s3, arn, "198.51.100.23")
    assert inc.waf is not None and inc.waf.address == "198.51.100.23/32" and not inc.waf.already_present

    k.contain(inc)
    assert sorted(_addresses(wafv2, arn)) == ["198.51.100.23/32", "203.0.113.0/24"]
    assert k.verify(inc) == []

    k.restore(inc)
    assert _addresses(wafv2, arn) == ["203.0.113.0/24"]


def test_waf_address_already_present_or_still_needed_is_left(aws):
    wafv2, s3 = client("wafv2", "us-east-1"), client("s3", "us-east-1")
    arn = _ip_set(wafv2, ["198.51.100.23/32"])
    inc = _bucket_incident_with_waf(s3, arn, "198.51.100.23")
    assert inc.waf.already_present
    k.contain(inc)
    assert any("before containment" in line for line in k.restore(inc))
    assert _addresses(wafv2, arn) == ["198.51.100.23/32"]

    other = _bucket_incident_with_waf(s3, arn.replace("", ""), "192.0.2.10")
    k.contain(other)
    assert any("another open incident" in line for line in k.restore(other, waf_still_needed=True))
    assert "192.0.2.10/32" in _addresses(wafv2, arn)


def test_waf_ipv6_is_a_128_and_a_version_mismatch_is_not_blocked(aws):
    wafv2, s3 = client("wafv2", "us-east-1"), client("s3", "us-east-1")
    v6 = _ip_set(wafv2, [], version="IPV6")
    inc = _bucket_incident_with_waf(s3, v6, "2001:db8::7")
    assert inc.waf.address == "2001:db8::7/128"
    mismatch = _bucket_incident_with_waf(s3, v6, "198.51.100.99")
    assert mismatch.waf is None
    assert any("IPV6" in line for line in mismatch.impact.lines())


def test_waf_retries_optimistic_lock_failures(aws, monkeypatch):
    wafv2, s3 = client("wafv2", "us-east-1"), client("s3", "us-east-1")
    arn = _ip_set(wafv2, [])
    inc = _bucket_incident_with_waf(s3, arn, "198.51.100.23")
    real = WafGateway._read
    calls = {"n": 0}

    def stale_then_fresh(self, ref):
        ip_set, token = real(self, ref)
        calls["n"] += 1
        return ip_set, ("stale-token" if calls["n"] == 1 else token)

    monkeypatch.setattr(WafGateway, "_read", stale_then_fresh)
    k.contain(inc)
    assert calls["n"] >= 2
    assert _addresses(wafv2, arn) == ["198.51.100.23/32"]


def test_unsupported_kind_is_refused(aws):
    inc = k.incident(ResourceType.OTHER, "whatever")
    inc.status = Status.NEW
    with pytest.raises(UnsupportedResource):
        k.plan_and_record(inc, k.decision())
