"""Security Hub paths and many accounts, through the deployed stack in moto.

- The same GuardDuty finding, directly and through Security Hub (ASFF and v2), is one incident.
- Forged products are dropped by the intake function.
- The "Contain resource" custom action asks for approval even under an auto rule, and the approval
  completes the containment; every state change writes a note back, and the workflow status when a
  preference asks for it.
- A finding in another account and region is contained and restored there, through the member role.
- A member role that cannot be assumed fails the incident with the account named; nothing changes.
"""

from __future__ import annotations

import re
import time

from responder.adapters.preferences import PreferenceStore
from responder.models.preferences import Mode, Rule, RuleActions, RuleMatch
from responder_cli import samples
from responder_cli.sandbox import moto_fidelity
from responder_cli.sandbox.accounts import emulator_account_session
from tests.support.faults import FaultInjector
from tests.support.victims import eni_groups, make_instance

C2 = "Backdoor:EC2/C&CActivity.B"
ACTION_ARN = "arn:aws:securityhub:us-east-1:123456789012:action/custom/ContainResource"


def _rules(responder, *rules: Rule) -> None:
    store = PreferenceStore(responder.stack.outputs["PreferencesTable"], responder.session.client("dynamodb"))
    store.replace_all(list(rules))


def _intake(responder, event: dict) -> dict:
    result, errored = responder.invoke("Intake", event)
    assert not errored, result
    return result


def _first_incident_id(responder, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while not (found := responder.incidents()):
        assert time.monotonic() < deadline, "no incident was opened"
        time.sleep(0.05)
    return found[0].incident_id


def _approve(responder, email) -> None:
    link = email.link("Approve")
    status, page = responder.http("GET", link)
    assert status == 200, page
    fields = dict(re.findall(r'<input type=hidden name=(\w+) value="([^"]*)"', page))
    status, page = responder.http("POST", link.split("?")[0], {**fields, "name": "SOC on call", "decision": "approve"})
    assert status == 200, page


def test_the_same_guardduty_finding_directly_and_through_security_hub_is_one_incident(responder):
    _rules(responder, Rule(id="auto", priority=1, mode=Mode.AUTO))
    victim = make_instance(responder.session.client("ec2"), enis=2)
    direct = samples.ec2_finding(C2, instance_id=victim.instance_id)
    asff = samples.asff_from_guardduty(direct)

    assert responder.wait(responder.start(direct))["status"] == "SUCCEEDED"
    started = _intake(responder, samples.securityhub_event([asff, samples.forged_asff(asff)]))
    _intake(responder, samples.ocsf_event(asff))
    assert all(d["status"] == "SUCCEEDED" for d in responder.wait_all())

    assert len(started["started"]) == 1 and len(started["dropped"]) == 1  # the forged copy never ran
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    assert list(incident.findings) == [direct["detail"]["id"]]
    finding = incident.findings[direct["detail"]["id"]]
    assert finding.deliveries == 3 and incident.delivery_count == 3
    assert finding.securityhub is not None and finding.securityhub.finding_arn == asff["Id"]
    swaps = [a for a in incident.actions if a.action == "eni_isolation_group"]
    assert len(swaps) == 2  # one containment: one swap per ENI


def test_a_passing_control_check_opens_nothing(responder):
    _rules(responder, Rule(id="auto", priority=1, mode=Mode.AUTO))
    control = {**samples.asff_from_guardduty(samples.sample("Policy:S3/BucketBlockPublicAccessDisabled", "logs")),
               "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
               "GeneratorId": "security-control/S3.8", "Types": ["Software and Configuration Checks/x"],
               "Compliance": {"Status": "PASSED"}}  # fmt: skip
    result = _intake(responder, samples.securityhub_event([control]))
    v2 = _intake(responder, samples.ocsf_event(control))
    assert result["started"] == [] and len(result["dropped"]) == 1
    assert v2["started"] == [] and len(v2["dropped"]) == 1
    assert responder.executions() == [] and responder.incidents() == []


def test_a_redelivered_security_hub_event_starts_nothing_new(responder):
    _rules(responder, Rule(id="notify", priority=1, mode=Mode.NOTIFY))
    victim = make_instance(responder.session.client("ec2"), enis=1)
    event = samples.securityhub_event(
        [samples.asff_from_guardduty(samples.ec2_finding(C2, instance_id=victim.instance_id))]
    )
    _intake(responder, event)
    _intake(responder, event)  # EventBridge retried the invocation
    assert len(responder.wait_all()) == 1
    assert len(responder.incidents()) == 1


def test_custom_action_asks_for_approval_even_under_auto_and_writes_back(responder):
    moto_fidelity.SECURITYHUB_UPDATES.clear()
    _rules(responder, Rule(id="auto", priority=1, mode=Mode.AUTO))
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=1)
    asff = samples.asff_from_guardduty(samples.ec2_finding(C2, instance_id=victim.instance_id, severity=2.0))

    _intake(responder, samples.securityhub_event([asff], custom_action_arn=ACTION_ARN))
    pending = responder.wait_for_status(_first_incident_id(responder), "PENDING_APPROVAL")
    assert pending.decision is not None and pending.decision.mode is Mode.APPROVE
    assert "custom action" in pending.decision.reason
    assert any(e.event == "custom_action" and ACTION_ARN in e.detail for e in pending.timeline)
    email = responder.wait_for_email("[APPROVAL NEEDED]")
    assert "123456789012" in email.body and "us-east-1" in email.body
    _approve(responder, email)
    assert all(d["status"] == "SUCCEEDED" for d in responder.wait_all())
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    assert eni_groups(ec2, victim.enis[0]) != victim.groups[victim.enis[0]]

    updates = [u for _, _, u in moto_fidelity.SECURITYHUB_UPDATES]
    assert [u["FindingIdentifiers"] for u in updates] == [[{"Id": asff["Id"], "ProductArn": asff["ProductArn"]}]] * 2
    notes = [u["Note"]["Text"] for u in updates]
    assert incident.incident_id in notes[0] and "PENDING_APPROVAL" in notes[0] and "CONTAINED" in notes[1]
    assert all(u["Note"]["UpdatedBy"] == "containment-responder" for u in updates)
    assert all("Workflow" not in u for u in updates)  # the preference did not ask for it


