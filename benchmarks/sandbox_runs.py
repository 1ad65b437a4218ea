"""Time to contain, restore time, state transitions and a finding storm, measured in the sandbox."""

from __future__ import annotations

import concurrent.futures
import json
import socket
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import boto3

from responder.adapters.incidents import IncidentStore
from responder.adapters.preferences import PreferenceStore
from responder.models.incident import Incident
from responder.models.preferences import Mode, Rule, RuleMatch
from responder_cli.samples import access_key_finding, ec2_finding, s3_finding
from responder_cli.sandbox.sandbox import Sandbox
from tests.support.victims import make_instance, make_vpc

STANDARD_PRICE_PER_1000_TRANSITIONS = 0.025  # USD, Step Functions Standard, us-east-1 list price


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1) if ordered else 0.0


class Bench:
    def __init__(self) -> None:
        self.sandbox = Sandbox(port=_port())
        self.sandbox.start()
        assert self.sandbox.stack is not None
        self.outputs = self.sandbox.stack.outputs
        self.session = boto3.Session(region_name="us-east-1")
        self.store = IncidentStore(self.outputs["IncidentsTable"], self.session.client("dynamodb"))
        self.sfn = self.session.client("stepfunctions")
        self.events = self.session.client("events")

    def close(self) -> None:
        self.sandbox.stop()

    def rules(self, mode: Mode) -> None:
        store = PreferenceStore(self.outputs["PreferencesTable"], self.session.client("dynamodb"))
        store.replace_all([Rule(id="bench", priority=1, match=RuleMatch(), mode=mode)])

    def put(self, event: dict[str, Any]) -> None:
        entry = {"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"])}
        resp = self.events.put_events(Entries=[entry])
        assert resp["FailedEntryCount"] == 0

    def wait_for(self, resource_id: str, statuses: set[str], timeout: float = 120) -> Incident:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for inc in self.store.list(limit=10_000):
                if inc.resource.id == resource_id and inc.status.value in statuses:
                    return inc
            time.sleep(0.02)
        raise TimeoutError(f"{resource_id} never reached {statuses}")

    def handler_ms_since(self, mark: int) -> tuple[float, float]:
        """Milliseconds inside handlers since `mark`, and of those, outside the calls to the emulator."""
        assert self.sandbox.invoker is not None
        timings = self.sandbox.invoker.timings[mark:]
        return sum(ms for _, ms, _ in timings), sum(ms - aws for _, ms, aws in timings)

    def transitions(self, execution_arn: str) -> int:
        events = self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        return sum(1 for e in events if e["type"].endswith("StateEntered"))

    def executions(self, machine: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"stateMachineArn": self.outputs[machine], "maxResults": 1000}
        while True:
            resp = self.sfn.list_executions(**kwargs)
            out += resp["executions"]
            if not resp.get("nextToken"):
                return out
            kwargs["nextToken"] = resp["nextToken"]


def _victim(bench: Bench, kind: str, n: int) -> tuple[str, dict[str, Any]]:
    if kind == "ec2_instance":
        v = make_instance(bench.session.client("ec2"), enis=2, vpc=bench.vpc)  # type: ignore[attr-defined]
        return v.instance_id, ec2_finding("Backdoor:EC2/C&CActivity.B", instance_id=v.instance_id)
    if kind == "iam_user":
        iam = bench.session.client("iam")
        name = f"bench-user-{n}"
        iam.create_user(UserName=name)
        key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
        return name, access_key_finding(
            "CredentialAccess:IAMUser/AnomalousBehavior", user=name, access_key_id=key, severity=8
        )
    if kind == "iam_role":
        name = f"bench-role-{n}"
        bench.session.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument="{}")
        event = access_key_finding(
            "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", user=name, user_type="AssumedRole"
        )
        return name, event
    name = f"bench-bucket-{n}"
    bench.session.client("s3").create_bucket(Bucket=name)
    return name, s3_finding("Exfiltration:S3/AnomalousBehavior", bucket=name)


