"""The sandbox and the CLI, as a user runs them: a finding in, contained, approved, restored."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from responder_cli.sandbox.victims import make_instance

pytestmark = pytest.mark.e2e


def _groups(ec2, eni: str) -> list[str]:
    return sorted(
        g["GroupId"]
        for g in ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["Groups"]
    )


def test_finding_to_contained_to_restored_through_the_cli(sandbox, tmp_path):
    ec2 = sandbox.client("ec2")
    victim = make_instance(ec2, enis=2)
    before = {eni: _groups(ec2, eni) for eni in victim.enis}

    sample = sandbox.cli("findings", "sample", "Backdoor:EC2/C&CActivity.B", "--resource", victim.instance_id).stdout
    event_file = tmp_path / "finding.json"
    event_file.write_text(sample)
    sent = sandbox.cli("findings", "send", str(event_file)).stdout
    assert sent.startswith("sent event ")

    email = sandbox.wait_email("[APPROVAL NEEDED]")
    assert victim.instance_id in email["body"] and set(email["links"]) == {"approve", "reject"}
    pending = sandbox.wait_incident(lambda i: i["status"] == "PENDING_APPROVAL")
    assert pending["resource"] == {
        "type": "ec2_instance",
        "id": victim.instance_id,
        "account": "123456789012",
        "region": "us-east-1",
        "account_alias": None,  # the sandbox account has none
    }
    assert pending["decision"]["mode"] == "approve" and pending["pre_state"]["instance_id"] == victim.instance_id

    # Follow the link as a browser would: GET the page, then POST its form.
    link = email["links"]["approve"]
    page = urllib.request.urlopen(link, timeout=30).read().decode()
    fields = dict(re.findall(r'<input type=hidden name=(\w+) value="([^"]*)"', page))
    body = urllib.parse.urlencode({**fields, "name": "E2E Operator", "decision": "approve"}).encode()
    request = urllib.request.Request(
        link.split("?")[0], data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert urllib.request.urlopen(request, timeout=60).status == 200

    contained = sandbox.wait_incident(
        lambda i: i["incident_id"] == pending["incident_id"] and i["status"] == "CONTAINED"
    )
    assert contained["approval"]["decided_by"] == "E2E Operator"
    assert contained["contained_at"] and contained["actions"]
    for eni in victim.enis:
        assert _groups(ec2, eni) != before[eni]

    shown = sandbox.cli("incidents", "show", pending["incident_id"]).stdout
    for text in ("CONTAINED", "Pre-state", "Actions", "E2E Operator", "Timeline"):
        assert text in shown

    restored = json.loads(sandbox.cli("restore", pending["incident_id"], "--wait", "--json").stdout)
    assert restored["status"] == "RESTORED" and restored["restored_at"]
    for eni in victim.enis:
        assert _groups(ec2, eni) == before[eni]
    listed = sandbox.cli("incidents", "list", "--status", "RESTORED").stdout
    assert pending["incident_id"] in listed


def test_cli_approve_and_reject_for_operators(sandbox, tmp_path):
    ec2 = sandbox.client("ec2")
    victim = make_instance(ec2, enis=1)
    event_file = tmp_path / "e.json"
    event_file.write_text(
        sandbox.cli("findings", "sample", "Trojan:EC2/DropPoint", "--resource", victim.instance_id).stdout
    )
    started = sandbox.cli("findings", "send", str(event_file), "--direct").stdout
    assert started.startswith("started ")
    pending = sandbox.wait_incident(
        lambda i: i["resource"]["id"] == victim.instance_id and i["status"] == "PENDING_APPROVAL"
    )

    out = sandbox.cli("incidents", "reject", pending["incident_id"], "--as", "Ops Lead").stdout
    assert "rejected by Ops Lead" in out
    final = sandbox.wait_incident(lambda i: i["incident_id"] == pending["incident_id"] and i["status"] == "REJECTED")
    assert final["approval"]["via"] == "cli" and final["actions"] == []
    again = sandbox.cli("incidents", "approve", pending["incident_id"], "--as", "Ops Lead", check=False)
    assert again.returncode == 1 and "REJECTED, not PENDING_APPROVAL" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["incidents", "show", "inc-does-not-exist"], "unknown incident inc-does-not-exist"),
        (["restore", "inc-does-not-exist"], "unknown incident"),
        (["incidents", "list", "--stack-name", "NoSuchStack"], "no stack named NoSuchStack found"),
        (["findings", "sample", "Made:Up/Type"], "no sample for Made:Up/Type"),
        (["findings", "send", "/nonexistent.json"], "cannot read /nonexistent.json"),
    ],
)
def test_errors_are_one_clear_line(sandbox, args, message):
    proc = sandbox.cli(*args, check=False)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_restore_refuses_a_pending_incident(sandbox, tmp_path):
    ec2 = sandbox.client("ec2")
    victim = make_instance(ec2, enis=1)
    event_file = tmp_path / "e.json"
    event_file.write_text(
        sandbox.cli("findings", "sample", "Trojan:EC2/DropPoint", "--resource", victim.instance_id).stdout
    )
    sandbox.cli("findings", "send", str(event_file))
    pending = sandbox.wait_incident(
        lambda i: i["resource"]["id"] == victim.instance_id and i["status"] == "PENDING_APPROVAL"
    )
    proc = sandbox.cli("restore", pending["incident_id"], check=False)
    assert proc.returncode == 1 and "only CONTAINED or FAILED" in proc.stderr
    sandbox.cli("incidents", "reject", pending["incident_id"], "--as", "cleanup")


def test_unreachable_endpoint_is_one_clear_line():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.run(
        [sys.executable, "-m", "responder_cli.main", "incidents", "list", "--endpoint-url", f"http://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "AWS_MAX_ATTEMPTS": "1"},
    )
    assert proc.returncode == 1
    assert "endpoint unreachable" in proc.stderr and "Traceback" not in proc.stderr


def test_sandbox_stops_cleanly_without_orphans_or_bound_ports(tmp_path):
    import os
    import select
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "responder_cli.main", "sandbox", "up", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    ready = ""
    folder = None
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not ready.startswith("sandbox ready"):
        if select.select([proc.stdout], [], [], 1.0)[0]:
            ready = proc.stdout.readline()
            if ready.startswith("sandbox folder "):
                folder = Path(ready.split()[2])
    assert ready.startswith("sandbox ready"), ready
    assert folder is not None and folder.name.startswith("responder-sandbox-") and folder.is_dir()
    approvals_port = int(ready.rsplit(":", 1)[1].split("/")[0])
    hint = proc.stdout.readline()  # the line to paste into another shell
    assert hint.startswith(f"export AWS_ENDPOINT_URL=http://127.0.0.1:{port} "), hint
    # Make a worker exist: the approval page is served by a worker process.
    urllib.request.urlopen(f"http://127.0.0.1:{approvals_port}/_sandbox/outbox", timeout=30).read()
    endpoint = f"http://127.0.0.1:{port}"
    proc_env = {**env, "AWS_ENDPOINT_URL": endpoint}
    subprocess.run(
        [sys.executable, "-m", "responder_cli.main", "incidents", "list"],
        env=proc_env,
        capture_output=True,
        timeout=120,
        check=True,
    )
    try:
        urllib.request.urlopen(
            f"http://127.0.0.1:{approvals_port}/v1/approvals/x?incident=i&decision=approve&exp=1&sig=" + "0" * 64,
            timeout=30,
        )
    except urllib.error.HTTPError as exc:
        assert exc.code == 403
    children = subprocess.run(
        ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert children, "expected a worker process"

    os.killpg(proc.pid, 2)  # Ctrl-C in a terminal: the whole process group, jsii's node process included
    assert proc.wait(timeout=60) == 0
    rest = proc.stdout.read()
    assert "Traceback" not in rest and "Error" not in rest, rest
    for child in children:
        status = Path(f"/proc/{child}/status")
        assert not status.exists() or "zombie" in status.read_text().lower()
    assert not folder.exists(), f"the sandbox left {folder} behind"
    for p in (port, approvals_port):
        with socket.socket() as s:
            # SO_REUSEADDR admits connections in TIME_WAIT, never a socket still listening.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", p))
            s.listen()


# -- the walkthrough's commands: victims, checked samples, triage's verdict --------------------------
def test_sandbox_victims_of_each_kind(sandbox):
    instance_id = sandbox.cli("sandbox", "victim", "ec2").stdout.strip()
    ec2 = sandbox.client("ec2")
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert len(instance["NetworkInterfaces"]) == 2
    assert all(len(e["Groups"]) == 2 for e in instance["NetworkInterfaces"])
    assert {t["Key"] for t in instance["Tags"]} >= {"Name"}
    vpc = ec2.describe_vpcs(VpcIds=[instance["VpcId"]])["Vpcs"][0]
    assert any(t["Key"] == "Name" for t in vpc.get("Tags", []))

    user, key = sandbox.cli("sandbox", "victim", "iam-user").stdout.split()
    iam = sandbox.client("iam")
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(key, "Active")]
    assert iam.list_user_policies(UserName=user)["PolicyNames"]

    bucket = json.loads(sandbox.cli("sandbox", "victim", "bucket", "--json").stdout)["bucket"]
    policy = json.loads(sandbox.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Effect"] == "Allow"


def test_send_reports_what_triage_made_of_the_finding(sandbox, tmp_path):
    instance_id = sandbox.cli("sandbox", "victim", "ec2").stdout.strip()
    finding = tmp_path / "finding.json"
    finding.write_text(
        sandbox.cli("findings", "sample", "Backdoor:EC2/C&CActivity.B", "--resource", instance_id).stdout
    )

    first = sandbox.cli("findings", "send", str(finding)).stdout.splitlines()
    assert first[0].startswith("sent event ")
    incident_id = first[1].split()[1]
    assert re.fullmatch(r"incident inc-\S+ PENDING_APPROVAL: rule ec2-high-approve: approve", first[1]), first

    again = sandbox.cli("findings", "send", str(finding)).stdout.splitlines()
    assert again[1].startswith(f"absorbed into incident {incident_id} PENDING_APPROVAL: an open incident already owns")

    as_json = json.loads(sandbox.cli("findings", "send", str(finding), "--json").stdout)
    assert as_json["outcome"] == "absorbed" and as_json["incident"]["incident_id"] == incident_id

    quiet = sandbox.cli("findings", "send", str(finding), "--no-wait").stdout.splitlines()
    assert len(quiet) == 1 and quiet[0].startswith("sent event ")

    missing = tmp_path / "missing.json"
    missing.write_text(
        sandbox.cli("findings", "sample", "Trojan:EC2/DropPoint", "--resource", "i-0000000000000dead").stdout
    )
    skipped = sandbox.cli("findings", "send", str(missing), "--direct").stdout.splitlines()
    assert skipped[0].startswith("started arn:")
    assert re.fullmatch(r"incident inc-\S+ SKIPPED: ec2_instance i-0000000000000dead does not exist", skipped[1])

    gone_high = tmp_path / "gone-high.json"
    gone_high.write_text(
        sandbox.cli("findings", "sample", "Backdoor:EC2/C&CActivity.B", "--resource", "i-0000000000000beef").stdout
    )
    unhandled = sandbox.cli("findings", "send", str(gone_high)).stdout.splitlines()
    assert re.fullmatch(
        r"incident inc-\S+ SKIPPED: not contained, the team is emailed: ec2_instance i-0000000000000beef does not exist",
        unhandled[1],
    ), unhandled

    malformed = tmp_path / "malformed.json"
    event = json.loads(finding.read_text())
    event["detail"]["severity"] = "high"
    del event["detail"]["resource"]
    malformed.write_text(json.dumps(event))
    proc = sandbox.cli("findings", "send", str(malformed), check=False)
    assert proc.returncode == 1 and proc.stdout.startswith("sent event ")
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "triage rejected the event" in lines[0] and "MalformedFinding" in lines[0]
    assert "detail.severity" in lines[0] and "detail.resource" in lines[0]

    sandbox.cli("incidents", "reject", incident_id, "--as", "cleanup")


def test_send_reports_each_finding_of_a_security_hub_event(sandbox, tmp_path):
    from responder_cli import samples

    first, second = (sandbox.cli("sandbox", "victim", "ec2").stdout.strip() for _ in range(2))
    asff = [
        samples.asff_from_guardduty(samples.sample("Backdoor:EC2/C&CActivity.B", instance_id))
        for instance_id in (first, second)
    ]
    event = tmp_path / "hub.json"
    event.write_text(json.dumps(samples.securityhub_event(asff)))
    lines = sandbox.cli("findings", "send", str(event)).stdout.splitlines()
    assert lines[0].startswith("sent event ") and len(lines) == 3, lines
    incidents = [line.split()[1] for line in lines[1:]]
    assert all(
        re.fullmatch(r"incident inc-\S+ PENDING_APPROVAL: rule ec2-high-approve: approve", ln) for ln in lines[1:]
    )
    shown = {json.loads(sandbox.cli("incidents", "show", i, "--json").stdout)["resource"]["id"] for i in incidents}
    assert shown == {first, second}
    for incident_id in incidents:
        sandbox.cli("incidents", "reject", incident_id, "--as", "cleanup")
