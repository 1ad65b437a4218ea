"""`responder`: operate the containment responder, against AWS or the embedded sandbox.

Uses boto3's normal configuration (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL) or --profile, --region,
--endpoint-url. Resource names come from the stack's outputs. Errors are one line and a non-zero exit.
The global options (--endpoint-url, --region, --profile, --stack-name, --json) go before or after the
subcommand; given in both places, the one after the subcommand wins.
"""

from __future__ import annotations

import argparse
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

    def _where(self) -> str:
        return f" at {self.endpoint_url}" if self.endpoint_url else f" in {self.session.region_name}"

    def store(self) -> IncidentStore:
        return IncidentStore(self.outputs["IncidentsTable"], self.client("dynamodb"))


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
    local = endpoint is not None and urlparse(endpoint).hostname in ("127.0.0.1", "localhost", "::1")
    if local and session.get_credentials() is None:
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
    if ctx.args.direct:
        arn = ctx.outputs["ContainmentStateMachine"]
        execution = ctx.client("stepfunctions").start_execution(
            stateMachineArn=arn, name=f"direct-{uuid.uuid4().hex[:24]}", input=json.dumps(event)
        )["executionArn"]
        _print(ctx, {"execution_arn": execution}, f"started {execution}")
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
    _print(ctx, {"event_id": event_id}, f"sent event {event_id}")


def cmd_findings_sample(ctx: Ctx) -> None:
    try:
        event = samples.sample(
            ctx.args.type, ctx.args.resource, account=ctx.args.account, region=ctx.session.region_name or "us-east-1"
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(event, indent=2))


# -- incidents ------------------------------------------------------------------------------------
def cmd_incidents_list(ctx: Ctx) -> None:
    status = None
    if ctx.args.status:
        try:
            status = Status(ctx.args.status.upper())
        except ValueError:
            raise CliError(f"unknown status {ctx.args.status}; one of {', '.join(s.value for s in Status)}") from None
    incidents = ctx.store().list(status=status)
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
    _print(ctx, output.incident_json(updated), f"{updated.incident_id} {verb} by {name}; status {updated.status.value}")


# -- restore --------------------------------------------------------------------------------------
def cmd_restore(ctx: Ctx) -> None:
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
            _print(ctx, {"valid": True, "rules": [r.id for r in rules]}, f"{ctx.args.file}: {len(rules)} valid rule(s)")
            return
        if action == "explain":
            rules = _prefs_store(ctx).all() if ctx.args.rules is None else prefs.load_rules(ctx.args.rules)
            doc, text = prefs.explain_text(rules, prefs.facts_for_event(ctx.args.file))
            _print(ctx, doc, text)
            return
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
            rule = prefs.load_rule(ctx.args.file)
            store.put(rule)
            _print(ctx, rule.model_dump(mode="json"), f"stored rule {rule.id}")
        elif action == "delete":
            if not store.delete(ctx.args.rule_id):
                raise CliError(f"unknown rule {ctx.args.rule_id}")
            _print(ctx, {"deleted": ctx.args.rule_id}, f"deleted rule {ctx.args.rule_id}")
        elif action == "export":
            print(prefs.dump_rules(store.all(), "json" if ctx.args.json else ctx.args.format).rstrip())
        elif action == "import":
            rules = prefs.load_rules(ctx.args.file)
            store.replace_all(rules)
            _print(
                ctx,
                {"imported": [r.id for r in rules]},
                f"imported {len(rules)} rule(s); the stored set is now exactly {ctx.args.file}",
            )
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
    send.set_defaults(func=cmd_findings_send)
    sample = findings.add_parser("sample", help="print a realistic event for a finding type", parents=[common])
    sample.add_argument("type", help=f"one of: {', '.join(samples.sample_types())}")
    sample.add_argument("--resource", help="the instance id, user, role or bucket the finding is about")
    sample.add_argument("--account", default="123456789012")
    sample.set_defaults(func=cmd_findings_sample)

    incidents = sub.add_parser("incidents", help="list, show and decide incidents", parents=[common]).add_subparsers(
        dest="cmd", required=True
    )
    lst = incidents.add_parser("list", help="list incidents", parents=[common])
    lst.add_argument("--status")
    lst.set_defaults(func=cmd_incidents_list)
    show = incidents.add_parser("show", help="one incident in full", parents=[common])
    show.add_argument("incident_id")
    show.set_defaults(func=cmd_incidents_show)
    for verb in ("approve", "reject"):
        d = incidents.add_parser(verb, help=f"{verb} a pending incident", parents=[common])
        d.add_argument("incident_id")
        d.add_argument("--as", dest="as_name", required=True, help="your name, recorded with the decision")
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
