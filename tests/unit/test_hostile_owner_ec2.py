"""EC2 isolation against failures midway and an owner who plants security groups: it fails closed, never blocked."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from responder.adapters.aws import client
from responder.adapters.ec2 import Ec2Gateway
from responder.domain import ec2 as dom
from responder.domain.errors import ContainmentError
from responder.domain.recorder import Recorder
from responder.models.common import ResourceType
from responder.models.incident import FindingSummary, Incident, Status
from responder.models.preferences import Ec2Options
from responder.models.resource import ResourceRef
from tests.support.victims import eni_groups, make_instance

ACCOUNT = "123456789012"
ALLOW_ALL_IN = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
MANAGED = [
    {"Key": "responder:managed", "Value": "true"},
]


def _gw() -> Ec2Gateway:
    return Ec2Gateway(client("ec2", "us-east-1"), client("autoscaling", "us-east-1"), client("elbv2", "us-east-1"))


def _incident(gw: Ec2Gateway, instance_id: str, mode: str = "two_step") -> Incident:
    plan = dom.plan_instance(gw, gw.describe_instance(instance_id), Ec2Options(), mode)  # type: ignore[arg-type]
    return Incident(
        incident_id="inc-hostile-1",
        status=Status.CONTAINING,
        resource=ResourceRef(type=ResourceType.EC2_INSTANCE, id=instance_id, account=ACCOUNT, region="us-east-1"),
        findings={"f1": FindingSummary(id="f1", type="UnauthorizedAccess:EC2/SSHBruteForce", severity=8.0)},
        plan=plan.actions,
        impact=plan.impact,
        pre_state=plan.pre_state,
    )


def _contain(gw: Ec2Gateway, incident: Incident, mode: str = "two_step") -> Recorder:
    rec = Recorder()
    try:
        dom.contain_instance(gw, incident, Ec2Options(), mode, rec)  # type: ignore[arg-type]
    finally:
        rec.flush_into(incident)
    return rec


def _purpose_groups(ec2: Any, vpc_id: str) -> dict[str, set[str]]:
    """The groups the responder created in the VPC (tagged at creation), by purpose."""
    out: dict[str, set[str]] = {"isolation": set(), "transition": set()}
    for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]:
        tags = {t["Key"]: t.get("Value") for t in g.get("Tags", [])}
        if tags.get("responder:managed") == "true" and tags.get("responder:purpose") in out:
            out[str(tags["responder:purpose"])].add(g["GroupId"])
    return out


def _throttled(operation: str = "ModifyNetworkInterfaceAttribute") -> ClientError:
    return ClientError({"Error": {"Code": "RequestLimitExceeded", "Message": "Request limit exceeded."}}, operation)


class FlakyModify:
    """ModifyNetworkInterfaceAttribute in front of moto, failing the calls `fail(n, eni, groups)` picks. With
    `apply_then_fail`, the failing call is carried out first and only its answer is lost (a timeout)."""

    def __init__(self, gw: Ec2Gateway, monkeypatch: Any, fail: Any, apply_then_fail: bool = False) -> None:
        self.real = gw.ec2.modify_network_interface_attribute
        self.fail = fail
        self.apply_then_fail = apply_then_fail
        self.calls: list[tuple[str, list[str]]] = []
        self.per_eni: dict[str, int] = {}
        monkeypatch.setattr(gw.ec2, "modify_network_interface_attribute", self)

    def __call__(self, **kwargs: Any) -> Any:
        eni, groups = kwargs["NetworkInterfaceId"], list(kwargs["Groups"])
        self.calls.append((eni, groups))
        self.per_eni[eni] = self.per_eni.get(eni, 0) + 1
        if self.fail(self.per_eni[eni], eni, groups):
            if self.apply_then_fail:
                self.real(**kwargs)
            raise _throttled()
        return self.real(**kwargs)


def _assert_each_eni_isolated_or_original(ec2: Any, victim: Any, isolation: set[str]) -> dict[str, str]:
    """Where each ENI ended: 'isolated' or 'original'. Anything else (the transition group) fails."""
    where = {}
    for eni in victim.enis:
        now = eni_groups(ec2, eni)
        if len(now) == 1 and now[0] in isolation:
            where[eni] = "isolated"
        else:
            assert now == victim.groups[eni], f"{eni} left in {now}: neither isolated nor its original groups"
            where[eni] = "original"
    return where


# -- item 5: a failure midway never leaves an ENI in the all-traffic transition group -----------------------------
def test_isolation_assignment_failing_once_for_the_second_eni_leaves_none_in_transition(aws, monkeypatch):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=3)
    gw = _gw()
    incident = _incident(gw, victim.instance_id)
    second = victim.enis[1]
    # ENI 2's second call (its isolation-group assignment) is throttled beyond botocore's retries, once.
    flaky = FlakyModify(gw, monkeypatch, lambda n, eni, groups: eni == second and n == 2)

    with pytest.raises(ContainmentError) as caught:
        _contain(gw, incident)

    groups = _purpose_groups(ec2, victim.vpc_id)
    where = _assert_each_eni_isolated_or_original(ec2, victim, groups["isolation"])
    assert where[victim.enis[0]] == "isolated" and where[second] == "isolated"
    message = str(caught.value)
    assert f"{victim.enis[0]}: isolated" in message and f"{second}: isolated" in message
    assert victim.enis[2] in message
    assert "RequestLimitExceeded" in message
    # ENI by ENI: ENI 1 was isolated before ENI 2 was touched.
    first_isolated = flaky.calls.index((victim.enis[0], sorted(groups["isolation"])))
    assert all(eni != second for eni, _ in flaky.calls[:first_isolated])


def test_isolation_failing_for_good_puts_the_eni_back_in_its_recorded_groups(aws, monkeypatch):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=3)
    gw = _gw()
    incident = _incident(gw, victim.instance_id)
    second = victim.enis[1]
    holder: dict[str, set[str]] = {}

    def fail(n: int, eni: str, groups: list[str]) -> bool:
        holder.setdefault("isolation", _purpose_groups(ec2, victim.vpc_id)["isolation"])
        return eni == second and set(groups) <= holder["isolation"]

    FlakyModify(gw, monkeypatch, fail)

    with pytest.raises(ContainmentError) as caught:
        _contain(gw, incident)

    where = _assert_each_eni_isolated_or_original(ec2, victim, _purpose_groups(ec2, victim.vpc_id)["isolation"])
    assert where[victim.enis[0]] == "isolated" and where[second] == "original"
    assert f"{second}: back to its recorded groups {','.join(victim.groups[second])}" in str(caught.value)


def test_transition_applied_but_answer_lost_then_isolation_refused_is_not_left_open(aws, monkeypatch):
    """A timeout on the transition swap (carried out, answer lost) and the isolation swap refused: the ENI
    must not stay in the all-traffic group."""
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=2)
    gw = _gw()
    incident = _incident(gw, victim.instance_id)
    second = victim.enis[1]
    state = {"transition_done": False}

    def fail(n: int, eni: str, groups: list[str]) -> bool:
        if eni != second:
            return False
        transition = _purpose_groups(ec2, victim.vpc_id)["transition"]
        if set(groups) <= transition:
            state["transition_done"] = True
            return True  # applied, then the answer is lost
        return set(groups) != set(victim.groups[second])  # isolation refused; the way back allowed

    FlakyModify(gw, monkeypatch, fail, apply_then_fail=True)

    with pytest.raises(ContainmentError) as caught:
        _contain(gw, incident)

    assert state["transition_done"]
    where = _assert_each_eni_isolated_or_original(ec2, victim, _purpose_groups(ec2, victim.vpc_id)["isolation"])
    assert where == {victim.enis[0]: "isolated", second: "original"}
    assert f"{second}: back to its recorded groups" in str(caught.value)


def test_transition_swap_refused_goes_straight_to_isolation(aws, monkeypatch):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=2)
    gw = _gw()
    incident = _incident(gw, victim.instance_id)
    second = victim.enis[1]
    FlakyModify(gw, monkeypatch, lambda n, eni, groups: eni == second and n == 1)

    with pytest.raises(ContainmentError) as caught:
        _contain(gw, incident)

    where = _assert_each_eni_isolated_or_original(ec2, victim, _purpose_groups(ec2, victim.vpc_id)["isolation"])
    assert where == {victim.enis[0]: "isolated", second: "isolated"}
    assert f"{second}: isolated" in str(caught.value)


def test_direct_mode_failure_leaves_no_eni_more_open_than_found(aws, monkeypatch):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=2)
    gw = _gw()
    incident = _incident(gw, victim.instance_id, mode="direct")
    second = victim.enis[1]
    FlakyModify(gw, monkeypatch, lambda n, eni, groups: eni == second and set(groups) != set(victim.groups[second]))

    with pytest.raises(ContainmentError) as caught:
        _contain(gw, incident, mode="direct")

    where = _assert_each_eni_isolated_or_original(ec2, victim, _purpose_groups(ec2, victim.vpc_id)["isolation"])
    assert where == {victim.enis[0]: "isolated", second: "original"}
    assert f"{second}: back to its recorded groups" in str(caught.value)


def test_every_swap_refused_reports_where_each_eni_is(aws, monkeypatch):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=2)
    gw = _gw()
    incident = _incident(gw, victim.instance_id)
    FlakyModify(gw, monkeypatch, lambda n, eni, groups: True)

    with pytest.raises(ContainmentError) as caught:
        _contain(gw, incident)

    message = str(caught.value)
    for eni in victim.enis:
        assert eni_groups(ec2, eni) == victim.groups[eni]
        assert eni in message


def test_a_rerun_after_a_failure_completes_the_isolation(aws, monkeypatch):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=3)
    gw = _gw()
    incident = _incident(gw, victim.instance_id)
    FlakyModify(gw, monkeypatch, lambda n, eni, groups: eni == victim.enis[1] and n == 2)
    with pytest.raises(ContainmentError):
        _contain(gw, incident)
    monkeypatch.undo()

    _contain(gw, incident)

    assert dom.verify_contained(gw, incident, Ec2Options()) == []


# -- item 6: a planted group named like the responder's never blocks containment and is never used ----------------
def _plant(ec2: Any, vpc_id: str, name: str, tags: list[dict[str, str]] | None = None) -> str:
    spec: dict[str, Any] = {"GroupName": name, "Description": "responder group (managed)", "VpcId": vpc_id}
    if tags:
        spec["TagSpecifications"] = [{"ResourceType": "security-group", "Tags": tags}]
    group = str(ec2.create_security_group(**spec)["GroupId"])
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=ALLOW_ALL_IN)
    return group


@pytest.mark.parametrize("mode", ["two_step", "direct"])
@pytest.mark.parametrize("name", ["responder-isolation", "responder-transition"])
def test_untagged_group_with_the_responders_name_does_not_block_containment(aws, mode, name):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=2)
    planted = _plant(ec2, victim.vpc_id, name)
    gw = _gw()
    incident = _incident(gw, victim.instance_id, mode)

    _contain(gw, incident, mode)

    assert dom.verify_contained(gw, incident, Ec2Options()) == []
    for eni in victim.enis:
        (group,) = eni_groups(ec2, eni)
        assert group != planted
        sg = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
        assert sg["IpPermissions"] == [] and sg["IpPermissionsEgress"] == []
    assert planted not in {a.id for a in incident.artifacts}
    # The planted group is left as it was: the responder changes only its own groups.
    sg = ec2.describe_security_groups(GroupIds=[planted])["SecurityGroups"][0]
    assert sg["IpPermissions"] and not any(t["Key"].startswith("responder:") for t in sg.get("Tags", []))


def test_the_group_created_under_another_name_is_found_again_by_its_tag(aws):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=1)
    _plant(ec2, victim.vpc_id, "responder-isolation")
    _plant(ec2, victim.vpc_id, "responder-transition")
    gw = _gw()
    first = gw.ensure_group(victim.vpc_id, "isolation")
    count = len(ec2.describe_security_groups()["SecurityGroups"])

    assert gw.ensure_group(victim.vpc_id, "isolation") == first
    assert gw.ensure_group(victim.vpc_id, "transition") == gw.ensure_group(victim.vpc_id, "transition")
    assert len(ec2.describe_security_groups()["SecurityGroups"]) == count + 1


@pytest.mark.parametrize("name", ["responder-isolation", "innocuous-name"])
def test_owner_tagged_isolation_group_with_rules_is_not_used(aws, name):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=2)
    planted = _plant(ec2, victim.vpc_id, name, [*MANAGED, {"Key": "responder:purpose", "Value": "isolation"}])
    gw = _gw()
    incident = _incident(gw, victim.instance_id)

    _contain(gw, incident)

    assert dom.verify_contained(gw, incident, Ec2Options()) == []
    for eni in victim.enis:
        assert eni_groups(ec2, eni) != [planted]
    assert planted not in {a.id for a in incident.artifacts}


def test_owner_tagged_transition_group_with_foreign_rules_is_not_used(aws):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=1)
    planted = str(
        ec2.create_security_group(
            GroupName="responder-transition",
            Description="x",
            VpcId=victim.vpc_id,
            TagSpecifications=[
                {
                    "ResourceType": "security-group",
                    "Tags": [*MANAGED, {"Key": "responder:purpose", "Value": "transition"}],
                }
            ],
        )["GroupId"]
    )
    ec2.authorize_security_group_ingress(
        GroupId=planted,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    gw = _gw()

    assert gw.ensure_group(victim.vpc_id, "transition") != planted


def test_tagged_empty_isolation_group_in_another_vpc_is_not_used(aws):
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=1)
    other = make_instance(ec2, enis=1)
    gw = _gw()
    elsewhere = gw.ensure_group(other.vpc_id, "isolation")

    here = gw.ensure_group(victim.vpc_id, "isolation")

    assert here != elsewhere
    assert ec2.describe_security_groups(GroupIds=[here])["SecurityGroups"][0]["VpcId"] == victim.vpc_id


def test_the_responders_isolation_group_given_a_rule_is_replaced_not_trusted(aws):
    """Rules added to the responder's own isolation group (the owner may edit any group) make it
    untrustworthy: the next containment uses a fresh group with no rules, under another name."""
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=1)
    gw = _gw()
    first = gw.ensure_group(victim.vpc_id, "isolation")
    ec2.authorize_security_group_ingress(GroupId=first, IpPermissions=ALLOW_ALL_IN)

    second = gw.ensure_group(victim.vpc_id, "isolation")

    assert second != first
    sg = ec2.describe_security_groups(GroupIds=[second])["SecurityGroups"][0]
    assert sg["IpPermissions"] == [] and sg["IpPermissionsEgress"] == []
    assert sg["GroupName"].startswith("responder-isolation-")
    assert gw.ensure_group(victim.vpc_id, "isolation") == second


def test_a_group_left_with_the_default_egress_by_a_crash_is_not_used(aws, monkeypatch):
    """A crash between creating the isolation group and revoking its default allow-all egress leaves a
    tagged group with a rule: the next run does not use it."""
    ec2 = client("ec2", "us-east-1")
    victim = make_instance(ec2, enis=1)
    gw = _gw()

    def crash(**kwargs: Any) -> None:
        raise KeyboardInterrupt  # the process dies here

    monkeypatch.setattr(gw.ec2, "revoke_security_group_egress", crash)
    with pytest.raises(KeyboardInterrupt):
        gw.ensure_group(victim.vpc_id, "isolation")
    monkeypatch.undo()
    (left,) = _purpose_groups(ec2, victim.vpc_id)["isolation"]

    group = gw.ensure_group(victim.vpc_id, "isolation")

    assert group != left
    sg = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
    assert sg["IpPermissions"] == [] and sg["IpPermissionsEgress"] == []
