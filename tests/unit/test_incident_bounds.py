"""A bounded incident document: redeliveries are counted, not appended, and the timeline is capped.

DynamoDB refuses any item over 400 KB. An incident that appended a timeline entry per redelivery stopped
accepting every update after a few thousand, the start of a restore included.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from responder.adapters.aws import client
from responder.adapters.ec2 import Ec2Gateway
from responder.adapters.incidents import INCIDENT, IncidentStore
from responder.domain import ec2 as dom
from responder.domain import triage
from responder.domain.recorder import Recorder
from responder.domain.workflow import restore_begin
from responder.models.common import ResourceType
from responder.models.incident import (
    TIMELINE_DETAIL_MAX,
    TIMELINE_HEAD,
    TIMELINE_TAIL,
    FindingSummary,
    Incident,
    RestoreOptions,
    Status,
)
from responder.models.preferences import Ec2Options
from responder.models.resource import ResourceRef
from tests.support.victims import make_instance

ACCOUNT = "123456789012"
TABLE = "incidents"
REDELIVERIES = 10_000
SIZE_BUDGET = 100 * 1024
BATCH = 100


def item_size(item: dict[str, Any]) -> int:
    """The stored item's size as DynamoDB counts it: each attribute's UTF-8 name plus its value
    (strings by UTF-8 length; numbers counted generously, one byte per character plus one).
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html"""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        ((kind, raw),) = value.items()
        size += len(str(raw).encode()) + (1 if kind == "N" else 0)
    return size


def _table() -> IncidentStore:
    ddb = client("dynamodb", "us-east-1")
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return IncidentStore(TABLE, ddb)


def _stored(store: IncidentStore, incident_id: str) -> dict[str, Any]:
    return store.ddb.get_item(TableName=TABLE, Key={"pk": {"S": INCIDENT + incident_id}}, ConsistentRead=True)["Item"]


def _summary(count: int, seen: datetime | None = None) -> FindingSummary:
    return FindingSummary(
        id="f-noisy",
        type="UnauthorizedAccess:EC2/SSHBruteForce",
        severity=8.0,
        count=count,
        last_seen=seen,
    )


def test_timeline_keeps_the_first_and_last_entries_and_counts_the_rest():
    incident = Incident(
        incident_id="inc-t",
        status=Status.NEW,
        resource=ResourceRef(type=ResourceType.EC2_INSTANCE, id="i-1", account=ACCOUNT, region="us-east-1"),
        findings={},
    )
    total = TIMELINE_HEAD + TIMELINE_TAIL + 500
    for index in range(total):
        incident.log("event", str(index))
    incident.log("long", "x" * (TIMELINE_DETAIL_MAX * 3))

    details = [t.detail for t in incident.timeline]
    assert len(details) == TIMELINE_HEAD + TIMELINE_TAIL
    assert details[:TIMELINE_HEAD] == [str(i) for i in range(TIMELINE_HEAD)]
    assert details[TIMELINE_HEAD:-1] == [str(i) for i in range(total - TIMELINE_TAIL + 1, total)]
    assert len(details[-1]) <= TIMELINE_DETAIL_MAX and details[-1].endswith("…")
    assert incident.timeline_overflow == total + 1 - TIMELINE_HEAD - TIMELINE_TAIL
    # The overflow survives the store's JSON round trip.
    assert Incident.model_validate_json(incident.model_dump_json()).timeline_overflow == incident.timeline_overflow


def test_redeliveries_are_counted_once_each_with_the_highest_count_and_latest_time(aws):
    store = _table()
    incident = Incident(
        incident_id="inc-c",
        status=Status.CONTAINED,
        resource=ResourceRef(type=ResourceType.EC2_INSTANCE, id="i-1", account=ACCOUNT, region="us-east-1"),
        findings={"f-noisy": _summary(1)},
        delivery_ids=["d-0"],
    )
    incident.log("triaged")
    store.claim(incident, "f-noisy")
    seen = datetime(2026, 1, 1, tzinfo=UTC)

    triage.absorb_delivery(store, "inc-c", _summary(9, seen), "d-1")
    triage.absorb_delivery(store, "inc-c", _summary(4, seen - timedelta(hours=1)), "d-2")
    triage.absorb_delivery(store, "inc-c", _summary(9, seen), "d-1")  # the same event again: not counted

    stored = store.get("inc-c")
    assert stored.delivery_count == 3
    assert stored.findings["f-noisy"].deliveries == 3
    assert stored.findings["f-noisy"].count == 9
    assert stored.findings["f-noisy"].last_seen == seen
    assert stored.last_delivery_at is not None
    assert [t.event for t in stored.timeline] == ["triaged"]  # counted, not appended


def test_ten_thousand_redeliveries_stay_under_100_kb_and_the_incident_still_restores(aws):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=2)
    gw = Ec2Gateway(client("ec2", "us-east-1"), client("autoscaling", "us-east-1"), client("elbv2", "us-east-1"))
    options = Ec2Options()
    plan = dom.plan_instance(gw, gw.describe_instance(victim.instance_id), options, "two_step")
    incident = Incident(
        incident_id="inc-noisy",
        status=Status.CONTAINING,
        resource=ResourceRef(
            type=ResourceType.EC2_INSTANCE, id=victim.instance_id, account=ACCOUNT, region="us-east-1"
        ),
        findings={"f-noisy": _summary(1)},
        plan=plan.actions,
        impact=plan.impact,
        pre_state=plan.pre_state,
    )
    rec = Recorder()
    dom.contain_instance(gw, incident, options, "two_step", rec)
    rec.flush_into(incident)
    incident.status = Status.CONTAINED
    incident.log("contained", "verified")
    store = _table()
    store.claim(incident, "f-noisy")

    # Every redelivery runs the function triage runs for it (absorb), on the incident as the store read it,
    # written back through the store's conditional update: a batch of them per write, so that the test
    # takes seconds (one write per redelivery, as triage does, is exercised above).
    started = time.monotonic()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    summaries = []
    for n in range(REDELIVERIES):
        summary = _summary(n + 2, base + timedelta(minutes=n))
        summary.title = f"{n + 2} SSH brute force attempts against {victim.instance_id}"
        summaries.append((summary, f"event-{n:05d}-7c1b0e9a-1f2d-4b6e-9a3c-5d8e7f6a"))
    sizes = []
    for first in range(0, REDELIVERIES, BATCH):
        batch = summaries[first : first + BATCH]

        def redeliver(inc: Incident, batch=batch) -> None:
            for summary, delivery_id in batch:
                triage.absorb(inc, summary, delivery_id)

        store.update("inc-noisy", redeliver)
        sizes.append(item_size(_stored(store, "inc-noisy")))
    elapsed = time.monotonic() - started

    size = sizes[-1]
    print(f"\nitem size after {REDELIVERIES} redeliveries: {size} bytes, largest {max(sizes)} ({elapsed:.1f}s)")
    assert max(sizes) < SIZE_BUDGET, f"{max(sizes)} bytes during {REDELIVERIES} redeliveries"
    assert sizes[-1] - sizes[len(sizes) // 2] < 1024, "the item still grows with redeliveries"
    noisy = store.get("inc-noisy")
    assert noisy.delivery_count == REDELIVERIES + 1
    assert noisy.findings["f-noisy"].count == REDELIVERIES + 1

    assert restore_begin(store, "inc-noisy", RestoreOptions()) == "restore"
    restoring = store.get("inc-noisy")
    rec = Recorder()
    report = dom.restore_instance(gw, restoring, rec)

    def finish(inc: Incident) -> None:
        rec.flush_into(inc)
        inc.status = Status.RESTORED
        inc.restore_report = report
        inc.log("restored", "every recorded attribute equals its pre-state")

    restored = store.update("inc-noisy", finish)
    assert restored.status is Status.RESTORED
    assert dom.verify_restored(gw, restored) == []
    assert item_size(_stored(store, "inc-noisy")) < SIZE_BUDGET
