"""`responder sandbox demo`: the whole job, end to end, in the sandbox, verified at every step."""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.parse
import urllib.request
from typing import Any

import boto3

from responder_cli.samples import ec2_finding
from responder_cli.sandbox.accounts import emulator_account_session
from responder_cli.sandbox.sandbox import Sandbox

FINDING = "Backdoor:EC2/C&CActivity.B"
AMI = "ami-12c6146b"


class Demo:
    def __init__(self) -> None:
        self.start = time.monotonic()
        self.ok = True
        self.step_no = 0

    def step(self, title: str) -> None:
        self.step_no += 1
        print(f"\n[{time.monotonic() - self.start:6.1f}s] Step {self.step_no}: {title}", flush=True)

    def check(self, condition: bool, what: str) -> bool:
        print(f"          {'ok  ' if condition else 'FAIL'} {what}", flush=True)
        self.ok = self.ok and condition
        return condition


def _victim(session: boto3.Session) -> dict[str, Any]:
    ec2 = session.client("ec2")
    autoscaling = session.client("autoscaling")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]

    def group(name: str, port: int) -> str:
        gid = ec2.create_security_group(GroupName=name, Description=f"demo {name}", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=gid,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
            ],
        )
        return gid

    web = [group("web-https", 443), group("web-ssh", 22)]
    app = [group("app-api", 8080), group("app-metrics", 9100)]
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="demo-web", ImageId=AMI, InstanceType="t3.micro", SecurityGroups=web
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="demo-web",
        LaunchConfigurationName="demo-web",
        MinSize=1,
        MaxSize=4,
        DesiredCapacity=2,
        VPCZoneIdentifier=subnet,
    )
    instance_id = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["demo-web"])["AutoScalingGroups"][0][
        "Instances"
    ][0]["InstanceId"]
    eni = ec2.create_network_interface(SubnetId=subnet, Groups=app, Description="app interface")["NetworkInterface"][
        "NetworkInterfaceId"
    ]
    ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=instance_id, DeviceIndex=1)
    return {"instance_id": instance_id, "vpc": vpc}


