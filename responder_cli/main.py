"""`responder`: operate the containment responder, against AWS or the embedded sandbox.

Uses boto3's normal configuration (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL) or --profile, --region,
--endpoint-url. Resource names come from the stack's outputs. Errors are one line and a non-zero exit.
The global options (--endpoint-url, --region, --profile, --stack-name, --json) go before or after the
subcommand; given in both places, the one after the subcommand wins.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlparse

import boto3
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from responder.adapters.incidents import IncidentNotFound, IncidentStore
from responder.adapters.messaging import WorkflowCallbacks
from responder.domain import safe_text
from responder.domain.approval import LinkError
from responder.domain.safe_text import one_line
from responder.domain.workflow import Decider, StepError, apply_decision
from responder.models.incident import RESTORABLE_STATUSES, Status
from responder_cli import output, samples


class CliError(Exception):
    """One clear line for the user; exit status 1 (or `code`)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Ctx:
    args: argparse.Namespace
    session: boto3.Session
    endpoint_url: str | None
    _outputs: dict[str, str] | None = None

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    @property
    def outputs(self) -> dict[str, str]:
        if self._outputs is None:
            name = self.args.stack_name
            try:
                stacks = self.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
            except ClientError as exc:
                if "does not exist" in str(exc):
                    raise CliError(
                        f"no stack named {name} found{self._where()}; deploy it or pass --stack-name"
                    ) from None
                raise
            self._outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        return self._outputs

    @property
    def is_local(self) -> bool:
        """Whether the endpoint is a loopback address (the sandbox): anything else may be a real account."""
        return is_loopback(self.endpoint_url)

    def announce(self, action: str) -> None:
        """Before a command changes anything outside the sandbox: say on stderr which account and region."""
        if self.is_local:
            return
        identity = self.client("sts").get_caller_identity()
        via = f" at {self.endpoint_url}" if self.endpoint_url else ""
        print(
            f"responder: {action} in account {identity['Account']}, region {self.session.region_name}{via} "
            f"(as {identity['Arn']})",
            file=sys.stderr,
            flush=True,
        )

    def _where(self) -> str:
        return f" at {self.endpoint_url}" if self.endpoint_url else f" in {self.session.region_name}"

    def store(self) -> IncidentStore:
        return IncidentStore(self.outputs["IncidentsTable"], self.client("dynamodb"))


def is_loopback(endpoint: str | None) -> bool:
    if not endpoint:
        return False
    host = urlparse(endpoint).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _session(args: argparse.Namespace) -> tuple[boto3.Session, str | None]:
    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    kwargs: dict[str, Any] = {}
    if args.profile:
        kwargs["profile_name"] = args.profile
    if args.region:
        kwargs["region_name"] = args.region
    session = boto3.Session(**kwargs)
    if session.region_name is None:
        session = boto3.Session(**{**kwargs, "region_name": "us-east-1"})
    if is_loopback(endpoint) and session.get_credentials() is None:
        # The sandbox accepts any credentials; spare the user from configuring fake ones.
        session = boto3.Session(
            aws_access_key_id="sandbox",
            aws_secret_access_key="sandbox",  # noqa: S106 - the emulator accepts any key
            region_name=session.region_name,
        )
    return session, endpoint


def _print(ctx: Ctx, value: Any, text: str) -> None:
    print(output.dump(value) if ctx.args.json else text)