def time_to_contain(bench: Bench, runs: int) -> list[dict[str, Any]]:
    bench.rules(Mode.AUTO)
    bench.vpc = make_vpc(bench.session.client("ec2"))  # type: ignore[attr-defined]
    rows = []
    for kind in ("ec2_instance", "iam_user", "iam_role", "s3_bucket"):
        contain_ms: list[float] = []
        handler_ms: list[float] = []
        own_ms: list[float] = []
        restore_ms: list[float] = []
        restore_own: list[float] = []
        for n in range(runs):
            resource, event = _victim(bench, kind, n)
            assert bench.sandbox.invoker is not None
            mark = len(bench.sandbox.invoker.timings)
            started = datetime.now(UTC)
            bench.put(event)
            inc = bench.wait_for(resource, {"CONTAINED", "FAILED"})
            if inc.status.value != "CONTAINED" or inc.contained_at is None:
                raise RuntimeError(f"{kind} {resource}: {inc.status.value} {inc.error}")
            contain_ms.append((inc.contained_at - started).total_seconds() * 1000)
            time.sleep(0.05)  # let the notify step finish before counting handler time
            in_handler, own = bench.handler_ms_since(mark)
            handler_ms.append(in_handler)
            own_ms.append(own)
            mark = len(bench.sandbox.invoker.timings)
            started = datetime.now(UTC)
            bench.sfn.start_execution(
                stateMachineArn=bench.outputs["RestoreStateMachine"], name=f"bench-{kind}-{n}",
                input=json.dumps({"incident_id": inc.incident_id}),
            )  # fmt: skip
            done = bench.wait_for(resource, {"RESTORED", "FAILED"})
            if done.status.value != "RESTORED" or done.restored_at is None:
                raise RuntimeError(f"restore of {kind} {resource}: {done.status.value} {done.error}")
            restore_ms.append((done.restored_at - started).total_seconds() * 1000)
            time.sleep(0.05)
            restore_own.append(bench.handler_ms_since(mark)[1])
        rows.append(
            {
                "kind": kind,
                "runs": runs,
                "contain_p50_ms": pct(contain_ms, 0.5),
                "contain_p95_ms": pct(contain_ms, 0.95),
                "handler_p50_ms": pct(handler_ms, 0.5),
                "own_p50_ms": pct(own_ms, 0.5),
                "own_share": round(statistics.median(own_ms) / statistics.median(contain_ms), 2),
                "restore_p50_ms": pct(restore_ms, 0.5),
                "restore_p95_ms": pct(restore_ms, 0.95),
                "restore_own_p50_ms": pct(restore_own, 0.5),
            }
        )
    return rows


def transitions_per_path(bench: Bench) -> list[dict[str, Any]]:
    """State transitions per execution path, from the execution histories of the runs so far."""
    by_path: dict[str, list[int]] = {}
    for machine in ("ContainmentStateMachine", "RestoreStateMachine"):
        for execution in bench.executions(machine):
            if execution["status"] == "RUNNING":
                continue
            events = bench.sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
            states = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
            if machine == "RestoreStateMachine":
                path = "restore" if "RestoreResource" in states else "restore (already restored)"
            elif "ContainAuto" in states:
                path = "auto contain"
            elif "ContainApproved" in states:
                path = "approved contain"
            elif "MarkExpired" in states:
                path = "expired"
            elif "RequestApproval" in states:
                path = "rejected"
            elif "Evaluate" not in states:
                path = "absorbed or skipped"
            else:
                path = "notify only"
            by_path.setdefault(path, []).append(len(states))
    return [
        {
            "path": path,
            "executions": len(counts),
            "transitions": int(statistics.median(counts)),
            "usd_per_1000_incidents": round(statistics.median(counts) * STANDARD_PRICE_PER_1000_TRANSITIONS, 3),
        }
        for path, counts in sorted(by_path.items())
    ]