def _state(session: boto3.Session, instance_id: str) -> dict[str, str]:
    ec2 = session.client("ec2")
    inst = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    names = {g["GroupId"]: g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    state: dict[str, str] = {}
    for e in sorted(inst["NetworkInterfaces"], key=lambda e: e["Attachment"]["DeviceIndex"]):
        groups = sorted(names.get(g["GroupId"], g["GroupId"]) for g in e["Groups"])
        state[f"{e['NetworkInterfaceId']} groups"] = ", ".join(groups)
    for attr in ("disableApiTermination", "disableApiStop"):
        value: dict[str, Any] = dict(ec2.describe_instance_attribute(InstanceId=instance_id, Attribute=attr))
        state[attr] = str(value[attr[0].upper() + attr[1:]]["Value"]).lower()
    member = session.client("autoscaling").describe_auto_scaling_instances(InstanceIds=[instance_id])[
        "AutoScalingInstances"
    ]
    state["auto scaling state"] = member[0]["LifecycleState"] if member else "not in a group"
    return state


def _diff(before: dict[str, str], after: dict[str, str]) -> list[str]:
    lines = []
    for key in before:
        if before[key] == after.get(key):
            lines.append(f"            {key}: {before[key]}")
        else:
            lines.append(f"          - {key}: {before[key]}")
            lines.append(f"          + {key}: {after.get(key)}")
    return lines


def _wait(predicate: Any, timeout: float, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def _incidents(session: boto3.Session, table: str) -> list[dict[str, Any]]:
    items = session.client("dynamodb").scan(
        TableName=table, FilterExpression="begins_with(pk, :p)", ExpressionAttributeValues={":p": {"S": "INCIDENT#"}}
    )["Items"]
    return [json.loads(i["doc"]["S"]) for i in items]


def _incident(session: boto3.Session, table: str) -> dict[str, Any] | None:
    found = _incidents(session, table)
    return found[0] if found else None


def _follow_approve_link(link: str, name: str) -> tuple[int, str]:
    """What a browser does: GET the page, then submit its form with the Approve button."""
    with urllib.request.urlopen(link, timeout=30) as resp:  # noqa: S310 - the sandbox's localhost URL
        page = resp.read().decode()
    fields = dict(re.findall(r'<input type=hidden name=(\w+) value="([^"]*)"', page))
    action = re.search(r'<form method=post action="([^"]+)"', page)
    if not action or "nonce" not in fields:
        return 0, page
    target = urllib.parse.urljoin(link, action.group(1))
    body = urllib.parse.urlencode({**fields, "name": name, "decision": "approve"}).encode()
    request = urllib.request.Request(  # noqa: S310 - the sandbox's localhost URL
        target, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


MEMBER_ACCOUNT = "222222222222"
MEMBER_REGION = "us-west-2"
EXTERNAL_ID = "sandbox-demo-external-id"


def _second_account(demo: Demo, sandbox: Sandbox, session: boto3.Session) -> bool:
    """One incident in a member account and another region, through the MemberRoleStack's role."""
    from infra.config import ResponderConfig
    from responder.adapters.preferences import PreferenceStore
    from responder.models.preferences import Mode, Rule, RuleMatch
    from responder_cli.sandbox.deploy import deploy_standalone

    assert sandbox.stack is not None and sandbox.assembly_dir is not None
    outputs = sandbox.stack.outputs
    stack_name = ResponderConfig().stack_name
    demo.step(f"a second account: deploy the MemberRoleStack in {MEMBER_ACCOUNT} (as a StackSet would)")
    member = emulator_account_session(MEMBER_ACCOUNT, MEMBER_REGION)
    deployed = deploy_standalone(
        member,
        sandbox.assembly_dir / f"{stack_name}MemberRole.template.json",
        f"{stack_name}MemberRole",
        {"SecurityAccountId": "123456789012", "ExternalId": EXTERNAL_ID},
    )
    demo.check(deployed.outputs.get("MemberRoleArn", "").startswith(f"arn:aws:iam::{MEMBER_ACCOUNT}:role/"),
               f"member role {deployed.outputs.get('MemberRoleArn')}")  # fmt: skip

    demo.step(f"a victim in {MEMBER_ACCOUNT} / {MEMBER_REGION}, and a preference: that account contains at once")
    ec2 = member.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.52.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.52.1.0/24", AvailabilityZone=f"{MEMBER_REGION}a")["Subnet"][
        "SubnetId"
    ]
    gid = ec2.create_security_group(GroupName="db-clients", Description="demo", VpcId=vpc)["GroupId"]
    iid = ec2.run_instances(
        ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1,
        NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [gid]}],
    )["Instances"][0]["InstanceId"]  # fmt: skip
    PreferenceStore(outputs["PreferencesTable"], session.client("dynamodb")).put(
        Rule(id="member-auto", priority=5, mode=Mode.AUTO, match=RuleMatch(accounts=[MEMBER_ACCOUNT]))
    )
    before = _state(member, iid)
    print("\n".join(f"            {k}: {v}" for k, v in before.items()))

    demo.step(f"inject a GuardDuty finding from {MEMBER_ACCOUNT} into the security account's bus")
    event = ec2_finding(FINDING, instance_id=iid, severity=8.0, account=MEMBER_ACCOUNT, region=MEMBER_REGION)
    session.client("events").put_events(
        Entries=[{"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"])}]
    )

    def incident() -> dict[str, Any] | None:
        found = [
            i for i in _incidents(session, outputs["IncidentsTable"]) if i["resource"]["account"] == MEMBER_ACCOUNT
        ]
        return found[0] if found else None

    contained = _wait(lambda: (i := incident()) and i["status"] in ("CONTAINED", "FAILED") and i, 120)
    if not demo.check(bool(contained) and contained["status"] == "CONTAINED",
                      f"incident {contained and contained['incident_id']} CONTAINED in {MEMBER_ACCOUNT}/{MEMBER_REGION}"):  # fmt: skip
        print(f"          error: {contained and contained.get('error')}")
        return False
    after = _state(member, iid)
    print("\n".join(_diff(before, after)))
    demo.check(all(v == "responder-isolation" for k, v in after.items() if k.endswith("groups")),
               "isolated in the member account, by the member role")  # fmt: skip

    demo.step("restore it: in the same account and region")
    done = _restore(session, outputs["RestoreStateMachine"], contained["incident_id"])
    final = incident()
    demo.check(done and final is not None and final["status"] == "RESTORED", "incident RESTORED")
    demo.check(_state(member, iid) == before, "restored state equals the pre-state")
    return True