# -- findings -------------------------------------------------------------------------------------
def cmd_findings_send(ctx: Ctx) -> None:
    raw = sys.stdin.read() if ctx.args.file == "-" else _read(ctx.args.file)
    try:
        event = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CliError(f"{ctx.args.file} is not JSON: {exc}") from None
    if not isinstance(event, dict) or not all(k in event for k in ("source", "detail-type", "detail")):
        raise CliError(f"{ctx.args.file} is not a whole EventBridge event (source, detail-type, detail)")
    ctx.announce("sending a finding")
    sfn = ctx.client("stepfunctions")
    deadline = time.monotonic() + ctx.args.timeout
    if ctx.args.direct:
        arn = ctx.outputs["ContainmentStateMachine"]
        execution = sfn.start_execution(
            stateMachineArn=arn, name=f"direct-{uuid.uuid4().hex[:24]}", input=json.dumps(event)
        )["executionArn"]
        if not ctx.args.wait:
            _print(ctx, {"execution_arn": execution}, f"started {execution}")
            return
        if not ctx.args.json:
            print(f"started {execution}", flush=True)
        _report_triage(ctx, {}, [execution], deadline)
        return
    entry = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
        "Resources": event.get("resources", []),
    }
    resp = ctx.client("events").put_events(Entries=[entry])
    if resp.get("FailedEntryCount"):
        failed = resp["Entries"][0]
        hint = " (aws.* sources are reserved on AWS: use --direct)" if event["source"].startswith("aws.") else ""
        raise CliError(f"EventBridge refused the event: {failed.get('ErrorCode')} {failed.get('ErrorMessage')}{hint}")
    event_id = resp["Entries"][0]["EventId"]
    if not ctx.args.wait:
        _print(ctx, {"event_id": event_id}, f"sent event {event_id}")
        return
    if not ctx.args.json:
        print(f"sent event {event_id}", flush=True)
    findings = event["detail"].get("findings") if isinstance(event["detail"], dict) else None
    expected = len(findings) if isinstance(findings, list) and findings else 1
    executions = _executions_for_event(ctx, sfn, event_id, expected, deadline)
    _report_triage(ctx, {"event_id": event_id}, executions, deadline)


# Once one execution of a Security Hub event is found, how long to wait for the rest: the intake function
# starts one per finding, and drops untrusted findings and passed checks without a word.
SIBLING_GRACE = 5.0


def _executions_for_event(ctx: Ctx, sfn: Any, event_id: str, expected: int, deadline: float) -> list[str]:
    """The containment executions started for this event: EventBridge's (GuardDuty) or the intake
    function's, one per Security Hub finding. Their input is the event, `id` and all (a further bucket's
    execution carries `responder-target` too and is not one of them)."""
    machine = ctx.outputs["ContainmentStateMachine"]
    seen: set[str] = set()
    found: list[str] = []
    grace: float | None = None
    while True:
        for listed in sfn.list_executions(stateMachineArn=machine, maxResults=100)["executions"]:
            arn = listed["executionArn"]
            if arn in seen:
                continue
            seen.add(arn)
            try:
                execution_input = json.loads(sfn.describe_execution(executionArn=arn).get("input") or "{}")
            except json.JSONDecodeError:
                continue
            if (
                isinstance(execution_input, dict)
                and execution_input.get("id") == event_id
                and "responder-target" not in execution_input
            ):
                found.append(str(arn))
        now = time.monotonic()
        if len(found) >= expected:
            return sorted(found)
        if found and grace is None:
            grace = now + SIBLING_GRACE
        if (grace is not None and now > grace) or now > deadline:
            if found:
                return sorted(found)
            raise CliError(
                f"sent event {event_id}, but no containment execution started for it within {ctx.args.timeout}s "
                "(does a rule of the stack match it? Security Hub findings that are not trusted or passed a check "
                "are dropped)"
            )
        time.sleep(0.5)


