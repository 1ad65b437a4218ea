"""The containment and restore workflows, from the synthesized template, in moto's Step Functions executor.

Every Lambda task runs the real handler code; every AWS call goes to moto.
"""

from __future__ import annotations

import copy
import json
import re
from types import SimpleNamespace

import botocore.endpoint

from responder.adapters.preferences import PreferenceStore
from responder.models.preferences import Ec2Options, Mode, OnTimeout, Rule, RuleActions, RuleMatch
from responder_cli.samples import access_key_finding, ec2_finding
from tests.support.faults import FaultInjector
from tests.support.victims import eni_groups, make_asg_instance, make_instance, make_instance_profile
from tests.workflow.conftest import APPROVAL_TIMEOUT_S

BRUTE = "UnauthorizedAccess:EC2/SSHBruteForce"
C2 = "Backdoor:EC2/C&CActivity.B"
EXFIL = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"


def _prefs(responder, *rules: Rule) -> None:
    store = PreferenceStore(responder.stack.outputs["PreferencesTable"], responder.session.client("dynamodb"))
    for rule in rules:
        store.put(rule)


def _auto(responder, on_timeout: OnTimeout = OnTimeout.EXPIRE, mode: Mode = Mode.AUTO, **kw) -> None:
    _prefs(
        responder,
        Rule(
            id="ec2-auto",
            priority=10,
            match=RuleMatch(resource_types=["ec2_instance"]),
            mode=mode,
            on_timeout=on_timeout,
            **kw,
        ),
    )


def _form(responder, email, link: str = "Approve") -> dict[str, str]:
    status, page = responder.http("GET", email.link(link))
    assert status == 200, page
    fields = dict(re.findall(r'<input type=hidden name=(\w+) value="([^"]*)"', page))
    assert set(fields) == {"nonce", "incident", "exp", "sig", "decision"}
    assert fields["decision"] == link.lower()
    return fields


def _approve(responder, email, name: str = "Alice Analyst", decision: str = "approve") -> tuple[int, str]:
    """Decide through the emailed link of that decision, as a person would: each page decides only its own."""
    link = "Approve" if decision == "approve" else "Reject"
    fields = _form(responder, email, link)
    return responder.http("POST", email.link(link).split("?")[0], {**fields, "name": name})


def test_auto_mode_contains_and_verifies(responder):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=2)
    _auto(responder)

    desc = responder.wait(responder.start(ec2_finding(C2, instance_id=victim.instance_id)))

    assert desc["status"] == "SUCCEEDED", desc
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    assert incident.decision.rule_id == "ec2-auto" and incident.decision.mode is Mode.AUTO
    assert incident.contained_at is not None and incident.pre_state is not None
    assert [e.eni_id for e in incident.pre_state.enis] == victim.enis
    isolation = {a.id for a in incident.artifacts if a.kind == "security_group" and a.detail["purpose"] == "isolation"}
    for eni in victim.enis:
        assert set(eni_groups(ec2, eni)) == isolation
    assert responder.wait_for_email("[CONTAINED]")
    assert "RequestApproval" not in responder.states(desc["executionArn"])


