"""EC2 containment and restore, against moto: every ENI isolated, every attribute put back."""

from __future__ import annotations

import pytest

from responder.adapters.aws import client
from responder.adapters.aws import client as _client
from responder.adapters.ec2 import Ec2Gateway
from responder.domain import ec2 as dom
from responder.domain.errors import ContainmentError
from responder.domain.recorder import Recorder
from responder.models.common import ResourceType
from responder.models.incident import Ec2PreState, FindingSummary, Incident, Status
from responder.models.preferences import Ec2Options
from responder.models.resource import ResourceRef
from tests.support.victims import eni_groups, make_asg_instance, make_instance, make_vpc

ACCOUNT = "123456789012"


def _gw() -> Ec2Gateway:
    return Ec2Gateway(_client("ec2", "us-east-1"), _client("autoscaling", "us-east-1"), _client("elbv2", "us-east-1"))


def _incident(gw, instance_id: str, options: Ec2Options, mode: str = "two_step") -> Incident:
    plan = dom.plan_instance(gw, gw.describe_instance(instance_id), options, mode)  # type: ignore[arg-type]
    return Incident(
        incident_id="inc-unit-1",
        status=Status.CONTAINING,
        resource=ResourceRef(type=ResourceType.EC2_INSTANCE, id=instance_id, account=ACCOUNT, region="us-east-1"),
        findings={"f1": FindingSummary(id="f1", type="UnauthorizedAccess:EC2/SSHBruteForce", severity=8.0)},
        plan=plan.actions,
        impact=plan.impact,
        pre_state=plan.pre_state,
    )


def _contain(gw, incident: Incident, options: Ec2Options, mode: str = "two_step") -> Recorder:
    rec = Recorder()
    try:
        dom.contain_instance(gw, incident, options, mode, rec)  # type: ignore[arg-type]
    finally:
        rec.flush_into(incident)
    return rec


def _restore(gw, incident: Incident) -> list[str]:
    rec = Recorder()
    report = dom.restore_instance(gw, incident, rec)
    rec.flush_into(incident)
    return report


def _isolation_group(ec2, vpc_id: str) -> str:
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": ["responder-isolation"]},
        ]
    )["SecurityGroups"]
    assert len(groups) == 1
    return groups[0]["GroupId"]


@pytest.mark.parametrize("enis", [1, 3])
def test_contain_isolates_every_eni_and_restore_puts_back_each_group(aws, enis):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=enis, groups_per_eni=2)
    gw = _gw()
    options = Ec2Options()
    incident = _incident(gw, victim.instance_id, options)
    assert [e.eni_id for e in incident.pre_state.enis] == victim.enis

    rec = _contain(gw, incident, options)

    isolation = _isolation_group(ec2, victim.vpc_id)
    for eni in victim.enis:
        assert eni_groups(ec2, eni) == [isolation]
    sg = ec2.describe_security_groups(GroupIds=[isolation])["SecurityGroups"][0]
    assert sg["IpPermissions"] == [] and sg["IpPermissionsEgress"] == []
    applied = [(a.action, a.target) for a in rec.actions if a.status.value == "applied"]
    # Two-step: every ENI goes through the transition group before the isolation group.
    for eni in victim.enis:
        assert applied.index(("eni_transition_group", eni)) < applied.index(("eni_isolation_group", eni))
    attr = ec2.describe_instance_attribute(InstanceId=victim.instance_id, Attribute="disableApiTermination")
    assert attr["DisableApiTermination"]["Value"] is True
    assert dom.verify_contained(gw, incident, options) == []
    snaps = ec2.describe_snapshots(Filters=[{"Name": "tag:responder:incident-id", "Values": ["inc-unit-1"]}])[
        "Snapshots"
    ]
    assert {s["VolumeId"] for s in snaps} == set(victim.volumes)

    assert _restore(gw, incident) == []
    for eni in victim.enis:
        assert eni_groups(ec2, eni) == victim.groups[eni]
    assert dom.verify_restored(gw, incident) == []
    attr = ec2.describe_instance_attribute(InstanceId=victim.instance_id, Attribute="disableApiTermination")
    assert attr["DisableApiTermination"]["Value"] is False
    # Evidence is kept after restore.
    assert ec2.describe_snapshots(SnapshotIds=[s["SnapshotId"] for s in snaps])["Snapshots"]


def test_restore_equals_pre_state_attribute_by_attribute(aws):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=2, groups_per_eni=3, termination_protection=True)
    gw = _gw()
    options = Ec2Options()
    incident = _incident(gw, victim.instance_id, options)
    before = dom.capture_pre_state(gw, gw.describe_instance(victim.instance_id))
    _contain(gw, incident, options)
    assert dom.capture_pre_state(gw, gw.describe_instance(victim.instance_id)) != before
    _restore(gw, incident)
    after = dom.capture_pre_state(gw, gw.describe_instance(victim.instance_id))
    assert after == before
    assert isinstance(incident.pre_state, Ec2PreState) and incident.pre_state == before


