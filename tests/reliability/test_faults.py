"""Throttling at every AWS call, and a crash after every mutating call, for every resource kind.

Throttling: for each call that containment makes, in turn, its first attempt is answered with a
throttling error in the service's wire format (ThrottlingException, RequestLimitExceeded,
TooManyRequestsException in rotation). botocore's adaptive retries must carry the containment to the end,
with exactly the mutating calls of an undisturbed run: nothing done twice, nothing skipped.

Crash: the process dies (a BaseException, so no `except Exception` and no recorder flush runs) just before
the (n+1)th mutating call, for every n. What survives is what a real crash leaves: the incident as the
Record step stored it. Restore from it alone must bring the resource back to its pre-state exactly.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import botocore.endpoint
import pytest
from moto import mock_aws

from responder.adapters.aws import client, reset_clients
from responder.domain import kinds
from responder.domain.recorder import Recorder
from responder.models.incident import Incident, RestoreOptions
from tests.support import kinds as k
from tests.support.faults import FaultInjector, InjectedCrash
from tests.support.scenarios import SCENARIOS

FULL = RestoreOptions(reactivate_keys=True, lift_session_revocation=True)


@pytest.fixture
def backoffs(monkeypatch) -> list[float]:
    """botocore's retry sleeps, recorded instead of slept (the delays themselves are asserted)."""
    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=slept.append))
    return slept


def _waf_addresses(inc: Incident) -> list[str] | None:
    if inc.decision is None or inc.decision.actions.waf_ip_set_arn is None:
        return None
    name, set_id = inc.decision.actions.waf_ip_set_arn.split("/")[-2:]
    ip_set = client("wafv2", k.REGION).get_ip_set(Name=name, Scope="REGIONAL", Id=set_id)["IPSet"]
    return sorted(ip_set["Addresses"])


def _world(kind: str, injector: FaultInjector) -> tuple[Incident, Any]:
    injector.active = False
    inc = SCENARIOS[kind]()
    return inc, (k.current(inc), _waf_addresses(inc))


def _contain(inc: Incident, injector: FaultInjector) -> None:
    injector.active = True
    try:
        k.contain(inc)
    finally:
        injector.active = False


def _contained(kind: str, injector: FaultInjector, monkeypatch, why: str = "") -> FaultInjector:
    """A fresh world with the kind's victim, contained under the injector's faults, and verified."""
    injector.install(monkeypatch)
    reset_clients()
    with mock_aws():
        inc, _ = _world(kind, injector)
        _contain(inc, injector)
        assert k.verify(inc) == [], f"{kind}: {why or 'not contained'}"
    reset_clients()
    return injector


def _baseline(kind: str, monkeypatch) -> FaultInjector:
    return _contained(kind, FaultInjector(), monkeypatch)


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_throttling_at_every_call_still_contains_once(kind, monkeypatch, backoffs):
    baseline = _baseline(kind, monkeypatch)
    expected = baseline.mutating()
    assert expected, "the scenario must change something"
    for index, call in enumerate(baseline.calls):
        why = f"throttling {call.operation} (call {index}) left it not contained"
        injector = _contained(kind, FaultInjector(throttle_calls={index}), monkeypatch, why)
        assert injector.calls[index].operation == call.operation
        assert injector.calls[index].throttled == 1 and injector.calls[index].ran == 1
        assert injector.mutating() == expected, f"{kind}: throttling {call.operation} changed what was done"
    assert len(backoffs) == len(baseline.calls)  # one backoff per throttled call, none for anything else
    assert all(0 <= b <= 20 for b in backoffs) and len(set(backoffs)) > 1  # jittered, bounded


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_every_call_throttled_in_one_run_still_contains_once(kind, monkeypatch, backoffs):
    expected = _baseline(kind, monkeypatch).mutating()
    injector = _contained(kind, FaultInjector(throttle_all=True), monkeypatch)
    assert all(c.throttled == 1 and c.ran == 1 for c in injector.calls)
    assert injector.mutating() == expected


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_crash_after_each_mutating_call_then_restore_brings_back_the_pre_state(kind, monkeypatch):
    mutations = len(_baseline(kind, monkeypatch).mutating())
    for survived in range(mutations):
        injector = FaultInjector(crash_after_mutations=survived).install(monkeypatch)
        reset_clients()
        with mock_aws():
            inc, before = _world(kind, injector)
            stored = inc.model_copy(deep=True)  # what the Record step wrote, the only thing a crash leaves
            injector.active = True
            with pytest.raises(InjectedCrash):
                assert inc.decision is not None
                kinds.contain(k.GATEWAYS, inc, inc.decision, k.SETTINGS, Recorder())
            injector.active = False
            assert injector.mutations_run() == survived

            report = k.restore(stored, FULL)
            assert k.verify_restored(stored, FULL) == [], f"{kind}: crash after {survived} mutating calls"
            assert (k.current(stored), _waf_addresses(stored)) == before, (
                f"{kind}: crash after {survived} mutating calls, restore report {report}"
            )
            _assert_no_orphaned_isolation_groups(stored)
        reset_clients()


def _assert_no_orphaned_isolation_groups(inc: Incident) -> None:
    """Every security group the responder created is one of its shared, tagged per-VPC groups: found
    and reused by the next incident, and attached to no ENI once restore is done."""
    ec2 = client("ec2", k.REGION)
    groups = ec2.describe_security_groups(Filters=[{"Name": "tag:responder:managed", "Values": ["true"]}])
    for group in groups["SecurityGroups"]:
        tags = {t["Key"]: t["Value"] for t in group.get("Tags", [])}
        assert tags.get("responder:purpose") in {"isolation", "transition"}, group
        attached = ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [group["GroupId"]]}])
        assert attached["NetworkInterfaces"] == [], f"{group['GroupId']} still attached after restore"
