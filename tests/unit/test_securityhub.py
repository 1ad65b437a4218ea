"""Security Hub findings (ASFF and OCSF), the custom action's preference default, write-back, and the
member-account clients."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from responder.adapters.accounts import AccountClients, MemberAccessError
from responder.adapters.securityhub import FindingsWriter, WriteBackError
from responder.domain.findings import findings_of
from responder.domain.preferences import decide
from responder.domain.writeback import write_back_for
from responder.models.common import ResourceType
from responder.models.events import MalformedFinding, parse_event
from responder.models.finding import SecurityHubRef
from responder.models.incident import FindingSummary, Incident, Status
from responder.models.preferences import Decision, MatchFacts, Mode, OnTimeout, Rule, RuleActions, RuleMatch
from responder.models.resource import ResourceRef
from responder_cli import samples
from tests.support.faults import FaultInjector

EC2_TYPE = "Backdoor:EC2/C&CActivity.B"


def _gd(kind: str = "ec2") -> dict:
    if kind == "ec2":
        return samples.ec2_finding(EC2_TYPE, instance_id="i-0abc1234def567890")
    if kind == "user":
        return samples.sample("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "alice")
    return samples.sample("Policy:S3/BucketBlockPublicAccessDisabled", "data-lake")


def test_an_imported_event_with_several_findings_keeps_only_aws_products_own():
    ec2, user = samples.asff_from_guardduty(_gd("ec2")), samples.asff_from_guardduty(_gd("user"))
    forged = samples.forged_asff(ec2)
    event = samples.securityhub_event([ec2, user, forged])

    found = findings_of(parse_event(event))

    assert [f.trusted for f in found] == [True, True, False]
    assert found[2].skip and "untrusted product" in found[2].skip
    first = found[0]
    assert first.source == "securityhub" and first.type == EC2_TYPE
    assert first.id == _id(ec2)  # GuardDuty's own id: the same finding as the direct delivery
    assert first.target == ResourceRef(type=ResourceType.EC2_INSTANCE, id="i-0abc1234def567890",
                                       account="123456789012", region="us-east-1")  # fmt: skip
    assert first.severity == 8.0 and first.remote_ip
    assert first.securityhub == SecurityHubRef(finding_arn=ec2["Id"], product_arn=ec2["ProductArn"])
    role = found[1]
    assert role.target is not None and role.target.type is ResourceType.IAM_ROLE and role.target.id == "alice"


def _id(asff: dict) -> str:
    return asff["Id"].rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"Type": "AwsIamUser", "Id": "arn:aws:iam::123456789012:user/bob"}, (ResourceType.IAM_USER, "bob")),
        ({"Type": "AwsIamRole", "Id": "arn:aws:iam::123456789012:role/app"}, (ResourceType.IAM_ROLE, "app")),
        ({"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::logs-bucket"}, (ResourceType.S3_BUCKET, "logs-bucket")),
        (
            {
                "Type": "AwsEc2Instance",
                "Id": "arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0",
                "Region": "eu-west-1",
            },
            (ResourceType.EC2_INSTANCE, "i-0123456789abcdef0"),
        ),
    ],
)
def test_asff_resources_map_to_the_same_typed_targets(resource, expected):
    finding = {**samples.asff_from_guardduty(_gd("ec2")), "Resources": [resource],
               "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
               "GeneratorId": "security-control/IAM.1", "Types": ["Software and Configuration Checks/x"]}  # fmt: skip
    (found,) = findings_of(parse_event(samples.securityhub_event([finding])))
    assert found.target is not None and (found.target.type, found.target.id) == expected
    assert found.type.startswith("Securityhub:") and found.trusted


def test_ocsf_v2_findings_parse_and_route_like_asff():
    asff = samples.asff_from_guardduty(_gd("s3"))
    (found,) = findings_of(parse_event(samples.ocsf_event(asff)))
    assert found.source == "securityhub_v2" and found.trusted
    assert found.target is not None and found.target.type is ResourceType.S3_BUCKET
    assert found.id == _id(asff)
    forged = samples.ocsf_event(samples.forged_asff(asff))
    (untrusted,) = findings_of(parse_event(forged))
    assert not untrusted.trusted and untrusted.skip


def test_archived_suppressed_and_malformed_security_hub_findings():
    asff = samples.asff_from_guardduty(_gd("ec2"))
    (archived,) = findings_of(parse_event(samples.securityhub_event([{**asff, "RecordState": "ARCHIVED"}])))
    assert archived.skip == "finding is archived"
    suppressed = {**asff, "Workflow": {"Status": "SUPPRESSED"}}
    (skipped,) = findings_of(parse_event(samples.securityhub_event([suppressed])))
    assert skipped.skip and "SUPPRESSED" in skipped.skip
    with pytest.raises(MalformedFinding, match=r"malformed Security Hub finding event: detail\.findings"):
        parse_event({**samples.securityhub_event([asff]), "detail": {"findings": []}})
    bad = {**asff, "AwsAccountId": "12345"}
    with pytest.raises(MalformedFinding, match="AwsAccountId"):
        parse_event(samples.securityhub_event([bad]))


def test_custom_action_is_approve_unless_a_custom_action_rule_says_otherwise():
    asff = samples.asff_from_guardduty(_gd("ec2"))
    arn = "arn:aws:securityhub:us-east-1:123456789012:action/custom/ContainResource"
    (found,) = findings_of(parse_event(samples.securityhub_event([asff], custom_action_arn=arn)))
    assert found.source == "custom_action" and arn in (found.triggered_by or "")
    facts = MatchFacts(resource_type=ResourceType.EC2_INSTANCE, finding_type=found.type, severity=8.0,
                       account="123456789012", source="custom_action")  # fmt: skip
    auto_everything = Rule(id="auto", priority=1, mode=Mode.AUTO)
    decision = decide([auto_everything], facts)
    assert decision.mode is Mode.APPROVE and "custom action" in decision.reason
    for_actions = Rule(id="actions-auto", priority=5, mode=Mode.AUTO, match=RuleMatch(sources=["custom_action"]))
    assert decide([auto_everything, for_actions], facts).rule_id == "actions-auto"
    # and a custom-action rule does not catch ordinary findings
    ordinary = facts.model_copy(update={"source": "guardduty"})
    only_actions = Rule(id="only", priority=1, mode=Mode.AUTO, match=RuleMatch(sources=["custom_action"]))
    assert decide([only_actions], ordinary).mode is Mode.APPROVE


def _incident(status: Status, workflow: bool, refs: int = 1) -> Incident:
    findings = {
        f"f{i}": FindingSummary(id=f"f{i}", type=EC2_TYPE, severity=8.0, source="securityhub",
                                securityhub=SecurityHubRef(finding_arn=f"arn:f{i}", product_arn="arn:p"))
        for i in range(refs)
    }  # fmt: skip
    inc = Incident(
        incident_id="inc-1",
        status=status,
        resource=ResourceRef(
            type=ResourceType.EC2_INSTANCE, id="i-0abc1234def567890", account="123456789012", region="us-east-1"
        ),
        findings=findings,
    )
    inc.decision = Decision(mode=Mode.APPROVE, on_timeout=OnTimeout.EXPIRE, rule_id="r", reason="r",
                            actions=RuleActions(securityhub_workflow=workflow))  # fmt: skip
    return inc


@pytest.mark.parametrize(
    ("status", "workflow", "expected"),
    [
        (Status.PENDING_APPROVAL, True, "NOTIFIED"),
        (Status.CONTAINED, True, "RESOLVED"),
        (Status.CONTAINED, False, None),
        (Status.RESTORED, True, None),
        (Status.FAILED, True, None),
    ],
)
def test_write_back_sets_workflow_only_when_the_preference_says_so(status, workflow, expected):
    update = write_back_for(_incident(status, workflow))
    assert update is not None
    assert update.workflow_status == expected
    assert "inc-1" in update.note and status.value in update.note


def test_write_back_calls_batch_update_findings_with_the_finding_identifiers_and_note():
    client = boto3.client("securityhub", region_name="us-east-1")
    refs = [SecurityHubRef(finding_arn="arn:f1", product_arn="arn:aws:securityhub:us-east-1::product/aws/guardduty")]
    with Stubber(client) as stub:
        stub.add_response(
            "batch_update_findings",
            {"ProcessedFindings": [], "UnprocessedFindings": []},
            {"FindingIdentifiers": [{"Id": "arn:f1", "ProductArn": refs[0].product_arn}],
             "Note": {"Text": "n" * 512, "UpdatedBy": "containment-responder"}, "Workflow": {"Status": "RESOLVED"}},
        )  # fmt: skip
        FindingsWriter(client).update(refs, "n" * 600, "RESOLVED")  # the note is cut to Security Hub's 512
        stub.add_response(
            "batch_update_findings",
            {"ProcessedFindings": [],
             "UnprocessedFindings": [{"FindingIdentifier": {"Id": "arn:f1", "ProductArn": refs[0].product_arn},
                                      "ErrorCode": "FindingNotFound", "ErrorMessage": "x"}]},
        )  # fmt: skip
        with pytest.raises(WriteBackError, match="FindingNotFound"):
            FindingsWriter(client).update(refs, "note", None)


def test_member_account_clients_assume_the_member_role_with_the_external_id(aws, monkeypatch):
    recorder = FaultInjector().install(monkeypatch)
    accounts = AccountClients("123456789012", "ContainmentResponderMember", "ext-123", "containment-responder-test")
    own = accounts.client("ec2", "123456789012", "us-east-1")
    own.describe_instances()
    assert [c.operation for c in recorder.calls] == ["DescribeInstances"]
    member = accounts.client("ec2", "222222222222", "eu-west-1")
    member.describe_instances()
    assert [c.operation for c in recorder.calls] == ["DescribeInstances", "AssumeRole", "DescribeInstances"]
    assert member.meta.region_name == "eu-west-1"
    identity = accounts.client("sts", "222222222222", "eu-west-1").get_caller_identity()
    assert identity["Account"] == "222222222222"
    assert identity["Arn"].endswith(":assumed-role/ContainmentResponderMember/containment-responder-test")
    accounts.client("iam", "222222222222", "eu-west-1")  # cached: no second AssumeRole
    assert [c.operation for c in recorder.calls].count("AssumeRole") == 1


def test_an_unassumable_member_role_names_the_account(aws, monkeypatch):
    FaultInjector(fail_operations={"AssumeRole": "AccessDenied"}).install(monkeypatch)
    accounts = AccountClients("123456789012", "ContainmentResponderMember", "wrong-id")
    with pytest.raises(MemberAccessError, match=r"account 333333333333: cannot assume arn:aws:iam::333333333333:role/"):
        accounts.client("ec2", "333333333333", "us-east-1")
    unconfigured = AccountClients("123456789012", "ContainmentResponderMember", None)
    with pytest.raises(MemberAccessError, match="account 333333333333: cross-account containment is not configured"):
        unconfigured.client("ec2", "333333333333", "us-east-1")


def test_write_back_v2_names_each_finding_by_its_three_uids_and_cuts_the_comment(aws):
    from responder.models.finding import SecurityHubV2Ref
    from responder_cli.sandbox import moto_fidelity

    moto_fidelity.SECURITYHUB_UPDATES_V2.clear()
    ref = SecurityHubV2Ref(
        cloud_account_uid="123456789012",
        finding_info_uid="arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/f",
        metadata_product_uid="arn:aws:securityhub:us-east-1::productv2/aws/guardduty",
    )
    FindingsWriter(aws.client("securityhub")).update_v2([ref] * 101, "c" * 600, 4)
    requests = [r for _, _, r in moto_fidelity.SECURITYHUB_UPDATES_V2]
    assert [len(r["FindingIdentifiers"]) for r in requests] == [100, 1]
    assert all(len(r["Comment"]) == 512 and r["StatusId"] == 4 for r in requests)


def test_the_emulator_refuses_v2_updates_that_security_hub_refuses(aws):
    client = aws.client("securityhub")
    good = {"CloudAccountUid": "123456789012", "FindingInfoUid": "f", "MetadataProductUid": "p"}
    with pytest.raises(client.exceptions.InvalidInputException):
        client.batch_update_findings_v2(FindingIdentifiers=[good], StatusId=7)
    with pytest.raises(client.exceptions.InvalidInputException):
        client.batch_update_findings_v2(FindingIdentifiers=[{**good, "MetadataProductUid": ""}], Comment="x")
    with pytest.raises(client.exceptions.InvalidInputException):
        client.batch_update_findings_v2(FindingIdentifiers=[good], MetadataUids=["m"], Comment="x")