def test_instance_in_auto_scaling_group_enters_and_exits_standby(aws):
    ec2 = client("ec2", "us-east-1")
    autoscaling = client("autoscaling", "us-east-1")
    victim = make_asg_instance(ec2, autoscaling, desired=2, min_size=1)
    gw = _gw()
    options = Ec2Options()
    incident = _incident(gw, victim.instance_id, options)
    assert incident.impact.asg_name == "victim-asg"
    assert any(a.action == "asg_enter_standby" for a in incident.plan)

    _contain(gw, incident, options)
    member = autoscaling.describe_auto_scaling_instances(InstanceIds=[victim.instance_id])["AutoScalingInstances"][0]
    assert member["LifecycleState"] == "Standby"
    assert dom.verify_contained(gw, incident, options) == []

    _restore(gw, incident)
    member = autoscaling.describe_auto_scaling_instances(InstanceIds=[victim.instance_id])["AutoScalingInstances"][0]
    assert member["LifecycleState"] == "InService"
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["victim-asg"])["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 2
    assert dom.verify_restored(gw, incident) == []


def test_rerun_is_idempotent_and_reuses_groups_and_snapshots(aws):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=2)
    gw = _gw()
    options = Ec2Options()
    incident = _incident(gw, victim.instance_id, options)
    _contain(gw, incident, options)
    groups_before = ec2.describe_security_groups()["SecurityGroups"]
    snaps_before = ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]

    second = _contain(gw, incident, options)

    assert all(a.status.value == "skipped" for a in second.actions), [a for a in second.actions]
    assert len(ec2.describe_security_groups()["SecurityGroups"]) == len(groups_before)
    assert len(ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]) == len(snaps_before)
    assert dom.verify_contained(gw, incident, options) == []
    # A second instance in the same VPC reuses the VPC's isolation group.
    other = make_instance(ec2, enis=1, vpc=(victim.vpc_id, victim.subnet_id))
    other_incident = _incident(gw, other.instance_id, options)
    _contain(gw, other_incident, options)
    assert eni_groups(ec2, other.enis[0]) == [_isolation_group(ec2, victim.vpc_id)]


def test_failure_midway_then_restore_puts_back_what_was_changed(aws, monkeypatch):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=3)
    gw = _gw()
    options = Ec2Options()
    incident = _incident(gw, victim.instance_id, options)
    real = gw.set_eni_groups
    calls = {"n": 0}

    def flaky(eni_id, groups):
        calls["n"] += 1
        if calls["n"] >= 4:  # ENI 2's isolation swap and everything after it
            raise RuntimeError("injected failure")
        real(eni_id, groups)

    monkeypatch.setattr(gw, "set_eni_groups", flaky)
    with pytest.raises(ContainmentError, match="injected failure") as caught:
        _contain(gw, incident, options)
    monkeypatch.setattr(gw, "set_eni_groups", real)
    assert any(a.action == "eni_transition_group" for a in incident.actions)
    assert eni_groups(ec2, victim.enis[0]) == [_isolation_group(ec2, victim.vpc_id)]
    # ENI 2 was left in the transition group (neither the isolation group nor the way back was allowed):
    # the error says so, with its groups, for the FAILED notice.
    transition = _transition_group(ec2, victim.vpc_id)["GroupId"]
    assert eni_groups(ec2, victim.enis[1]) == [transition]
    assert f"{victim.enis[1]}: NOT isolated and not put back" in str(caught.value)
    assert f"its groups now: {transition}" in str(caught.value)
    assert f"{victim.enis[2]}: not yet changed" in str(caught.value)

    _restore(gw, incident)
    for eni in victim.enis:
        assert eni_groups(ec2, eni) == victim.groups[eni]
    assert dom.verify_restored(gw, incident) == []


def test_restore_keeps_a_group_an_operator_added_and_reports_it(aws):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=1)
    gw = _gw()
    options = Ec2Options()
    incident = _incident(gw, victim.instance_id, options)
    _contain(gw, incident, options)
    forensic = ec2.create_security_group(GroupName="forensics", Description="f", VpcId=victim.vpc_id)["GroupId"]
    eni = victim.enis[0]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[*eni_groups(ec2, eni), forensic])

    report = _restore(gw, incident)

    assert eni_groups(ec2, eni) == sorted([*victim.groups[eni], forensic])
    assert any(forensic in line for line in report)
    assert dom.verify_restored(gw, incident) == []


def test_direct_mode_skips_the_transition_group(aws):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=2)
    gw = _gw()
    options = Ec2Options()
    incident = _incident(gw, victim.instance_id, options, mode="direct")
    rec = _contain(gw, incident, options, mode="direct")
    assert not any(a.action == "eni_transition_group" for a in rec.actions)
    names = [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]]
    assert "responder-transition" not in names
    assert dom.verify_contained(gw, incident, options) == []


