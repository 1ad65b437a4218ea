"""A contained instance loses its credentials: its role's older sessions revoked, optionally IMDS off and
its instance profile detached; each recorded, verified by content, and restored exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from responder.adapters.aws import client
from responder.domain import iam as iam_dom
from responder.domain import resource_steps
from responder.models.common import ResourceType
from responder.models.incident import Ec2PreState, RestoreOptions, Status
from tests.support import kinds as k
from tests.support.victims import make_instance, make_instance_profile

KEEP = RestoreOptions()
LIFT = RestoreOptions(lift_session_revocation=True)


def _victim(**options):
    ec2, iam = client("ec2", k.REGION), client("iam")
    profile, role = make_instance_profile(iam)
    victim = make_instance(ec2, instance_profile=profile)
    inc = k.plan_and_record(k.incident(ResourceType.EC2_INSTANCE, victim.instance_id), k.decision(ec2=options))
    return inc, victim, profile, role


def _revocation(role: str) -> dict | None:
    iam = client("iam")
    if iam_dom.REVOKE_SESSIONS not in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        return None
    return iam.get_role_policy(RoleName=role, PolicyName=iam_dom.REVOKE_SESSIONS)["PolicyDocument"]


def _stamp(doc: dict) -> datetime:
    (statement,) = doc["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "*" and statement["Resource"] == "*"
    return datetime.strptime(statement["Condition"]["DateLessThan"]["aws:TokenIssueTime"], iam_dom.STAMP).replace(
        tzinfo=UTC
    )


def _metadata(instance_id: str) -> dict:
    ec2 = client("ec2", k.REGION)
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["MetadataOptions"]


def _associations(instance_id: str) -> list[dict]:
    ec2 = client("ec2", k.REGION)
    found = ec2.describe_iam_instance_profile_associations(Filters=[{"Name": "instance-id", "Values": [instance_id]}])
    return [a for a in found["IamInstanceProfileAssociations"] if a["State"] in ("associating", "associated")]


def test_pre_state_records_the_profile_role_and_metadata_options(aws):
    inc, _v, profile, role = _victim()
    pre = inc.pre_state
    assert isinstance(pre, Ec2PreState)
    assert pre.instance_profile_arn == profile and pre.instance_role == role
    assert pre.metadata is not None and pre.metadata.http_endpoint == "enabled"
    planned = {a.action: a for a in inc.plan}
    assert planned["revoke_sessions"].target == role
    assert "issued before containment" in planned["revoke_sessions"].description
    assert "disable_imds" not in planned and "detach_instance_profile" not in planned
    assert any("sessions" in note for note in inc.impact.notes)


def test_contain_revokes_the_roles_older_sessions_by_content(aws):
    inc, victim, _profile, role = _victim()
    before = datetime.now(UTC).replace(microsecond=0)
    k.contain(inc)
    doc = _revocation(role)
    assert doc is not None
    assert before <= _stamp(doc) <= datetime.now(UTC) + timedelta(seconds=1)
    assert k.verify(inc) == []
    # the profile and IMDS are untouched by default
    assert _associations(victim.instance_id) and _metadata(victim.instance_id)["HttpEndpoint"] == "enabled"

    # a revocation whose content is not the responder's fails verify
    client("iam").put_role_policy(
        RoleName=role,
        PolicyName=iam_dom.REVOKE_SESSIONS,
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    assert any(iam_dom.REVOKE_SESSIONS in p for p in k.verify(inc))


def test_an_older_revocation_is_moved_to_now_and_kept_by_restore(aws):
    iam = client("iam")
    ec2 = client("ec2", k.REGION)
    profile, role = make_instance_profile(iam)
    old = datetime(2020, 1, 1, tzinfo=UTC)
    iam.put_role_policy(RoleName=role, PolicyName=iam_dom.REVOKE_SESSIONS, PolicyDocument=iam_dom.revoke_document(old))
    victim = make_instance(ec2, instance_profile=profile)
    inc = k.plan_and_record(k.incident(ResourceType.EC2_INSTANCE, victim.instance_id), k.decision())
    k.contain(inc)
    moved = _stamp(_revocation(role))
    assert moved > datetime.now(UTC) - timedelta(minutes=1)
    applied = [a for a in inc.actions if a.action == "revoke_sessions"]
    assert applied and applied[-1].detail["previous_issued_before"] == "2020-01-01T00:00:00Z"
    assert k.verify(inc) == []
    # it was there before containment: restore keeps it (at the later time), even when asked to lift
    k.restore(inc, LIFT)
    assert _stamp(_revocation(role)) == moved
    assert k.verify_restored(inc, LIFT) == []


def test_restore_keeps_the_revocation_by_default_and_lifts_it_when_asked(aws):
    inc, _v, _profile, role = _victim()
    k.contain(inc)
    report = k.restore(inc, KEEP)
    assert _revocation(role) is not None
    assert any("session revocation kept" in line for line in report)
    assert k.verify_restored(inc, KEEP) == []

    k.restore(inc, LIFT)
    assert _revocation(role) is None
    assert k.verify_restored(inc, LIFT) == []
    assert k.current(inc) == inc.pre_state


def test_verify_restored_fails_while_a_lifted_revocation_is_still_there(aws):
    inc, _v, _profile, _role = _victim()
    k.contain(inc)
    assert any(iam_dom.REVOKE_SESSIONS in m for m in k.verify_restored(inc, LIFT))


def test_disable_imds_contains_and_restores_exactly(aws):
    ec2 = client("ec2", k.REGION)
    iam = client("iam")
    profile, _role = make_instance_profile(iam)
    victim = make_instance(ec2, instance_profile=profile)
    ec2.modify_instance_metadata_options(
        InstanceId=victim.instance_id,
        HttpTokens="required",
        HttpPutResponseHopLimit=2,
        HttpEndpoint="enabled",
        InstanceMetadataTags="enabled",
    )
    before = _metadata(victim.instance_id)
    inc = k.plan_and_record(
        k.incident(ResourceType.EC2_INSTANCE, victim.instance_id), k.decision(ec2={"disable_imds": True})
    )
    assert inc.pre_state.metadata.http_tokens == "required"
    assert "disable_imds" in {a.action for a in inc.plan}
    assert any("metadata" in note.lower() for note in inc.impact.notes)
    k.contain(inc)
    assert _metadata(victim.instance_id)["HttpEndpoint"] == "disabled"
    assert k.verify(inc) == []

    ec2.modify_instance_metadata_options(InstanceId=victim.instance_id, HttpEndpoint="enabled")
    assert any("metadata" in p for p in k.verify(inc))
    ec2.modify_instance_metadata_options(InstanceId=victim.instance_id, HttpEndpoint="disabled")

    k.restore(inc, LIFT)
    after = _metadata(victim.instance_id)
    for key in ("HttpEndpoint", "HttpTokens", "HttpPutResponseHopLimit", "InstanceMetadataTags"):
        assert after.get(key) == before.get(key), key
    assert k.verify_restored(inc, LIFT) == []
    assert k.current(inc) == inc.pre_state


def test_detach_instance_profile_contains_and_restores_exactly(aws):
    inc, victim, profile, role = _victim(detach_instance_profile=True)
    assert "detach_instance_profile" in {a.action for a in inc.plan}
    k.contain(inc)
    assert _associations(victim.instance_id) == []
    assert k.verify(inc) == []
    # the revocation is still applied alongside (the role keeps other users of its sessions)
    assert _revocation(role) is not None

    assert any("instance profile" in m for m in k.verify_restored(inc, LIFT))
    k.restore(inc, LIFT)
    (association,) = _associations(victim.instance_id)
    assert association["IamInstanceProfile"]["Arn"] == profile
    assert k.verify_restored(inc, LIFT) == []
    assert k.current(inc) == inc.pre_state


def test_a_profile_an_operator_attached_after_containment_is_kept_and_reported(aws):
    inc, victim, _profile, _role = _victim(detach_instance_profile=True)
    k.contain(inc)
    other, _ = make_instance_profile(client("iam"), "quarantine-profile")
    client("ec2", k.REGION).associate_iam_instance_profile(
        InstanceId=victim.instance_id, IamInstanceProfile={"Arn": other}
    )
    report = k.restore(inc, LIFT)
    assert any("quarantine-profile" in line for line in report)
    (association,) = _associations(victim.instance_id)
    assert association["IamInstanceProfile"]["Arn"] == other


def test_an_instance_without_a_profile_plans_nothing_more(aws):
    ec2 = client("ec2", k.REGION)
    victim = make_instance(ec2)
    inc = k.plan_and_record(
        k.incident(ResourceType.EC2_INSTANCE, victim.instance_id),
        k.decision(ec2={"disable_imds": False, "detach_instance_profile": True}),
    )
    assert inc.pre_state.instance_profile_arn is None and inc.pre_state.instance_role is None
    assert not {"revoke_sessions", "disable_imds", "detach_instance_profile"} & {a.action for a in inc.plan}
    k.contain(inc)
    assert k.verify(inc) == []
    k.restore(inc, LIFT)
    assert k.verify_restored(inc, LIFT) == []


def test_revoke_role_sessions_off_leaves_the_role_alone(aws):
    inc, _v, _profile, role = _victim(revoke_role_sessions=False)
    assert "revoke_sessions" not in {a.action for a in inc.plan}
    k.contain(inc)
    assert _revocation(role) is None
    assert k.verify(inc) == []


def test_an_old_incident_without_the_new_fields_still_loads(aws):
    legacy = {
        "instance_id": "i-0123456789abcdef0",
        "vpc_id": "vpc-1",
        "instance_state": "running",
        "enis": [],
        "disable_api_termination": False,
    }
    pre = Ec2PreState.model_validate(legacy)
    assert pre.instance_profile_arn is None and pre.instance_role is None and pre.metadata is None


def test_a_revocation_another_open_incident_relies_on_is_not_lifted(aws):
    """Two instances of one fleet share a role: restoring one with lift_session_revocation must not hand the
    other's stolen credentials back while that one is still contained."""
    ec2 = client("ec2", k.REGION)
    profile, role = make_instance_profile(client("iam"))
    store = k.incident_store()
    first, second = (
        k.plan_and_record(
            k.incident(ResourceType.EC2_INSTANCE, make_instance(ec2, instance_profile=profile).instance_id),
            k.decision(),
        )
        for _ in range(2)
    )
    for inc in (first, second):
        k.contain(inc)
        inc.status = Status.CONTAINED
    first.status = Status.RESTORING
    first.restore_options = LIFT
    for inc in (first, second):
        store.claim(inc, f"finding-{inc.incident_id}")

    restored = resource_steps.restore_apply(store, k.GATEWAYS, first.incident_id, k.SETTINGS)

    assert _revocation(role) is not None
    assert any(second.incident_id in line for line in restored.restore_report)
    assert restored.restore_options == KEEP
    assert resource_steps.restore_verify(store, k.GATEWAYS, first.incident_id, k.SETTINGS).status is Status.RESTORED

    # once no other open incident relies on it, it is lifted when asked
    store.update(second.incident_id, lambda inc: setattr(inc, "status", Status.RESTORING))
    store.update(second.incident_id, lambda inc: setattr(inc, "restore_options", LIFT))
    restored = resource_steps.restore_apply(store, k.GATEWAYS, second.incident_id, k.SETTINGS)
    assert _revocation(role) is None
    assert restored.restore_options == LIFT