def test_approve_via_signed_link_get_shows_page_post_decides(responder):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=2)
    execution = responder.start(ec2_finding(BRUTE, instance_id=victim.instance_id, severity=8.0))

    email = responder.wait_for_email("[APPROVAL NEEDED]")
    incident = responder.wait_for_status(responder.only_incident().incident_id, "PENDING_APPROVAL")
    # The email says what was found, which instance, what will be done, and the impact.
    for text in (
        BRUTE,
        victim.instance_id,
        "Planned actions",
        "isolation group",
        "Auto Scaling group",
        "VPC",
    ):
        assert text in email.body
    # Opening the link (as a mail scanner would) changes nothing.
    for _ in range(3):
        status, page = responder.http("GET", email.link("Approve"))
        assert status == 200 and "Approve containment" in page and victim.instance_id in page
    assert responder.store.get(incident.incident_id).status.value == "PENDING_APPROVAL"
    assert eni_groups(ec2, victim.enis[0]) == victim.groups[victim.enis[0]]

    fields = _form(responder, email)
    status, page = responder.http(
        "POST",
        email.link("Approve").split("?")[0],
        {**fields, "name": "Alice Analyst", "decision": "approve"},
    )

    assert status == 200 and "approved" in page
    assert responder.wait(execution)["status"] == "SUCCEEDED"
    final = responder.store.get(incident.incident_id)
    assert final.status.value == "CONTAINED"
    assert final.approval.decided_by == "Alice Analyst" and final.approval.decision == "approved"
    assert final.approval.source_ip == "203.0.113.7" and final.approval.user_agent == "pytest-browser/1.0"
    # Single use: a replayed POST decides nothing, and the link now shows that it was decided.
    replay = responder.http("POST", email.link("Approve").split("?")[0], {**fields, "name": "Mallory"})
    assert replay[0] == 409
    assert responder.http("GET", email.link("Reject"))[0] == 409
    assert responder.store.get(incident.incident_id).approval.decided_by == "Alice Analyst"


def test_reject_changes_nothing(responder):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=1)
    execution = responder.start(ec2_finding(BRUTE, instance_id=victim.instance_id, severity=8.0))
    email = responder.wait_for_email("[APPROVAL NEEDED]")

    status, _ = _approve(responder, email, name="Bob", decision="reject")

    assert status == 200
    assert responder.wait(execution)["status"] == "SUCCEEDED"
    incident = responder.only_incident()
    assert incident.status.value == "REJECTED" and incident.approval.decided_by == "Bob"
    assert incident.actions == []
    assert eni_groups(ec2, victim.enis[0]) == victim.groups[victim.enis[0]]
    assert responder.wait_for_email("[REJECTED]")
    assert not [g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"].startswith("responder-")]


def test_no_answer_before_timeout_expires(responder):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=1)
    execution = responder.start(ec2_finding(BRUTE, instance_id=victim.instance_id, severity=8.0))
    email = responder.wait_for_email("[APPROVAL NEEDED]")

    desc = responder.wait(execution, timeout=APPROVAL_TIMEOUT_S + 30)

    assert desc["status"] == "SUCCEEDED"
    incident = responder.only_incident()
    assert incident.status.value == "EXPIRED" and incident.approval.decision == "expired"
    assert eni_groups(ec2, victim.enis[0]) == victim.groups[victim.enis[0]]
    # A late click decides nothing.
    assert responder.http("GET", email.link("Approve"))[0] in (409, 410)


def test_timeout_contains_when_preference_says_so(responder):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=1)
    _auto(responder, mode=Mode.APPROVE, on_timeout=OnTimeout.CONTAIN)

    desc = responder.wait(
        responder.start(ec2_finding(C2, instance_id=victim.instance_id)), timeout=APPROVAL_TIMEOUT_S + 30
    )

    assert desc["status"] == "SUCCEEDED"
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    assert incident.approval.decision == "expired" and incident.approval.via == "timeout"


def test_duplicate_and_higher_count_findings_are_absorbed(responder):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=1)
    _auto(responder)
    event = ec2_finding(C2, instance_id=victim.instance_id)
    assert responder.wait(responder.start(event))["status"] == "SUCCEEDED"
    again = copy.deepcopy(event)  # GuardDuty re-sends the finding, with a higher count, in a new event
    again["id"] = "0b5b6a2e-0000-4000-8000-000000000007"
    again["detail"]["service"]["count"] = 7
    other = ec2_finding(BRUTE, instance_id=victim.instance_id, severity=8.0)

    for repeat in (event, again, other):
        desc = responder.wait(responder.start(repeat))
        assert desc["status"] == "SUCCEEDED"
        assert "Evaluate" not in responder.states(desc["executionArn"])

    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    # The same event delivered again (an EventBridge or Step Functions retry) is not counted twice.
    assert incident.delivery_count == 3
    assert incident.findings[event["detail"]["id"]].count == 7
    assert set(incident.findings) == {event["detail"]["id"], other["detail"]["id"]}
    transitions = [a for a in incident.actions if a.action == "eni_isolation_group" and a.status.value == "applied"]
    assert len(transitions) == 1