def test_custom_action_rule_can_contain_at_once_and_set_the_workflow_status(responder):
    moto_fidelity.SECURITYHUB_UPDATES.clear()
    _rules(
        responder,
        Rule(id="actions", priority=1, mode=Mode.AUTO, match=RuleMatch(sources=["custom_action"]),
             actions=RuleActions(securityhub_workflow=True)),
    )  # fmt: skip
    victim = make_instance(responder.session.client("ec2"), enis=1)
    asff = samples.asff_from_guardduty(samples.ec2_finding(C2, instance_id=victim.instance_id))

    _intake(responder, samples.securityhub_event([asff], custom_action_arn=ACTION_ARN))
    assert all(d["status"] == "SUCCEEDED" for d in responder.wait_all())

    assert responder.only_incident().status.value == "CONTAINED"
    (update,) = [u for _, _, u in moto_fidelity.SECURITYHUB_UPDATES]
    assert update["Workflow"] == {"Status": "RESOLVED"}


def test_a_v2_finding_gets_a_comment_and_status_id_written_back_with_batch_update_findings_v2(responder):
    moto_fidelity.SECURITYHUB_UPDATES.clear()
    moto_fidelity.SECURITYHUB_UPDATES_V2.clear()
    _rules(responder, Rule(id="auto", priority=1, mode=Mode.AUTO, actions=RuleActions(securityhub_workflow=True)))
    victim = make_instance(responder.session.client("ec2"), enis=1)
    asff = samples.asff_from_guardduty(samples.ec2_finding(C2, instance_id=victim.instance_id))
    event = samples.ocsf_event(asff)

    started = _intake(responder, event)
    assert len(started["started"]) == 1
    assert all(d["status"] == "SUCCEEDED" for d in responder.wait_all())

    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    assert moto_fidelity.SECURITYHUB_UPDATES == []  # no ASFF copy: nothing for BatchUpdateFindings
    (update,) = [u for _, _, u in moto_fidelity.SECURITYHUB_UPDATES_V2]
    v2 = event["detail"]["findings"][0]
    assert update["FindingIdentifiers"] == [
        {"CloudAccountUid": v2["cloud"]["account"]["uid"], "FindingInfoUid": v2["finding_info"]["uid"],
         "MetadataProductUid": v2["metadata"]["product"]["uid"]}
    ]  # fmt: skip
    assert incident.incident_id in update["Comment"] and "CONTAINED" in update["Comment"]
    assert update["StatusId"] == 4  # Resolved


