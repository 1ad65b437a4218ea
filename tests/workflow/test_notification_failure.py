"""A notification that cannot be sent after a verified containment: the incident stays CONTAINED."""

from __future__ import annotations

from responder.adapters.preferences import PreferenceStore
from responder.models.preferences import Mode, Rule, RuleMatch
from responder_cli.samples import ec2_finding
from tests.support.faults import FaultInjector
from tests.support.victims import eni_groups, make_instance

C2 = "Backdoor:EC2/C&CActivity.B"


def test_failed_email_after_containment_keeps_contained_and_fails_the_execution(responder, monkeypatch, capsys):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=1)
    PreferenceStore(responder.stack.outputs["PreferencesTable"], responder.session.client("dynamodb")).put(
        Rule(id="ec2-auto", priority=10, match=RuleMatch(resource_types=["ec2_instance"]), mode=Mode.AUTO)
    )
    faults = FaultInjector(fail_operations={"Publish": "InternalError"}).install(monkeypatch)

    desc = responder.wait(responder.start(ec2_finding(C2, instance_id=victim.instance_id)), timeout=120)

    # The execution fails (the failed-executions alarm fires: nobody was told), and says why.
    assert desc["status"] == "FAILED"
    assert "Publish" in desc.get("cause", "") or "InternalError" in desc.get("cause", ""), desc
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED", incident.error
    assert incident.contained_at is not None and incident.error is None
    assert incident.notification_error and "InternalError" in incident.notification_error
    assert any(e.event == "notification_failed" for e in incident.timeline)
    assert eni_groups(ec2, victim.enis[0]) != victim.groups[victim.enis[0]]
    assert '"NotificationFailed"' in capsys.readouterr().out

    faults.fail_operations.clear()
    assert responder.wait(responder.restore(incident.incident_id))["status"] == "SUCCEEDED"
    assert responder.store.get(incident.incident_id).status.value == "RESTORED"
    assert eni_groups(ec2, victim.enis[0]) == victim.groups[victim.enis[0]]