def test_malformed_event_fails_with_a_clear_error_and_changes_nothing(responder):
    bad = ec2_finding(BRUTE, instance_id="i-0123456789abcdef0")
    bad["detail"]["severity"] = "very high"
    del bad["detail"]["accountId"]

    desc = responder.wait(responder.start(bad))

    assert desc["status"] == "FAILED"
    assert desc["error"] == "MalformedFinding"
    assert "detail.severity" in desc["cause"] and "detail.accountId" in desc["cause"]
    assert responder.incidents() == []


def test_protected_resource_is_skipped_even_under_auto(responder):
    iam = responder.session.client("iam")
    iam.create_role(RoleName="BreakGlassAdmin", Path="/breakglass/", AssumeRolePolicyDocument="{}")
    _prefs(responder, Rule(id="roles-auto", priority=10, match=RuleMatch(resource_types=["iam_role"]), mode=Mode.AUTO))

    event = access_key_finding(EXFIL, user="BreakGlassAdmin", user_type="AssumedRole")
    desc = responder.wait(responder.start(event))

    assert desc["status"] == "SUCCEEDED"
    incident = responder.only_incident()
    assert incident.status.value == "SKIPPED" and "protected list" in (incident.skip_reason or "")
    assert iam.list_role_policies(RoleName="BreakGlassAdmin")["PolicyNames"] == []


def test_action_failure_marks_incident_failed_and_restore_undoes_it(responder, monkeypatch):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=2)
    _auto(responder)
    # EC2 refuses every group swap (a missing permission, say): the step fails after termination protection.
    faults = FaultInjector(fail_operations={"ModifyNetworkInterfaceAttribute": "UnauthorizedOperation"})
    faults.install(monkeypatch)
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=lambda _: None))  # no backoff sleeps

    desc = responder.wait(responder.start(ec2_finding(C2, instance_id=victim.instance_id)), timeout=180)
    faults.fail_operations.clear()

    assert desc["status"] == "FAILED"
    incident = responder.only_incident()
    assert incident.status.value == "FAILED"
    assert incident.error and "UnauthorizedOperation" in incident.error
    assert responder.wait_for_email("[FAILED]")
    attr = ec2.describe_instance_attribute(InstanceId=victim.instance_id, Attribute="disableApiTermination")
    assert attr["DisableApiTermination"]["Value"] is True  # applied before the failure

    restore = responder.wait(responder.restore(incident.incident_id))

    assert restore["status"] == "SUCCEEDED", restore
    restored = responder.store.get(incident.incident_id)
    assert restored.status.value == "RESTORED"
    attr = ec2.describe_instance_attribute(InstanceId=victim.instance_id, Attribute="disableApiTermination")
    assert attr["DisableApiTermination"]["Value"] is False
    for eni in victim.enis:
        assert eni_groups(ec2, eni) == victim.groups[eni]


def test_restore_puts_back_exactly_and_twice_is_a_noop(responder):
    ec2 = responder.session.client("ec2")
    autoscaling = responder.session.client("autoscaling")
    victim = make_asg_instance(ec2, autoscaling)
    _auto(responder)
    assert responder.wait(responder.start(ec2_finding(C2, instance_id=victim.instance_id)))["status"] == "SUCCEEDED"
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"

    first = responder.wait(responder.restore(incident.incident_id))
    second = responder.wait(responder.restore(incident.incident_id))

    assert first["status"] == "SUCCEEDED" and second["status"] == "SUCCEEDED"
    restored = responder.store.get(incident.incident_id)
    assert restored.status.value == "RESTORED" and restored.restored_at is not None
    assert eni_groups(ec2, victim.enis[0]) == victim.groups[victim.enis[0]]
    member = autoscaling.describe_auto_scaling_instances(InstanceIds=[victim.instance_id])["AutoScalingInstances"][0]
    assert member["LifecycleState"] == "InService"
    assert "RestoreResource" not in responder.states(second["executionArn"])
    assert responder.wait_for_email("[RESTORED]")
    # A restored incident releases the resource: a new finding opens a new incident.
    assert (
        responder.wait(responder.start(ec2_finding(BRUTE, instance_id=victim.instance_id, severity=8.0)))["status"]
        == "SUCCEEDED"
    )
    assert len(responder.incidents()) == 2


