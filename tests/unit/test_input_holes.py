"""Small input holes: addresses the WAF must not block, identifiers with a trailing newline, too many form fields, deep events."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from responder.adapters.aws import client
from responder.adapters.waf import WafGateway
from responder.domain import approval_api
from responder.domain import waf as waf_domain
from responder.domain.approval import LinkError, parse_form
from responder.domain.findings import findings_of
from responder.models.common import ResourceType
from responder.models.events import MAX_EVENT_DEPTH, MalformedFinding, parse_event
from responder_cli import samples
from tests.support import kinds as k


# -- a. the WAF blocks only public addresses ----------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "shared"),
        ("::ffff:10.0.0.5", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
    ],
)
def test_addresses_that_are_not_public_are_refused_with_the_reason(address, why):
    reason = waf_domain.refusal(address)
    assert reason is not None and why in reason and address in reason


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "198.51.100.23", "2001:db8::7"])
def test_public_and_documentation_addresses_are_blockable(address):
    assert waf_domain.refusal(address) is None


def test_a_mapped_v4_address_is_blocked_as_the_v4_address(aws):
    wafv2 = client("wafv2", "us-east-1")
    arn = wafv2.create_ip_set(Name="blocklist", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[])["Summary"][
        "ARN"
    ]
    change, why = waf_domain.plan(WafGateway(wafv2), arn, "::ffff:8.8.8.8")
    assert change is not None and change.address == "8.8.8.8/32", why


@pytest.mark.parametrize("address", ["10.0.0.5", "127.0.0.1", "::ffff:192.168.0.1", "169.254.169.254"])
def test_a_refused_address_is_a_clear_not_blocked_line_and_the_resource_is_still_contained(aws, address):
    wafv2, s3 = client("wafv2", "us-east-1"), client("s3", "us-east-1")
    arn = wafv2.create_ip_set(Name="blocklist", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[])["Summary"][
        "ARN"
    ]
    s3.create_bucket(Bucket="victim-bucket")
    inc = k.plan_and_record(
        k.incident(ResourceType.S3_BUCKET, "victim-bucket", remote_ip=address), k.decision(waf_ip_set_arn=arn)
    )
    assert inc.waf is None
    assert not any(a.action == "waf_block_ip" for a in inc.plan)
    assert inc.plan, "the bucket's own containment is still planned"
    assert inc.impact is not None
    notes = [line for line in inc.impact.lines() if "not blocking" in line]
    assert len(notes) == 1 and address in notes[0] and "public" in notes[0], notes
    k.contain(inc)
    name, set_id = arn.split("/")[-2:]
    assert wafv2.get_ip_set(Name=name, Scope="REGIONAL", Id=set_id)["IPSet"]["Addresses"] == []


# -- b. identifiers with a trailing newline ------------------------------------------------------------
def _asff(resource: dict[str, Any], **extra: Any) -> dict[str, Any]:
    gd = samples.ec2_finding("Backdoor:EC2/C&CActivity.B", instance_id="i-0abc1234def567890")
    return {**samples.asff_from_guardduty(gd), "Resources": [resource], **extra}


@pytest.mark.parametrize(
    "resource",
    [
        {"Type": "AwsEc2Instance", "Id": "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0\n"},
        {"Type": "AwsEc2Instance", "Id": "i-0123456789abcdef0\n"},
        {"Type": "AwsIamUser", "Id": "arn:aws:iam::123456789012:user/bob\n"},
        {"Type": "AwsIamRole", "Id": "arn:aws:iam::123456789012:role/app\n"},
        {"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::logs-bucket\n"},
    ],
)
def test_an_asff_identifier_with_a_trailing_newline_names_no_target(resource):
    (found,) = findings_of(parse_event(samples.securityhub_event([_asff(resource)])))
    assert found.target is None and found.no_target, found.target


def test_an_asff_access_key_id_with_a_trailing_newline_is_not_taken():
    resource = {
        "Type": "AwsIamAccessKey",
        "Id": "AKIAEXAMPLE",
        "Details": {
            "AwsIamAccessKey": {"AccessKeyId": "AKIAEXAMPLE\n", "PrincipalName": "bob", "PrincipalType": "IAMUser"}
        },
    }
    (found,) = findings_of(parse_event(samples.securityhub_event([_asff(resource)])))
    assert found.access_key_id is None


def test_an_account_in_a_resource_arn_with_a_trailing_newline_is_not_taken():
    resource = {"Type": "AwsIamUser", "Id": "arn:aws:iam::999999999999\n:user/bob"}
    try:
        (found,) = findings_of(parse_event(samples.securityhub_event([_asff(resource)])))
    except MalformedFinding:
        return
    assert found.target is not None and found.target.account == "123456789012"


def test_a_product_arn_with_a_trailing_newline_is_not_trusted():
    asff = _asff({"Type": "AwsIamUser", "Id": "arn:aws:iam::123456789012:user/bob"})
    forged = {**asff, "ProductArn": asff["ProductArn"] + "\n"}
    try:
        (found,) = findings_of(parse_event(samples.securityhub_event([forged])))
    except MalformedFinding:
        return
    assert not found.trusted and found.skip


def test_a_guardduty_instance_id_with_a_trailing_newline_is_malformed():
    gd = samples.ec2_finding("Backdoor:EC2/C&CActivity.B", instance_id="i-0abc1234def567890")
    gd["detail"]["resource"]["instanceDetails"]["instanceId"] = "i-0abc1234def567890\n"
    with pytest.raises(MalformedFinding, match="instanceId"):
        parse_event(gd)


# -- c. too many form fields -------------------------------------------------------------------------
def test_a_form_with_too_many_fields_is_a_clear_400():
    body = urlencode({"decision": "approve", "name": "Ann", "nonce": "n"}) + "&x=1" * 30
    with pytest.raises(LinkError) as exc:
        parse_form(body)
    assert exc.value.status == 400 and "fields" in str(exc.value)


class _Untouchable:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a refused form must not reach {name}")


@pytest.mark.parametrize("body", ["x=1&" * 25, "&" * 100, "a=1;" * 30 + "&" * 21])
def test_the_approval_post_answers_400_for_too_many_fields(body):
    page = approval_api.decide(_Untouchable(), _Untouchable(), _Untouchable(), "ap1", body, "1.2.3.4", "ua")  # type: ignore[arg-type]
    assert page.status == 400 and "too many fields" in page.html


# -- d. deeply nested events -------------------------------------------------------------------------
def _nested(depth: int) -> dict[str, Any]:
    inner: dict[str, Any] = {}
    for _ in range(depth):
        inner = {"a": inner}
    return inner


@pytest.mark.parametrize("where", ["detail", "top", "list"])
def test_an_event_nested_5000_deep_is_malformed_not_a_recursion_error(where):
    event = samples.ec2_finding("Backdoor:EC2/C&CActivity.B", instance_id="i-0abc1234def567890")
    if where == "detail":
        event["detail"]["service"]["additionalInfo"] = _nested(5000)
    elif where == "top":
        event = {**event, "x": _nested(5000)}
    else:
        deep: Any = []
        for _ in range(5000):
            deep = [deep]
        event["detail"]["resource"]["tags"] = deep
    with pytest.raises(MalformedFinding, match="nested"):
        parse_event(event)


def test_an_event_from_json_text_nested_deeply_is_malformed():
    # Python's own json reader stops near 1000 levels; an event it can read is still refused clearly.
    text = '{"source": "aws.guardduty", "detail": ' + '{"a": ' * 900 + "{}" + "}" * 900 + "}"
    with pytest.raises(MalformedFinding, match="nested"):
        parse_event(json.loads(text))


def test_ordinary_events_are_well_within_the_depth_bound():
    gd = samples.ec2_finding("Backdoor:EC2/C&CActivity.B", instance_id="i-0abc1234def567890")
    assert parse_event(gd).kind == "guardduty"
    asff = samples.securityhub_event([samples.asff_from_guardduty(gd)])
    assert parse_event(asff).kind == "securityhub"
    assert parse_event({**gd, "x": _nested(MAX_EVENT_DEPTH - 2)}).kind == "guardduty"
