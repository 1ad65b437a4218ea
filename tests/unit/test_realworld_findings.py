"""Conformance: findings published by others, and events built from AWS's documented shapes, parsed as
the deployed functions parse them.

The published findings are read at run time from `../shared/realworld-findings/` (never copied into
the project). What each must yield comes from AWS's documentation, not from what the parser does:
- Security Hub v2 events: `detail.findings[]`, one finding per event (Security Hub User Guide,
  "EventBridge event formats", securityhub-v2-cwe-event-formats); AWS products' uids are
  `arn:aws:securityhub:REGION::productv2/aws/<service>`.
- ASFF: only a product ARN of an AWS service (`::product/aws/<service>`) is AWS's own; `Compliance.Status`
  PASSED is a control check that passed (Security Hub User Guide, "AWS Security Finding Format").
- GuardDuty keeps its own type through Security Hub: ASFF `Types` end with it, written with `-` for `/`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from responder.domain.findings import findings_of
from responder.models.common import ResourceType
from responder.models.events import MalformedFinding, parse_event
from responder_cli import samples

REALWORLD = Path(__file__).resolve().parents[3] / "shared" / "realworld-findings"


def _published(name: str) -> list[dict[str, Any]]:
    path = REALWORLD / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path} is not beside this checkout")
    return list(json.loads(path.read_text()))


def _entry(name: str, key: str) -> dict[str, Any]:
    return next(e for e in _published(name) if e["key"] == key)


@pytest.mark.parametrize("name", ["guardduty", "asff", "ocsf"])
def test_every_published_finding_parses_or_is_refused_with_a_reason(name):
    for entry in _published(name):
        try:
            found = findings_of(parse_event(entry["event"]))
        except MalformedFinding as exc:
            assert str(exc).startswith("malformed "), entry["key"]
            continue
        for finding in found:
            # Each either names a target or says why it has none.
            assert finding.target is not None or finding.no_target or finding.skip, entry["key"]


def test_v2_guardduty_finding_keeps_guardduty_type_account_region_and_the_role_behind_the_session():
    entry = _entry("ocsf", "ocsf-sekoia-test_detection_finding_1")
    (finding,) = findings_of(parse_event(entry["event"]))
    assert finding.source == "securityhub_v2" and finding.trusted
    assert finding.type == "Stealth:IAMUser/CloudTrailLoggingDisabled"
    assert (finding.account, finding.region) == ("111111111111", "us-east-2")
    # The access key's principal is an AssumedRole: the role behind the session is contained, not a user.
    assert finding.target is not None and finding.target.type is ResourceType.IAM_ROLE
    assert finding.id.endswith("a6c556fcbc9bea427a19f8b787099a0b")


def test_a_v2_event_with_an_invalid_account_is_refused_naming_the_field():
    entry = _entry("ocsf", "ocsf-sekoia-test_detection_finding_2")
    with pytest.raises(MalformedFinding, match=r"cloud\.account\.uid"):
        parse_event(entry["event"])


def test_published_control_checks_that_passed_are_marked_and_those_of_others_untrusted():
    for entry in _published("asff"):
        for raw, finding in zip(
            entry["event"]["detail"]["findings"], findings_of(parse_event(entry["event"])), strict=True
        ):
            passed = (raw.get("Compliance") or {}).get("Status") == "PASSED"
            assert finding.passed_check is passed, entry["key"]
            own = "::product/aws/" in raw["ProductArn"]
            assert finding.trusted is own, entry["key"]


# -- Security Hub v2, in the documented envelope ----------------------------------------------------
def _v2(kind: str = "user", **finding_changes: Any) -> dict[str, Any]:
    gd = samples.access_key_finding("UnauthorizedAccess:IAMUser/MaliciousIPCaller", user="alice")
    if kind == "role":
        gd = samples.access_key_finding(
            "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
            user="app-role",
            user_type="AssumedRole",
        )
    event = samples.ocsf_event(samples.asff_from_guardduty(gd))
    event["detail"]["findings"][0].update(finding_changes)
    return event


def test_v2_envelope_is_detail_findings_with_aws_productv2_uid():
    event = _v2()
    assert list(event["detail"]) == ["findings"] and len(event["detail"]["findings"]) == 1
    assert "::productv2/aws/guardduty" in event["detail"]["findings"][0]["metadata"]["product"]["uid"]
    (finding,) = findings_of(parse_event(event))
    assert finding.trusted and finding.type == "UnauthorizedAccess:IAMUser/MaliciousIPCaller"
    assert finding.target is not None and (finding.target.type, finding.target.id) == (ResourceType.IAM_USER, "alice")


def test_v2_finding_in_the_old_place_is_refused():
    event = _v2()
    event["detail"] = event["detail"]["findings"][0]
    with pytest.raises(MalformedFinding, match=r"detail\.findings"):
        parse_event(event)


@pytest.mark.parametrize(
    "product",
    [
        {"uid": "guardduty", "name": "GuardDuty"},  # not an ARN
        {"uid": "", "name": "GuardDuty"},  # a name alone
        {"uid": "arn:aws:securityhub:us-east-1:123456789012:productv2/123456789012/default", "name": "GuardDuty"},
        {"uid": "arn:aws:securityhub:us-east-1::productv2/aws/guardduty-lookalike", "name": "GuardDuty"},
    ],
)
def test_v2_trust_needs_an_aws_service_product_arn(product):
    event = _v2()
    event["detail"]["findings"][0]["metadata"] = {"product": product}
    (finding,) = findings_of(parse_event(event))
    assert not finding.trusted and finding.skip and "untrusted" in finding.skip


def test_v2_principal_kind_comes_from_the_actor():
    (role,) = findings_of(parse_event(_v2("role")))
    assert role.target is not None and (role.target.type, role.target.id) == (ResourceType.IAM_ROLE, "app-role")
    event = _v2()
    del event["detail"]["findings"][0]["actor"]
    (unknown,) = findings_of(parse_event(event))
    assert unknown.target is None and "user or a role" in unknown.no_target


def test_v2_passed_control_is_marked_passed():
    event = _v2(compliance={"status": "PASSED", "control": "S3.8"})
    (finding,) = findings_of(parse_event(event))
    assert finding.passed_check


def test_asff_access_key_of_a_session_is_contained_through_the_issuing_role():
    asff = samples.asff_from_guardduty(
        samples.access_key_finding("UnauthorizedAccess:IAMUser/MaliciousIPCaller", user="x", user_type="AssumedRole")
    )
    details = asff["Resources"][0]["Details"]["AwsIamAccessKey"]
    details.pop("PrincipalName", None)
    details["SessionContext"] = {"SessionIssuer": {"Arn": "arn:aws:iam::123456789012:role/ops/deploy", "Type": "Role"}}
    (finding,) = findings_of(parse_event(samples.securityhub_event([asff])))
    assert finding.target is not None and (finding.target.type, finding.target.id) == (ResourceType.IAM_ROLE, "deploy")


def test_runtime_finding_on_an_instance_is_routed_like_ec2():
    event = samples.ec2_finding("Backdoor:EC2/C&CActivity.B", instance_id="i-0abc1234def567890")
    runtime = copy.deepcopy(event)
    runtime["detail"]["type"] = "Execution:Runtime/NewBinaryExecuted"
    (finding,) = findings_of(parse_event(runtime))
    assert finding.target is not None and finding.target.type is ResourceType.EC2_INSTANCE
    assert finding.target.id == "i-0abc1234def567890"


def test_published_findings_are_classed_as_threat_posture_or_vulnerability():
    classes = {}
    for name in ("asff", "ocsf"):
        for entry in _published(name):
            try:
                found = findings_of(parse_event(entry["event"]))
            except MalformedFinding:
                continue
            classes[entry["key"]] = {f.finding_class for f in found}
    assert classes["asff-asr-afsbp-ec2.8"] == {"posture"}
    assert classes["asff-awsdocs-inspector-0"] == {"vulnerability"}
    assert classes["asff-custodian-test_security_hub_mode_action_insight-0"] == {"threat"}
    assert classes["ocsf-sekoia-test_compliance_finding_1"] == {"posture"}
    assert classes["ocsf-sekoia-test_vulnerability_finding_1"] == {"vulnerability"}
    assert classes["ocsf-sekoia-test_detection_finding_1"] == {"threat"}


def _asff_ec2() -> dict[str, Any]:
    return samples.asff_from_guardduty(
        samples.ec2_finding("Backdoor:EC2/C&CActivity.B", instance_id="i-0abc1234def567890")
    )


def test_asff_region_falls_back_to_the_event_region():
    asff = _asff_ec2()
    asff.pop("Region")
    for res in asff["Resources"]:
        res.pop("Region", None)
    event = samples.securityhub_event([{**asff, "Region": "eu-west-1"}])
    event["detail"]["findings"][0].pop("Region")
    event["region"] = "eu-west-1"
    (finding,) = findings_of(parse_event(event))
    assert finding.region == "eu-west-1" and finding.target is not None and finding.target.region == "eu-west-1"


def test_asff_resource_account_comes_from_its_arn():
    asff = _asff_ec2()
    asff["Resources"][0]["Id"] = "arn:aws:ec2:us-east-1:210987654321:instance/i-0abc1234def567890"
    (finding,) = findings_of(parse_event(samples.securityhub_event([asff])))
    assert finding.target is not None and finding.target.account == "210987654321"


def test_asff_remote_ip_from_product_fields_when_nothing_else_has_it():
    asff = _asff_ec2()
    asff.pop("Network", None)
    asff["Action"] = {}
    field = "aws/guardduty/service/action/networkConnectionAction/remoteIpDetails/ipAddressV4"
    asff["ProductFields"] = {**asff.get("ProductFields", {}), field: "198.51.100.77"}
    (finding,) = findings_of(parse_event(samples.securityhub_event([asff])))
    assert finding.remote_ip == "198.51.100.77"


def test_bucket_level_s3_findings_target_every_bucket_they_name():
    event = samples.s3_finding(
        "Policy:S3/BucketBlockPublicAccessDisabled", bucket="logs-a", more_buckets=("logs-b", "logs-a", "logs-c")
    )
    assert event["detail"]["resource"]["resourceType"] == "AccessKey"
    (finding,) = findings_of(parse_event(event))
    assert finding.target is not None and (finding.target.type, finding.target.id) == (ResourceType.S3_BUCKET, "logs-a")
    assert [t.id for t in finding.extra_targets] == ["logs-b", "logs-c"]
    (asff,) = findings_of(parse_event(samples.securityhub_event([samples.asff_from_guardduty(event)])))
    assert asff.target is not None and asff.target.id == "logs-a"
    assert [t.id for t in asff.extra_targets] == ["logs-b", "logs-c"]


def test_a_data_event_s3_finding_on_one_bucket_has_no_further_targets():
    (finding,) = findings_of(parse_event(samples.s3_finding("Exfiltration:S3/AnomalousBehavior", bucket="data")))
    assert finding.target is not None and finding.target.id == "data" and finding.extra_targets == []


def test_a_v2_exposure_finding_is_posture_and_contains_nothing():
    """The shape of Security Hub's exposure findings: a `Detection Finding` whose analytic is `Exposure`,
    from Security Hub itself (Security Hub User Guide, "Sample exposure finding")."""
    event = _v2()
    finding = event["detail"]["findings"][0]
    finding.update(
        {
            "class_name": "Detection Finding",
            "finding_info": {
                "uid": "arn:aws:securityhub:us-east-1:123456789012:exposure/lambda/1",
                "title": "Potential Remote Execution: Lambda function has software vulnerabilities",
                "types": ["Potential Remote Execution"],
                "analytic": {"name": "Exposure", "type": "Rule", "type_id": 1, "uid": "0.0.1"},
            },
            "metadata": {"product": {"uid": "arn:aws:securityhub:us-east-1::productv2/aws/securityhub"}},
            "resources": [
                {"type": "AWS::Lambda::Function", "uid": "arn:aws:lambda:us-east-1:123456789012:function:app"}
            ],
            "severity_id": 4,
        }
    )
    finding.pop("actor", None)
    (found,) = findings_of(parse_event(event))
    assert found.trusted and found.finding_class == "posture"
    assert found.target is None and "unsupported" in found.no_target
