"""An incident that has absorbed a noisy finding for weeks still takes redeliveries and restores."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from responder.adapters.incidents import INCIDENT
from responder.adapters.preferences import PreferenceStore
from responder.models.incident import TIMELINE_HEAD, TIMELINE_TAIL, Incident, TimelineEntry
from responder.models.preferences import Mode, Rule, RuleMatch
from responder_cli.samples import ec2_finding
from tests.support.victims import eni_groups, make_instance
from tests.unit.test_incident_bounds import SIZE_BUDGET, item_size

C2 = "Backdoor:EC2/C&CActivity.B"
SEEDED_DELIVERIES = 10_000


def _stored_size(responder, incident_id: str) -> int:
    item = responder.session.client("dynamodb").get_item(
        TableName=responder.stack.outputs["IncidentsTable"], Key={"pk": {"S": INCIDENT + incident_id}}
    )["Item"]
    return item_size(item)


def test_restore_after_ten_thousand_redeliveries(responder):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=1)
    PreferenceStore(responder.stack.outputs["PreferencesTable"], responder.session.client("dynamodb")).put(
        Rule(id="ec2-auto", priority=10, match=RuleMatch(resource_types=["ec2_instance"]), mode=Mode.AUTO)
    )
    event = ec2_finding(C2, instance_id=victim.instance_id)
    assert responder.wait(responder.start(event))["status"] == "SUCCEEDED"
    incident_id = responder.only_incident().incident_id
    finding_id = event["detail"]["id"]
    # The state 10,000 redeliveries leave (counters at 10,000, the timeline full, its overflow counted,
    # the latest event ids remembered), seeded rather than run as 10,000 executions.
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def seed(inc: Incident) -> None:
        inc.delivery_count = SEEDED_DELIVERIES
        inc.findings[finding_id].deliveries = SEEDED_DELIVERIES
        inc.findings[finding_id].count = SEEDED_DELIVERIES
        inc.delivery_ids = [f"{n:08d}-0000-4000-8000-000000000000" for n in range(200)]
        inc.last_delivery_at = start + timedelta(days=14)
        for n in range(TIMELINE_HEAD + TIMELINE_TAIL + 1000):
            inc.add_to_timeline(
                TimelineEntry(at=start + timedelta(minutes=n), event="finding_absorbed", detail="x" * 200)
            )

    responder.store.update(incident_id, seed)
    before = _stored_size(responder, incident_id)

    again = copy.deepcopy(event)
    again["id"] = "0b5b6a2e-0000-4000-8000-00000000abcd"
    again["detail"]["service"]["count"] = SEEDED_DELIVERIES + 1
    assert responder.wait(responder.start(again))["status"] == "SUCCEEDED"
    assert responder.wait(responder.restore(incident_id))["status"] == "SUCCEEDED"

    restored = responder.store.get(incident_id)
    assert restored.status.value == "RESTORED"
    assert restored.delivery_count == SEEDED_DELIVERIES + 1
    assert restored.findings[finding_id].count == SEEDED_DELIVERIES + 1
    assert len(restored.timeline) == TIMELINE_HEAD + TIMELINE_TAIL
    assert restored.timeline[-1].event == "restored" and restored.timeline_overflow > 1000
    assert eni_groups(ec2, victim.enis[0]) == victim.groups[victim.enis[0]]
    after = _stored_size(responder, incident_id)
    assert before < SIZE_BUDGET and after < SIZE_BUDGET, (before, after)