def test_a_finding_in_another_account_and_region_is_contained_and_restored_there(responder, monkeypatch):
    recorder = FaultInjector().install(monkeypatch)
    _rules(responder, Rule(id="auto", priority=1, mode=Mode.AUTO))
    member = emulator_account_session("222222222222", "eu-west-1")
    member.client("iam").create_account_alias(AccountAlias="payments-prod")
    ec2 = member.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24", AvailabilityZone="eu-west-1a")["Subnet"]["SubnetId"]
    victim = make_instance(ec2, enis=2, vpc=(vpc, subnet))
    local = responder.session.client("ec2")
    assert local.describe_instances()["Reservations"] == [] or all(
        i["InstanceId"] != victim.instance_id
        for r in local.describe_instances()["Reservations"]
        for i in r["Instances"]
    )

    event = samples.ec2_finding(C2, instance_id=victim.instance_id, account="222222222222", region="eu-west-1")
    assert responder.wait(responder.start(event))["status"] == "SUCCEEDED"

    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    assert (incident.resource.account, incident.resource.region) == ("222222222222", "eu-west-1")
    assert incident.account_alias == "payments-prod"  # read through the member role, shown in emails
    for eni in victim.enis:
        assert eni_groups(ec2, eni) != victim.groups[eni]
    assume = [c for c in recorder.calls if c.operation == "AssumeRole"]
    assert assume, "the member role was not assumed"

    assert responder.wait(responder.restore(incident.incident_id))["status"] == "SUCCEEDED"
    assert responder.only_incident().status.value == "RESTORED"
    for eni in victim.enis:
        assert eni_groups(ec2, eni) == victim.groups[eni]


def test_an_unassumable_member_role_fails_the_incident_naming_the_account(responder, monkeypatch):
    FaultInjector(fail_operations={"AssumeRole": "AccessDenied"}).install(monkeypatch)
    _rules(responder, Rule(id="auto", priority=1, mode=Mode.AUTO))
    event = samples.ec2_finding(C2, instance_id="i-0abc1234def567890", account="333333333333", region="us-east-1")

    desc = responder.wait(responder.start(event))

    assert desc["status"] == "FAILED" and desc.get("error") == "MemberAccessError"
    incident = responder.only_incident()
    assert incident.status.value == "FAILED"
    assert incident.error and "account 333333333333: cannot assume" in incident.error
    assert incident.actions == []
    email = responder.wait_for_email("[FAILED] triage: MemberAccessError")  # issue 16: never silent
    assert "account 333333333333: cannot assume" in email.body and "MemberRoleStack" in email.body


def test_a_skipped_security_hub_finding_gets_a_note_saying_why(responder):
    moto_fidelity.SECURITYHUB_UPDATES.clear()
    iam = responder.session.client("iam")
    iam.create_role(RoleName="BreakGlassAdmin", Path="/breakglass/", AssumeRolePolicyDocument="{}")
    finding = samples.access_key_finding(
        "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
        user="BreakGlassAdmin",
        user_type="AssumedRole",
    )
    _intake(responder, samples.securityhub_event([samples.asff_from_guardduty(finding)]))
    assert all(d["status"] == "SUCCEEDED" for d in responder.wait_all())
    assert responder.only_incident().status.value == "SKIPPED"
    (update,) = [u for _, _, u in moto_fidelity.SECURITYHUB_UPDATES]
    assert "SKIPPED" in update["Note"]["Text"] and "protected list" in update["Note"]["Text"]
    assert "Workflow" not in update
