"""Issue 13, drift after containment: the scheduled re-verification of every CONTAINED incident.

Each test contains a resource, reopens it as an attacker (or a careless operator) would, then runs the
re-verification and reads back what it recorded, emailed and (where the rule says so) re-applied.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from responder.adapters.aws import client
from responder.adapters.incidents import IncidentStore
from responder.domain import drift, messages
from responder.models.incident import Incident, Status
from responder.models.preferences import RuleActions
from tests.support import kinds as k
from tests.support import scenarios
from tests.support.victims import eni_groups


def _contained(store: IncidentStore, inc: Incident, on_drift: str = "notify") -> Incident:
    assert inc.decision is not None
    actions = inc.decision.actions.model_dump()
    inc.decision = inc.decision.model_copy(
        update={"actions": RuleActions.model_validate({**actions, "on_drift": on_drift})}
    )
    k.contain(inc)
    assert k.verify(inc) == []
    inc.status = Status.CONTAINED
    inc.contained_at = datetime.now(UTC)
    store.claim(inc, f"finding-{inc.incident_id}")
    return inc


class Outbox:
    def __init__(self) -> None:
        self.sent: list[messages.Message] = []

    def __call__(self, message: messages.Message, incident: Incident) -> None:
        self.sent.append(message)


def _run(store: IncidentStore, outbox: Outbox) -> drift.DriftReport:
    return drift.reverify_all(store, k.GATEWAYS, k.SETTINGS, outbox, limit=100)


def _isolation_group(inc: Incident) -> str:
    (group,) = {a.detail.get("group") for a in inc.actions if a.detail.get("group") and "isolat" in a.action}
    return str(group)


def test_a_rule_added_to_the_isolation_group_is_raised_once_and_cleared_when_removed(aws):
    store = k.incident_store()
    inc = _contained(store, scenarios.ec2_instance())
    ec2 = client("ec2", k.REGION)
    eni = inc.pre_state.enis[0].eni_id
    (group,) = eni_groups(ec2, eni)
    rule = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[rule])
    outbox = Outbox()

    first = _run(store, outbox)
    second = _run(store, outbox)  # the same drift: recorded and emailed once

    assert first.checked == 1 and first.reopened == [inc.incident_id] and second.reopened == [inc.incident_id]
    (email,) = outbox.sent
    assert email.subject.startswith("[REOPENED]") and group in email.body
    stored = store.get(inc.incident_id)
    assert stored.status is Status.CONTAINED and stored.drift and stored.drift_checked_at is not None
    assert [e.event for e in stored.timeline].count("drift") == 1

    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[rule])
    third = _run(store, outbox)
    assert third.cleared == [inc.incident_id] and store.get(inc.incident_id).drift == []


def test_a_detached_deny_all_is_reapplied_when_the_rule_says_recontain(aws):
    store = k.incident_store()
    inc = _contained(store, scenarios.iam_role(), on_drift="recontain")
    iam = client("iam")
    iam.detach_role_policy(RoleName="app-role", PolicyArn=k.SETTINGS.deny_all_arn(inc))
    outbox = Outbox()

    report = _run(store, outbox)

    assert report.reopened == [inc.incident_id] and report.recontained == [inc.incident_id]
    assert k.SETTINGS.deny_all_arn(inc) in [
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="app-role")["AttachedPolicies"]
    ]
    stored = store.get(inc.incident_id)
    assert stored.drift == [] and "recontained" in [e.event for e in stored.timeline]
    assert outbox.sent and "applying containment again" in outbox.sent[0].body
    assert k.restore(stored) is not None and k.verify_restored(stored) == []  # restore still puts back exactly


def test_a_removed_bucket_statement_is_raised_and_an_unreadable_incident_does_not_hide_it(aws, monkeypatch):
    store = k.incident_store()
    inc = _contained(store, scenarios.s3_bucket())
    s3 = client("s3", k.REGION)
    doc = json.loads(s3.get_bucket_policy(Bucket="data-lake")["Policy"])
    doc["Statement"] = [st for st in doc["Statement"] if st["Effect"] != "Deny"]
    s3.put_public_access_block(Bucket="data-lake", PublicAccessBlockConfiguration=dict.fromkeys(
        ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"], False))  # fmt: skip
    s3.put_bucket_policy(Bucket="data-lake", Policy=json.dumps(doc))
    unreadable = _contained(store, scenarios.iam_user())

    def unreachable(incident):
        raise PermissionError(f"account {incident.resource.account}: cannot assume the member role")

    monkeypatch.setattr(k.GATEWAYS, "iam", unreachable)
    outbox = Outbox()

    report = _run(store, outbox)

    assert inc.incident_id in report.reopened
    assert list(report.errors) == [unreadable.incident_id] and "cannot assume" in report.errors[unreadable.incident_id]
    assert any(m.subject.startswith("[REOPENED]") and "data-lake" in m.subject for m in outbox.sent)
    assert report.checked == 2