def _triage_exit(sfn: Any, execution: str) -> dict[str, Any] | None:
    """Triage's output ({incident_id, outcome}) once the execution has left the Triage state."""
    kwargs: dict[str, Any] = {"executionArn": execution, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        for event in page["events"]:
            details = event.get("stateExitedEventDetails") or {}
            if event.get("type") == "TaskStateExited" and details.get("name") == "Triage":
                out = json.loads(details.get("output") or "{}")
                return out if isinstance(out, dict) else None
        if not page.get("nextToken"):
            return None
        kwargs["nextToken"] = page["nextToken"]


def _rejection(desc: dict[str, Any]) -> str:
    """The error the execution failed with: a Lambda error's type and message when the cause is one."""
    error, cause = desc.get("error") or "", desc.get("cause") or ""
    try:
        parsed = json.loads(cause)
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        return f"{parsed.get('errorType') or error}: {parsed['errorMessage']}"
    return f"{error}: {cause}" if cause else error or "failed"


# Statuses an execution passes through on its way to one a person should see.
TRANSIENT = (Status.NEW, Status.CONTAINING)


def _report_triage(ctx: Ctx, doc: dict[str, Any], executions: list[str], deadline: float) -> None:
    """Say what became of each finding (a Security Hub event may carry several): its incident and status,
    why it was skipped or absorbed, or why triage rejected it (exit 1)."""
    verdicts = [_verdict(ctx, execution, deadline) for execution in executions]
    docs = [{**doc, **v} for v, _ in verdicts]
    if ctx.args.json:
        print(output.dump(docs[0] if len(docs) == 1 else docs))
    else:
        for _, text in verdicts:
            if text:
                print(text)
    rejected = [v for v, _ in verdicts if v["outcome"] == "rejected"]
    if rejected:
        raise CliError(f"triage rejected the event ({rejected[0]['status']}): {rejected[0]['reason']}")


def _verdict(ctx: Ctx, execution: str, deadline: float) -> tuple[dict[str, Any], str]:
    """Wait for the execution to get past triage: (what became of its finding, the line that says so; empty
    for a rejection, which is the error line)."""
    sfn = ctx.client("stepfunctions")
    while True:
        desc = sfn.describe_execution(executionArn=execution)
        verdict = _triage_exit(sfn, execution)
        if verdict is not None or desc["status"] != "RUNNING":
            break
        if time.monotonic() > deadline:
            raise CliError(f"triage has not finished after {ctx.args.timeout}s: {execution}")
        time.sleep(0.3)
    if verdict is None or "incident_id" not in verdict:
        # Triage raised (MalformedFinding: the event names what is wrong); its catch passes the error on.
        error = (verdict or {}).get("error")
        if isinstance(error, dict):
            desc = {"status": "FAILED", "error": error.get("Error"), "cause": error.get("Cause")}
        doc = {"execution_arn": execution, "outcome": "rejected", "status": desc["status"], "reason": _rejection(desc)}
        return doc, ""
    incident_id, outcome = str(verdict.get("incident_id")), str(verdict.get("outcome"))
    incident = _incident(ctx, incident_id)
    if outcome == "new":
        # Past triage, the status a person acts on comes a few states later (PENDING_APPROVAL, CONTAINED...).
        while incident.status in TRANSIENT and time.monotonic() < deadline:
            if sfn.describe_execution(executionArn=execution)["status"] != "RUNNING":
                incident = _incident(ctx, incident_id)
                break
            time.sleep(0.3)
            incident = _incident(ctx, incident_id)
    reason = output.triage_reason(outcome, incident)
    text = f"incident {incident.incident_id} {incident.status.value}" + (f": {reason}" if reason else "")
    if outcome == "absorbed":
        text = f"absorbed into incident {incident.incident_id} {incident.status.value}: {reason}"
    doc = {"execution_arn": execution, "outcome": outcome, "incident": output.incident_json(incident), "reason": reason}
    return doc, text


def cmd_findings_sample(ctx: Ctx) -> None:
    if ctx.args.type not in samples.sample_types():
        raise CliError(f"no sample for {ctx.args.type}; choose one of: {', '.join(samples.sample_types())}")
    try:
        event = samples.sample(
            ctx.args.type, ctx.args.resource, account=ctx.args.account, region=ctx.session.region_name or "us-east-1",
            severity=ctx.args.severity, access_key_id=ctx.args.access_key,
        )  # fmt: skip
    except ValueError as exc:
        raise CliError(str(exc), code=2) from None
    print(json.dumps(event, indent=2))


# -- incidents ------------------------------------------------------------------------------------
def cmd_incidents_list(ctx: Ctx) -> None:
    incidents = ctx.store().list(status=ctx.args.status)
    rows = [
        [i.incident_id, i.status.value, f"{i.resource.type.value} {i.resource.id}", i.resource.account, i.resource.region,
         i.top_finding().type, i.created_at.strftime("%Y-%m-%d %H:%M:%S")]
        for i in incidents
    ]  # fmt: skip
    _print(
        ctx,
        [output.incident_json(i) for i in incidents],
        output.table(["incident", "status", "resource", "account", "region", "finding", "created"], rows)
        if rows
        else "no incidents",
    )


def _incident(ctx: Ctx, incident_id: str) -> Any:
    try:
        return ctx.store().get(incident_id)
    except IncidentNotFound:
        raise CliError(f"unknown incident {incident_id}") from None


def cmd_incidents_show(ctx: Ctx) -> None:
    incident = _incident(ctx, ctx.args.incident_id)
    _print(ctx, output.incident_json(incident), output.show_incident(incident))


def cmd_incidents_decide(ctx: Ctx, decision: str) -> None:
    ctx.announce(f"{'approving' if decision == 'approve' else 'rejecting'} {ctx.args.incident_id}")
    incident = _incident(ctx, ctx.args.incident_id)
    if incident.status is not Status.PENDING_APPROVAL or incident.approval is None:
        raise CliError(f"incident {incident.incident_id} is {incident.status.value}, not PENDING_APPROVAL")
    name = " ".join(ctx.args.as_name.split())
    if not name or len(name) > 100 or safe_text.has_hidden(name):
        raise CliError("--as needs your name (1-100 printable characters)")
    who = Decider(name=name, user_agent=f"responder-cli/{os.environ.get('USER', '?')}", via="cli")
    try:
        updated = apply_decision(
            ctx.store(),
            WorkflowCallbacks(ctx.client("stepfunctions")),
            incident.approval.approval_id,
            decision,  # type: ignore[arg-type]
            who,
        )
    except (LinkError, StepError) as exc:
        raise CliError(str(exc)) from None
    verb = "approved" if decision == "approve" else "rejected"
    if ctx.args.wait:
        # Approved, the execution contains and verifies: wait for its outcome (CONTAINED or FAILED).
        deadline = time.monotonic() + ctx.args.timeout
        while updated.status in (Status.PENDING_APPROVAL, Status.CONTAINING) and time.monotonic() < deadline:
            time.sleep(0.3)
            updated = ctx.store().get(updated.incident_id)
        if updated.status in (Status.PENDING_APPROVAL, Status.CONTAINING):
            raise CliError(f"{updated.incident_id} {verb}, still {updated.status.value} after {ctx.args.timeout}s")
        if updated.status is Status.FAILED:
            raise CliError(f"{updated.incident_id} {verb}; containment FAILED: {updated.error}")
    _print(ctx, output.incident_json(updated), f"{updated.incident_id} {verb} by {name}; status {updated.status.value}")


# -- restore --------------------------------------------------------------------------------------
def cmd_restore(ctx: Ctx) -> None:
    ctx.announce(f"restoring {ctx.args.incident_id}")
    incident = _incident(ctx, ctx.args.incident_id)
    if incident.status is not Status.RESTORED and incident.status not in RESTORABLE_STATUSES:
        raise CliError(
            f"incident {incident.incident_id} is {incident.status.value}; only CONTAINED or FAILED incidents can be restored"
        )
    sfn = ctx.client("stepfunctions")
    options: dict[str, Any] = {
        "incident_id": incident.incident_id,
        "reactivate_keys": ctx.args.reactivate_keys,
        "lift_session_revocation": ctx.args.lift_session_revocation,
    }
    execution = sfn.start_execution(
        stateMachineArn=ctx.outputs["RestoreStateMachine"],
        name=f"restore-{uuid.uuid4().hex[:24]}",
        input=json.dumps(options),
    )["executionArn"]
    if not ctx.args.wait:
        _print(ctx, {"execution_arn": execution, "incident_id": incident.incident_id}, f"restore started: {execution}")
        return
    deadline = time.monotonic() + ctx.args.timeout
    while True:
        desc = sfn.describe_execution(executionArn=execution)
        if desc["status"] != "RUNNING":
            break
        if time.monotonic() > deadline:
            raise CliError(f"restore still running after {ctx.args.timeout}s: {execution}")
        time.sleep(0.25)
    final = ctx.store().get(incident.incident_id)
    if desc["status"] != "SUCCEEDED":
        raise CliError(f"restore {desc['status']}: {desc.get('cause') or desc.get('error') or final.error}")
    _print(
        ctx,
        output.incident_json(final),
        output.restored(final),
    )


# -- preferences ----------------------------------------------------------------------------------
def _prefs_store(ctx: Ctx) -> Any:
    from responder.adapters.preferences import PreferenceStore

    return PreferenceStore(ctx.outputs["PreferencesTable"], ctx.client("dynamodb"))


def cmd_prefs(ctx: Ctx) -> None:
    from responder.domain.preferences import InvalidPreferences
    from responder_cli import prefs

    action = ctx.args.cmd
    try:
        if action == "validate":
            rules = prefs.load_rules(ctx.args.file)
            for warning in prefs.shadowing(rules):
                print(f"responder: warning: {warning}", file=sys.stderr)
            _print(ctx, {"valid": True, "rules": [r.id for r in rules]}, f"{ctx.args.file}: {len(rules)} valid rule(s)")
            return
        if action == "explain":
            rules = _prefs_store(ctx).all() if ctx.args.rules is None else prefs.load_rules(ctx.args.rules)
            doc, text = prefs.explain_text(rules, prefs.facts_for_event(ctx.args.file))
            _print(ctx, doc, text)
            return
        if action == "import":
            # Read and check the file before anything is sent: an empty set would delete every stored rule.
            rules = prefs.load_rules(ctx.args.file)
            if not rules and not ctx.args.allow_empty:
                raise CliError(
                    f"{ctx.args.file} holds no rules: importing it would delete every stored rule (every finding "
                    "would get the built-in default, approve); pass --allow-empty to do that",
                    code=2,
                )
            for warning in prefs.shadowing(rules):
                print(f"responder: warning: {warning}", file=sys.stderr)
            ctx.announce(f"replacing the stored preferences with {len(rules)} rule(s)")
            store = _prefs_store(ctx)
            store.replace_all(rules)
            _print(
                ctx,
                {"imported": [r.id for r in rules]},
                f"imported {len(rules)} rule(s); the stored set is now exactly {ctx.args.file}",
            )
            return
        rule = None
        if action == "put":
            rule = prefs.load_rule(ctx.args.file)
            ctx.announce(f"storing rule {rule.id}")
        elif action == "delete":
            ctx.announce(f"deleting rule {ctx.args.rule_id}")
        store = _prefs_store(ctx)
        if action == "list":
            rules = sorted(store.all(), key=lambda r: (r.priority, r.id))
            rows = [
                [r.priority, r.id, r.mode.value + (" (dry run)" if r.dry_run else ""), ",".join(t.value for t in r.match.resource_types) or "*",
                 ",".join(r.match.finding_types), f"{r.match.min_severity}-{r.match.max_severity}", r.on_timeout.value]
                for r in rules
            ]  # fmt: skip
            _print(
                ctx,
                [r.model_dump(mode="json") for r in rules],
                output.table(["priority", "id", "mode", "resources", "finding types", "severity", "on timeout"], rows)
                if rows
                else "no stored rules: every finding gets the built-in default (approve)",
            )
        elif action == "show":
            rule = store.get(ctx.args.rule_id)
            if rule is None:
                raise CliError(f"unknown rule {ctx.args.rule_id}")
            _print(ctx, rule.model_dump(mode="json"), prefs.dump_rules([rule], "yaml").rstrip())
        elif action == "put":
            assert rule is not None
            store.put(rule)
            _print(ctx, rule.model_dump(mode="json"), f"stored rule {rule.id}")
        elif action == "delete":
            if not store.delete(ctx.args.rule_id):
                raise CliError(f"unknown rule {ctx.args.rule_id}")
            _print(ctx, {"deleted": ctx.args.rule_id}, f"deleted rule {ctx.args.rule_id}")
        elif action == "export":
            print(prefs.dump_rules(store.all(), "json" if ctx.args.json else ctx.args.format).rstrip())
    except InvalidPreferences as exc:
        raise CliError(str(exc)) from None
    except BrokenPipeError:
        raise
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot read {getattr(exc, 'filename', '')}: {exc.strerror}") from None


# -- sandbox --------------------------------------------------------------------------------------
def cmd_sandbox_up(ctx: Ctx) -> None:
    import signal
    import threading

    from responder_cli.sandbox.sandbox import PortInUse, Sandbox, check_ports

    ports = {"--port": ctx.args.port, "--approvals-port": ctx.args.approvals_port}
    try:
        # Before any slow work: a busy port is a one-line error, not a hang.
        check_ports(ports)
    except PortInUse as exc:
        raise CliError(str(exc), code=2) from None
    sandbox = Sandbox(port=ctx.args.port, approvals_port=ctx.args.approvals_port, keep=ctx.args.keep)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"sandbox folder {sandbox.workdir} ({'kept' if ctx.args.keep else 'removed'} on exit)", flush=True)
    try:
        sandbox.start()
    except PortInUse as exc:
        sandbox.stop()
        raise CliError(str(exc), code=2) from None
    except OSError as exc:
        sandbox.stop()
        raise CliError(f"cannot start the sandbox: {exc}") from None
    print(f"sandbox ready: AWS endpoint {sandbox.endpoint}, approvals {sandbox.approvals_url}", flush=True)
    print(f"export AWS_ENDPOINT_URL={sandbox.endpoint}   # paste into another shell to use the sandbox", flush=True)
    try:
        stop.wait()
    finally:
        print("sandbox stopping", flush=True)
        sandbox.stop()