def test_restore_refuses_an_incident_that_is_not_contained(responder):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=1)
    execution = responder.start(ec2_finding(BRUTE, instance_id=victim.instance_id, severity=8.0))
    responder.wait_for_email("[APPROVAL NEEDED]")
    incident = responder.only_incident()

    desc = responder.wait(responder.restore(incident.incident_id))

    assert desc["status"] == "FAILED" and "restore refused" in desc["cause"]
    assert responder.store.get(incident.incident_id).status.value == "PENDING_APPROVAL"
    _approve(responder, responder.wait_for_email("[APPROVAL NEEDED]"), decision="reject")
    responder.wait(execution)


def _associations(ec2, instance_id: str) -> list[str]:
    found = ec2.describe_iam_instance_profile_associations(Filters=[{"Name": "instance-id", "Values": [instance_id]}])
    return [a["IamInstanceProfile"]["Arn"] for a in found["IamInstanceProfileAssociations"]]


def _imds(ec2, instance_id: str) -> str:
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return str(instance["MetadataOptions"]["HttpEndpoint"])


def test_an_instance_loses_its_credentials_and_restore_gives_them_back(responder):
    """Issue 13, item 10: the role's older sessions revoked, IMDS off and the profile detached, each by the
    deployed functions' roles (checked at teardown), then put back by restore, the revocation lifted on ask."""
    ec2 = responder.session.client("ec2")
    iam = responder.session.client("iam")
    profile, role = make_instance_profile(iam)
    victim = make_instance(ec2, instance_profile=profile)
    _auto(responder, actions=RuleActions(ec2=Ec2Options(disable_imds=True, detach_instance_profile=True)))

    desc = responder.wait(responder.start(ec2_finding(C2, instance_id=victim.instance_id)))

    assert desc["status"] == "SUCCEEDED", desc
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    assert incident.pre_state.instance_profile_arn == profile and incident.pre_state.instance_role == role
    assert {"revoke_sessions", "disable_imds", "detach_instance_profile"} <= {a.action for a in incident.plan}
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["responder-revoke-older-sessions"]
    assert _imds(ec2, victim.instance_id) == "disabled"
    assert _associations(ec2, victim.instance_id) == []

    execution = responder.sfn.start_execution(
        stateMachineArn=responder.stack.outputs["RestoreStateMachine"],
        name="credentials-restore",
        input=json.dumps({"incident_id": incident.incident_id, "lift_session_revocation": True}),
    )["executionArn"]
    assert responder.wait(execution)["status"] == "SUCCEEDED"
    assert responder.store.get(incident.incident_id).status.value == "RESTORED"
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == []
    assert _imds(ec2, victim.instance_id) == "enabled"
    assert _associations(ec2, victim.instance_id) == [profile]


def test_by_default_the_instance_roles_sessions_are_revoked_and_the_revocation_outlives_restore(responder):
    ec2 = responder.session.client("ec2")
    iam = responder.session.client("iam")
    profile, role = make_instance_profile(iam)
    victim = make_instance(ec2, instance_profile=profile)
    _auto(responder)

    assert responder.wait(responder.start(ec2_finding(C2, instance_id=victim.instance_id)))["status"] == "SUCCEEDED"
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["responder-revoke-older-sessions"]
    assert _imds(ec2, victim.instance_id) == "enabled" and _associations(ec2, victim.instance_id) == [profile]

    assert responder.wait(responder.restore(incident.incident_id))["status"] == "SUCCEEDED"
    restored = responder.store.get(incident.incident_id)
    assert restored.status.value == "RESTORED"
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["responder-revoke-older-sessions"]
    assert any("session revocation kept" in line for line in restored.restore_report)