def finding_storm(bench: Bench, findings: int, resources: int) -> dict[str, Any]:
    bench.rules(Mode.NOTIFY)
    ec2 = bench.session.client("ec2")
    vpc = make_vpc(ec2)
    instances = [make_instance(ec2, enis=1, groups_per_eni=1, vpc=vpc).instance_id for _ in range(resources)]
    before = {e["executionArn"] for e in bench.executions("ContainmentStateMachine")}
    events = [
        ec2_finding("Backdoor:EC2/C&CActivity.B", instance_id=instances[i % resources], finding_id=f"storm-{i % (resources * 4)}",
                    count=1 + i // (resources * 4))
        for i in range(findings)
    ]  # fmt: skip
    batches = [events[i : i + 10] for i in range(0, len(events), 10)]
    client = bench.session.client("events")
    started = time.monotonic()

    def send(batch: list[dict[str, Any]]) -> int:
        entries = [
            {"Source": e["source"], "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"])} for e in batch
        ]
        return int(client.put_events(Entries=entries)["FailedEntryCount"])

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        refused = sum(pool.map(send, batches))
    sent_s = time.monotonic() - started
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        mine = [e for e in bench.executions("ContainmentStateMachine") if e["executionArn"] not in before]
        if len(mine) >= findings and all(e["status"] != "RUNNING" for e in mine):
            break
        time.sleep(0.5)
    wall = time.monotonic() - started
    failed = sum(1 for e in mine if e["status"] != "SUCCEEDED")
    incidents = {i.resource.id for i in bench.store.list(limit=100_000) if i.resource.id in set(instances)}
    deliveries = sum(i.delivery_count for i in bench.store.list(limit=100_000) if i.resource.id in set(instances))
    return {
        "findings": findings,
        "resources": resources,
        "incidents": len(incidents),
        "deliveries_recorded": deliveries,
        "refused_by_eventbridge": refused,
        "failed_executions": failed,
        "send_seconds": round(sent_s, 1),
        "wall_seconds": round(wall, 1),
        "triaged_per_second": round(findings / wall, 1),
    }


def direct_boto3_floor(bench: Bench, runs: int) -> dict[str, Any]:
    """The same EC2 isolation done by one plain boto3 script against the same emulator: the floor."""
    ec2 = bench.session.client("ec2")
    autoscaling = bench.session.client("autoscaling")
    vpc_id, _ = bench.vpc  # type: ignore[attr-defined]
    iso = ec2.create_security_group(GroupName="floor-isolation", Description="floor", VpcId=vpc_id)["GroupId"]
    tra = ec2.create_security_group(GroupName="floor-transition", Description="floor", VpcId=vpc_id)["GroupId"]
    times = []
    for _ in range(runs):
        v = make_instance(ec2, enis=2, vpc=bench.vpc)  # type: ignore[attr-defined]
        started = time.perf_counter()
        inst = ec2.describe_instances(InstanceIds=[v.instance_id])["Reservations"][0]["Instances"][0]
        autoscaling.describe_auto_scaling_instances(InstanceIds=[v.instance_id])
        ec2.describe_instance_attribute(InstanceId=v.instance_id, Attribute="disableApiTermination")
        ec2.describe_instance_attribute(InstanceId=v.instance_id, Attribute="disableApiStop")
        ec2.modify_instance_attribute(InstanceId=v.instance_id, DisableApiTermination={"Value": True})
        ec2.modify_instance_attribute(InstanceId=v.instance_id, DisableApiStop={"Value": True})
        enis = [e["NetworkInterfaceId"] for e in inst["NetworkInterfaces"]]
        for eni in enis:
            ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[tra])
        for eni in enis:
            ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[iso])
        for m in inst.get("BlockDeviceMappings", []):
            ec2.create_snapshot(VolumeId=m["Ebs"]["VolumeId"])
        times.append((time.perf_counter() - started) * 1000)
    return {"runs": runs, "p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95)}


def cold_starts(bench: Bench) -> list[dict[str, Any]]:
    """Per deployed function: init (handler module import, environment, clients) and the first
    invocation, against the median warm invocation, as the sandbox's worker processes measured them."""
    invoker = bench.sandbox.invoker
    assert invoker is not None
    rows = []
    for name in sorted({n for n, _, _ in invoker.cold_starts}):
        starts = [(i, f) for n, i, f in invoker.cold_starts if n == name]
        warm = [ms for n, ms, _ in invoker.timings if n == name]
        rows.append(
            {
                "function": name.split("-", 1)[-1],
                "workers": len(starts),
                "init_p50_ms": pct([i for i, _ in starts], 0.5),
                "first_invoke_p50_ms": pct([f for _, f in starts], 0.5),
                "invoke_p50_ms": pct(warm, 0.5),
            }
        )
    return rows