def cmd_sandbox_demo(ctx: Ctx) -> None:
    from responder_cli.sandbox.demo import run_demo

    if ctx.args.accounts not in (1, 2):
        raise CliError("--accounts takes 1 or 2")
    if not run_demo(port=ctx.args.port, interactive=ctx.args.interactive, accounts=ctx.args.accounts):
        raise CliError("the demo did not verify every step")


def cmd_sandbox_victim(ctx: Ctx) -> None:
    from responder_cli.sandbox import victims

    if not ctx.is_local:
        raise CliError(
            "`sandbox victim` creates resources, so it runs only against the sandbox: set AWS_ENDPOINT_URL "
            "(or --endpoint-url) to its 127.0.0.1 endpoint",
            code=2,
        )
    tag = uuid.uuid4().hex[:4]
    doc: dict[str, Any]
    if ctx.args.kind == "ec2":
        ec2 = ctx.client("ec2")
        victim = victims.make_instance(ec2, enis=2, tags={"Name": f"web-{tag}", "team": "shop"})
        ec2.create_tags(Resources=[victim.vpc_id], Tags=[{"Key": "Name", "Value": f"shop-vpc-{tag}"}])
        doc = {"kind": "ec2", "instance_id": victim.instance_id, "vpc_id": victim.vpc_id, "enis": victim.enis}
        text = victim.instance_id
    elif ctx.args.kind == "iam-user":
        user = victims.make_iam_user(ctx.client("iam"))
        doc = {"kind": "iam-user", "user_name": user.user_name, "access_key_id": user.access_key_id,
               "policy": user.policy_name}  # fmt: skip
        text = f"{user.user_name} {user.access_key_id}"
    else:
        account = ctx.client("sts").get_caller_identity()["Account"]
        bucket = victims.make_bucket(ctx.client("s3"), account)
        doc = {"kind": "bucket", "bucket": bucket}
        text = bucket
    _print(ctx, doc, text)