def test_verify_reports_a_tampered_isolation_group(aws):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=1)
    gw = _gw()
    options = Ec2Options()
    incident = _incident(gw, victim.instance_id, options)
    _contain(gw, incident, options)
    isolation = _isolation_group(ec2, victim.vpc_id)
    ec2.authorize_security_group_ingress(
        GroupId=isolation,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    problems = dom.verify_contained(gw, incident, options)
    assert problems and "has rules" in problems[0]


def _transition_group(ec2, vpc_id: str) -> dict:
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["responder-transition"]}]
    )["SecurityGroups"]
    assert len(groups) == 1
    return groups[0]


def _ranges(perms: list[dict]) -> set[str]:
    """The all-traffic ranges of a rule list (IPv4 and IPv6)."""
    all_traffic = [p for p in perms if p.get("IpProtocol") == "-1"]
    return {r["CidrIp"] for p in all_traffic for r in p.get("IpRanges", [])} | {
        r["CidrIpv6"] for p in all_traffic for r in p.get("Ipv6Ranges", [])
    }


def test_dual_stack_transition_group_allows_both_ranges_each_way(aws):
    """A new group already holds the default 0.0.0.0/0 egress rule, and AWS fails a whole
    AuthorizeSecurityGroupEgress call that repeats it: authorized together, ::/0 was never added and
    IPv6 flows stayed tracked. Each range is authorized on its own."""
    ec2 = client("ec2", "us-east-1")
    vpc, subnet = make_vpc(ec2)
    ec2.associate_vpc_cidr_block(VpcId=vpc, AmazonProvidedIpv6CidrBlock=True)
    victim = make_instance(ec2, vpc=(vpc, subnet))
    gw = _gw()
    options = Ec2Options()
    incident = _incident(gw, victim.instance_id, options)

    rec = _contain(gw, incident, options)

    transition = _transition_group(ec2, vpc)
    assert _ranges(transition["IpPermissionsEgress"]) == {"0.0.0.0/0", "::/0"}
    assert _ranges(transition["IpPermissions"]) == {"0.0.0.0/0", "::/0"}
    assert [a.action for a in rec.actions if a.action == "eni_transition_group"] == ["eni_transition_group"]
    # A second containment in the VPC finds the group complete and authorizes nothing twice.
    other = make_instance(ec2, vpc=(vpc, subnet))
    _contain(gw, _incident(gw, other.instance_id, options), options)
    again = _transition_group(ec2, vpc)
    assert again["IpPermissionsEgress"] == transition["IpPermissionsEgress"]


def test_transition_group_missing_only_ipv6_egress_gets_it(aws):
    """A group found with only the IPv4 egress rule (as the old code left every group) is completed."""
    ec2 = client("ec2", "us-east-1")
    vpc, subnet = make_vpc(ec2)
    ec2.associate_vpc_cidr_block(VpcId=vpc, AmazonProvidedIpv6CidrBlock=True)
    victim = make_instance(ec2, vpc=(vpc, subnet))
    gw = _gw()
    group = gw.ensure_group(victim.vpc_id, "transition")
    ec2.revoke_security_group_egress(
        GroupId=group, IpPermissions=[{"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]
    )
    assert _ranges(_transition_group(ec2, victim.vpc_id)["IpPermissionsEgress"]) == {"0.0.0.0/0"}

    assert gw.ensure_group(victim.vpc_id, "transition") == group

    assert _ranges(_transition_group(ec2, victim.vpc_id)["IpPermissionsEgress"]) == {"0.0.0.0/0", "::/0"}


def test_transition_group_authorization_errors_are_not_swallowed(aws, monkeypatch):
    """Only a duplicate of the range being added is tolerated; any other refusal fails the step."""
    from botocore.exceptions import ClientError

    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2)
    gw = _gw()

    def refuse(**kwargs):
        raise ClientError(
            {"Error": {"Code": "RulesPerSecurityGroupLimitExceeded", "Message": "too many rules"}},
            "AuthorizeSecurityGroupEgress",
        )

    monkeypatch.setattr(gw.ec2, "authorize_security_group_egress", refuse)
    with pytest.raises(ClientError, match="RulesPerSecurityGroupLimitExceeded"):
        gw.ensure_group(victim.vpc_id, "transition")


def test_transition_group_duplicate_that_is_not_there_fails(aws, monkeypatch):
    """A Duplicate answer is believed only when the rule reads back: otherwise the step fails."""
    from botocore.exceptions import ClientError

    from responder.adapters.ec2 import TransitionRuleMissing

    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2)
    gw = _gw()

    def duplicate(**kwargs):
        raise ClientError(
            {"Error": {"Code": "InvalidPermission.Duplicate", "Message": "exists"}}, "AuthorizeSecurityGroupEgress"
        )

    monkeypatch.setattr(gw.ec2, "authorize_security_group_egress", duplicate)
    with pytest.raises(TransitionRuleMissing, match="::/0"):
        gw.ensure_group(victim.vpc_id, "transition")