def _restore(session: boto3.Session, state_machine: str, incident_id: str) -> bool:
    """Start a restore execution for the incident; whether it ended within two minutes."""
    sfn = session.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=state_machine, name=f"demo-restore-{incident_id[-8:]}-{int(time.time())}",
        input=json.dumps({"incident_id": incident_id}),
    )["executionArn"]  # fmt: skip
    return bool(_wait(lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING", 120))


def run_demo(port: int = 4566, interactive: bool = False, accounts: int = 1) -> bool:
    demo = Demo()
    demo.step("start the sandbox: emulator, synthesized stack deployed, real handlers")
    sandbox = Sandbox(port=port, context={"memberExternalId": EXTERNAL_ID} if accounts > 1 else None)
    try:
        sandbox.start()
    except OSError as exc:
        sandbox.stop()
        print(f"cannot start the sandbox on port {port}: {exc}", file=sys.stderr)
        return False
    try:
        assert sandbox.stack is not None
        outputs = sandbox.stack.outputs
        print(f"          sandbox ready: AWS endpoint {sandbox.endpoint}, approvals {sandbox.approvals_url}")
        demo.check(len(sandbox.stack.resources) > 50, f"stack deployed with {len(sandbox.stack.resources)} resources")
        session = boto3.Session(region_name=sandbox.region)

        demo.step("create a victim: VPC, instance in an Auto Scaling group, two ENIs with two groups each")
        victim = _victim(session)
        iid = victim["instance_id"]
        before = _state(session, iid)
        print("\n".join(f"            {k}: {v}" for k, v in before.items()))

        demo.step(f"inject a GuardDuty finding: {FINDING} on {iid}")
        event = ec2_finding(FINDING, instance_id=iid, severity=8.0)
        resp = session.client("events").put_events(
            Entries=[
                {"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"])}
            ]
        )
        demo.check(resp["FailedEntryCount"] == 0, "EventBridge accepted the event")

        demo.step("the approval email")
        mail = _wait(lambda: next((m for m in sandbox.outbox() if m.subject.startswith("[APPROVAL NEEDED]")), None), 60)
        if not demo.check(mail is not None, "approval email captured in the outbox"):
            return False
        print(
            f"\n          Subject: {mail.subject}\n"
            + "\n".join(f"          | {line}" for line in mail.body.splitlines())
        )
        links = mail.links()
        demo.check("approve" in links and "reject" in links, "email carries Approve and Reject links")
        demo.check("task" not in links["approve"].lower(), "no task token in the link")
        demo.check(before == _state(session, iid), "nothing changed before approval")

        if interactive:
            demo.step("open the Approve link in your browser, type your name and press Approve")
            print(f"          {links['approve']}")
            decided = _wait(
                lambda: (i := _incident(session, outputs["IncidentsTable"])) and i["status"] != "PENDING_APPROVAL",
                3600,
                1,
            )
            demo.check(bool(decided), "decision received")
        else:
            demo.step("follow the Approve link as a browser would: GET the confirm page, then POST the form")
            with urllib.request.urlopen(links["approve"], timeout=30) as resp:  # noqa: S310
                page = resp.read().decode()
            demo.check(resp.status == 200 and "Approve containment" in page, "GET shows the confirm page")
            incident = _incident(session, outputs["IncidentsTable"])
            demo.check(incident is not None and incident["status"] == "PENDING_APPROVAL", "GET decided nothing")
            status, page = _follow_approve_link(links["approve"], "Demo Operator")
            if not demo.check(status == 200 and "approved" in page, "POST approved containment"):
                print(f"          HTTP {status}: {re.sub(r'<[^>]+>', ' ', page)[-400:]}")
                return False

        demo.step("containment, verification, notification")
        contained = _wait(
            lambda: (
                (i := _incident(session, outputs["IncidentsTable"])) and i["status"] in ("CONTAINED", "FAILED") and i
            ),
            120,
        )
        if not demo.check(
            bool(contained) and contained["status"] == "CONTAINED",
            f"incident {contained and contained['incident_id']} CONTAINED",
        ):
            print(f"          error: {contained and contained.get('error')}")
            return False
        after = _state(session, iid)
        print("\n".join(_diff(before, after)))
        demo.check(
            all(v == "responder-isolation" for k, v in after.items() if k.endswith("groups")),
            "every ENI holds only the isolation group",
        )
        demo.check(after["auto scaling state"] == "Standby", "instance in Standby: the group will not replace it")
        demo.check(
            _wait(lambda: any(m.subject.startswith("[CONTAINED]") for m in sandbox.outbox()), 30) is True,
            "outcome email sent",
        )

        demo.step("restore the incident")
        done = _restore(session, outputs["RestoreStateMachine"], contained["incident_id"])
        final = _incident(session, outputs["IncidentsTable"])
        demo.check(done and final is not None and final["status"] == "RESTORED", "incident RESTORED")
        restored = _state(session, iid)
        print("\n".join(_diff(after, restored)))
        demo.check(restored == before, "restored state equals the pre-state, attribute by attribute")
        if accounts > 1:
            _second_account(demo, sandbox, session)
    finally:
        sandbox.stop()
    print(f"\n[{time.monotonic() - demo.start:6.1f}s] {'every step verified' if demo.ok else 'SOME STEPS FAILED'}")
    return demo.ok