def cmd_sandbox_outbox(ctx: Ctx) -> None:
    import urllib.request

    from responder_cli.sandbox.sandbox import state_file

    port = urlparse(ctx.endpoint_url or "http://127.0.0.1:4566").port or 4566
    path = state_file(port)
    if not path.exists():
        raise CliError(f"no sandbox is running on port {port} (start one with: responder sandbox up)")
    approvals = json.loads(path.read_text())["approvals"]
    base = approvals.rsplit("/v1/", 1)[0]
    try:
        with urllib.request.urlopen(f"{base}/_sandbox/outbox", timeout=10) as resp:  # noqa: S310 - localhost
            messages = json.loads(resp.read())
    except OSError as exc:
        raise CliError(f"sandbox unreachable at {base}: {exc}") from None
    if ctx.args.json:
        print(output.dump(messages))
        return
    print_outbox(messages)


def print_outbox(messages: list[dict[str, Any]]) -> None:
    """The captured emails, each line of each shown with its control and bidi characters escaped."""
    if not messages:
        print("outbox is empty")
    for m in messages:
        print(f"Subject: {one_line(m.get('subject'), None)}\n\n{safe_text.lines(str(m.get('body', '')))}\n" + "-" * 72)


# -- wiring ---------------------------------------------------------------------------------------
def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


