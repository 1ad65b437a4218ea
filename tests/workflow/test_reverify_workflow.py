"""The scheduled re-verification, deployed: the Reverify function from the synthesized template finds a contained
instance reopened, emails it, and (with on_drift: recontain) isolates it again; every call it makes is checked
against its deployed role at teardown, and its schedule is the one EventBridge runs."""

from __future__ import annotations

from responder.models.preferences import RuleActions
from responder_cli.samples import ec2_finding
from tests.support.victims import eni_groups, make_instance
from tests.workflow.test_containment_workflow import _auto

C2 = "Backdoor:EC2/C&CActivity.B"
SCHEDULED = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


def _contained_instance(responder, on_drift: str):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=1)
    _auto(responder, actions=RuleActions.model_validate({"on_drift": on_drift}))
    assert responder.wait(responder.start(ec2_finding(C2, instance_id=victim.instance_id)))["status"] == "SUCCEEDED"
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    return ec2, victim, incident


def test_a_contained_instance_moved_back_to_its_groups_is_reported(responder):
    ec2, victim, incident = _contained_instance(responder, "notify")
    eni = victim.enis[0]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=victim.groups[eni])  # reopened

    result, errored = responder.invoke("Reverify", SCHEDULED)

    assert not errored, result
    assert result["reopened"] == [incident.incident_id] and result["checked"] == 1
    email = responder.wait_for_email("[REOPENED]")
    assert eni in email.body
    stored = responder.store.get(incident.incident_id)
    assert stored.status.value == "CONTAINED" and stored.drift
    assert eni_groups(ec2, eni) == victim.groups[eni]  # notify only: nothing changed


def test_on_drift_recontain_isolates_it_again_and_restore_still_puts_it_back(responder):
    ec2, victim, incident = _contained_instance(responder, "recontain")
    eni = victim.enis[0]
    (isolation,) = eni_groups(ec2, eni)
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=victim.groups[eni])

    result, errored = responder.invoke("Reverify", SCHEDULED)

    assert not errored, result
    assert result["recontained"] == [incident.incident_id]
    assert eni_groups(ec2, eni) == [isolation]
    assert responder.store.get(incident.incident_id).drift == []

    restore = responder.wait(responder.restore(incident.incident_id))
    assert restore["status"] == "SUCCEEDED", restore
    assert eni_groups(ec2, eni) == victim.groups[eni]


def test_the_schedule_targets_the_reverify_function(responder):
    events = responder.session.client("events")
    rules = [r for r in events.list_rules()["Rules"] if r.get("ScheduleExpression")]
    (rule,) = rules
    assert rule["ScheduleExpression"] == "rate(15 minutes)" and rule["State"] == "ENABLED"
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert "Reverify" in target["Arn"]
