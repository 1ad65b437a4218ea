"""EC2 containment end to end against a planted isolation group and a refused group swap: never blocked, never open."""

from __future__ import annotations

from types import SimpleNamespace

import botocore.endpoint

from responder.adapters.preferences import PreferenceStore
from responder.models.preferences import Mode, OnTimeout, Rule, RuleMatch
from responder_cli.samples import ec2_finding
from tests.support.faults import FaultInjector
from tests.support.victims import eni_groups, make_instance

C2 = "Backdoor:EC2/C&CActivity.B"
ALLOW_ALL_IN = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]


def _auto(responder) -> None:
    store = PreferenceStore(responder.stack.outputs["PreferencesTable"], responder.session.client("dynamodb"))
    store.put(
        Rule(
            id="ec2-auto",
            priority=10,
            match=RuleMatch(resource_types=["ec2_instance"]),
            mode=Mode.AUTO,
            on_timeout=OnTimeout.EXPIRE,
        )
    )


def test_a_planted_group_with_the_isolation_groups_name_does_not_block_containment(responder):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=2)
    planted = ec2.create_security_group(GroupName="responder-isolation", Description="impostor", VpcId=victim.vpc_id)
    ec2.authorize_security_group_ingress(GroupId=planted["GroupId"], IpPermissions=ALLOW_ALL_IN)
    _auto(responder)

    desc = responder.wait(responder.start(ec2_finding(C2, instance_id=victim.instance_id)))

    assert desc["status"] == "SUCCEEDED", desc
    incident = responder.only_incident()
    assert incident.status.value == "CONTAINED"
    for eni in victim.enis:
        (group,) = eni_groups(ec2, eni)
        assert group != planted["GroupId"]
        sg = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]
        assert sg["IpPermissions"] == [] and sg["IpPermissionsEgress"] == []


def test_refused_group_swaps_fail_the_incident_with_where_each_eni_ended(responder, monkeypatch):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=2)
    _auto(responder)
    faults = FaultInjector(fail_operations={"ModifyNetworkInterfaceAttribute": "UnauthorizedOperation"})
    faults.install(monkeypatch)
    # The injected answer is retried by botocore as AWS's would be: its backoffs are not slept.
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=lambda _: None))

    desc = responder.wait(responder.start(ec2_finding(C2, instance_id=victim.instance_id)), timeout=180)
    faults.fail_operations.clear()

    assert desc["status"] == "FAILED"
    incident = responder.only_incident()
    assert incident.status.value == "FAILED"
    first, second = victim.enis
    assert incident.error and f"{first}: NOT isolated and not put back" in incident.error
    assert f"its groups now: {','.join(victim.groups[first])}" in incident.error
    assert f"{second}: not yet changed" in incident.error
    email = responder.wait_for_email("[FAILED]")
    assert first in email.body and second in email.body
    for eni in victim.enis:
        assert eni_groups(ec2, eni) == victim.groups[eni]  # nothing left in the all-traffic transition group

    restore = responder.wait(responder.restore(incident.incident_id))

    assert restore["status"] == "SUCCEEDED", restore
    for eni in victim.enis:
        assert eni_groups(ec2, eni) == victim.groups[eni]