GLOBAL_DEFAULTS: dict[str, Any] = {
    "endpoint_url": None,
    "region": None,
    "profile": None,
    "stack_name": "ContainmentResponder",
    "json": False,
}


def _global_options(defaults: bool) -> argparse.ArgumentParser:
    """The options every command takes. Only the top-level parser has defaults: a subcommand's parser sets
    an option only when it is given after the subcommand, so one given before it is never overwritten."""

    def default(name: str) -> Any:
        return GLOBAL_DEFAULTS[name] if defaults else argparse.SUPPRESS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--endpoint-url", default=default("endpoint_url"), help="AWS endpoint (default: AWS_ENDPOINT_URL, else AWS)"
    )
    common.add_argument("--region", default=default("region"), help="AWS region (default: boto3 configuration)")
    common.add_argument("--profile", default=default("profile"), help="AWS profile (default: boto3 configuration)")
    common.add_argument(
        "--stack-name", default=default("stack_name"), help="the responder's stack (default: ContainmentResponder)"
    )
    common.add_argument("--json", action="store_true", default=default("json"), help="machine-readable output")
    return common


def _status(value: str) -> Status:
    """--status in any case, with - or _ (pending-approval, Pending_Approval)."""
    try:
        return Status(value.strip().upper().replace("-", "_"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown status {value!r}; one of {', '.join(s.value for s in Status)}"
        ) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="responder", description=__doc__, parents=[_global_options(defaults=True)])
    common = _global_options(defaults=False)
    sub = p.add_subparsers(dest="group", required=True)

    findings = sub.add_parser("findings", help="send or generate findings", parents=[common]).add_subparsers(
        dest="cmd", required=True
    )
    send = findings.add_parser("send", help="put a whole EventBridge event on the default bus", parents=[common])
    send.add_argument("file", help="JSON file with the event, or - for stdin")
    send.add_argument("--direct", action="store_true", help="start the containment workflow with the event instead")
    send.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="do not wait for triage's verdict (the incident and its status, or why the finding was not taken)",
    )
    send.add_argument("--timeout", type=int, default=90, help="seconds to wait for triage's verdict (default 90)")
    send.set_defaults(func=cmd_findings_send)
    sample = findings.add_parser("sample", help="print a realistic event for a finding type", parents=[common])
    sample.add_argument("type", help=f"one of: {', '.join(samples.sample_types())}")
    sample.add_argument("--resource", help="the instance id, user, role or bucket the finding is about")
    sample.add_argument("--account", default="123456789012", help="12 digits (default 123456789012)")
    sample.add_argument(
        "--severity", type=float, help="0-10 (default: the type's usual one; EC2 C&C and mining: 8.0, high)"
    )
    sample.add_argument("--access-key", help="the access key id an IAM or S3 finding names")
    sample.set_defaults(func=cmd_findings_sample)

    incidents = sub.add_parser("incidents", help="list, show and decide incidents", parents=[common]).add_subparsers(
        dest="cmd", required=True
    )
    lst = incidents.add_parser("list", help="list incidents", parents=[common])
    lst.add_argument("--status", type=_status, help="any case: pending_approval, CONTAINED, ...")
    lst.set_defaults(func=cmd_incidents_list)
    show = incidents.add_parser("show", help="one incident in full", parents=[common])
    show.add_argument("incident_id")
    show.set_defaults(func=cmd_incidents_show)
    for verb in ("approve", "reject"):
        d = incidents.add_parser(verb, help=f"{verb} a pending incident", parents=[common])
        d.add_argument("incident_id")
        d.add_argument("--as", dest="as_name", required=True, help="your name, recorded with the decision")
        d.add_argument("--wait", action="store_true", help="wait for the outcome (CONTAINED, or FAILED: exit 1)")
        d.add_argument("--timeout", type=int, default=300, help="seconds --wait waits (default 300)")
        d.set_defaults(func=lambda ctx, v=verb: cmd_incidents_decide(ctx, v))

    prefs_cmd = sub.add_parser("prefs", help="containment preferences", parents=[common]).add_subparsers(
        dest="cmd", required=True
    )
    prefs_cmd.add_parser("list", help="the stored rules, in evaluation order", parents=[common]).set_defaults(
        func=cmd_prefs
    )
    for name, helptext, arg in (
        ("show", "one rule", "rule_id"),
        ("delete", "delete one rule", "rule_id"),
        ("put", "store one rule from a YAML or JSON file", "file"),
        ("validate", "check a rules file without storing it", "file"),
        ("import", "replace the whole stored set with a rules file, atomically", "file"),
    ):
        cmd = prefs_cmd.add_parser(name, help=helptext, parents=[common])
        cmd.add_argument(arg)
        cmd.set_defaults(func=cmd_prefs)
        if name == "import":
            cmd.add_argument("--allow-empty", action="store_true", help="let an empty file delete every stored rule")
    export = prefs_cmd.add_parser("export", help="print the stored rules as YAML (or --json)", parents=[common])
    export.add_argument("--format", choices=["yaml", "json"], default="yaml")
    export.set_defaults(func=cmd_prefs)
    explain = prefs_cmd.add_parser("explain", help="which rule a finding event would match, and why", parents=[common])
    explain.add_argument("file", help="a GuardDuty event (JSON)")
    explain.add_argument("--rules", help="explain against this rules file instead of the stored rules")
    explain.set_defaults(func=cmd_prefs)

    restore = sub.add_parser("restore", help="start restoring an incident", parents=[common])
    restore.add_argument("incident_id")
    restore.add_argument("--wait", action="store_true", help="wait until RESTORED (or failed)")
    restore.add_argument(
        "--reactivate-keys", action="store_true", help="reactivate access keys the incident deactivated"
    )
    restore.add_argument(
        "--lift-session-revocation",
        action="store_true",
        help="remove the revocation of sessions issued before containment",
    )
    restore.add_argument("--timeout", type=int, default=600)
    restore.set_defaults(func=cmd_restore)

    sandbox = sub.add_parser("sandbox", help="the embedded sandbox", parents=[common]).add_subparsers(
        dest="cmd", required=True
    )
    up = sandbox.add_parser("up", help="run the sandbox in the foreground", parents=[common])
    up.add_argument("--port", type=int, default=4566)
    up.add_argument("--approvals-port", type=int, default=0)
    up.add_argument("--keep", action="store_true", help="keep the sandbox's temporary folder on exit")
    up.set_defaults(func=cmd_sandbox_up)
    demo = sandbox.add_parser("demo", help="the whole job, end to end, scripted", parents=[common])
    demo.add_argument("--port", type=int, default=4566)
    demo.add_argument("--interactive", action="store_true", help="stop at the email and wait for a click")
    demo.add_argument(
        "--accounts", type=int, default=1, help="2: also contain and restore an instance in a second account and region"
    )
    demo.set_defaults(func=cmd_sandbox_demo)
    victim = sandbox.add_parser(
        "victim", help="create a realistic victim in the running sandbox and print its id", parents=[common]
    )
    victim.add_argument(
        "kind",
        nargs="?",
        default="ec2",
        choices=["ec2", "iam-user", "bucket"],
        help="ec2: an instance with 2 ENIs (prints its id); iam-user: a user with an access key and a policy "
        "(prints the user and the key id); bucket: a bucket with a policy (prints its name)",
    )
    victim.set_defaults(func=cmd_sandbox_victim)
    outbox = sandbox.add_parser("outbox", help="the captured emails", parents=[common])
    outbox.set_defaults(func=cmd_sandbox_outbox)
    return p


def fail(message: str, code: int = 1) -> NoReturn:
    # The message can quote an incident's data or an AWS error that does: one line, controls escaped.
    print(f"responder: error: {one_line(message, 4000)}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    try:
        _main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`responder ... | head -1`): stop quietly, as a command killed by SIGPIPE would.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)


def _main(argv: list[str] | None) -> None:
    args = parser().parse_args(argv)
    session, endpoint = _session(args)
    ctx = Ctx(args=args, session=session, endpoint_url=endpoint)
    try:
        args.func(ctx)
    except CliError as exc:
        fail(str(exc), exc.code)
    except EndpointConnectionError as exc:
        fail(f"endpoint unreachable: {exc.kwargs.get('endpoint_url', endpoint)}")
    except NoCredentialsError:
        fail("no AWS credentials found (set AWS_PROFILE or run aws configure)")
    except ClientError as exc:
        fail(f"AWS said {exc.response['Error'].get('Code')}: {exc.response['Error'].get('Message')}")
    except BotoCoreError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", 130)


if __name__ == "__main__":
    main()
