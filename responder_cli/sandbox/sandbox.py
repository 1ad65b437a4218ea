"""The embedded sandbox: an AWS emulator with the responder deployed in it, on 127.0.0.1.

It synthesizes the app (the same `build_app` that app.py uses), deploys the template into the
emulator's CloudFormation after publishing the code assets, and fills the emulator's gaps without
changing the template:
- Lambda: invocations run the deployed code asset's handler, in one worker process per function.
- EventBridge: events reach the Step Functions targets of every matching rule.
- API Gateway: the approval API is served over HTTP on localhost, as the approval function's proxy events.
- SNS email: messages to email subscriptions are captured in an outbox.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from responder_cli.sandbox import lambda_runtime, moto_fidelity
from responder_cli.sandbox.apigw import proxy_event
from responder_cli.sandbox.deploy import DeployedStack, deploy
from responder_cli.sandbox.lambda_runtime import FunctionSpec
from responder_cli.sandbox.workers import WorkerInvoker

ACCOUNT = "123456789012"
STACK = "ContainmentResponder"
STAGE = "v1"
LINK = re.compile(r"^(Approve|Reject):\s+(\S+)", re.MULTILINE)


class PortInUse(OSError):
    """A port the sandbox needs is taken: the message names it."""


def check_ports(ports: dict[str, int]) -> None:
    """Raise PortInUse for the first of these ports (option name: port) that cannot be bound on 127.0.0.1.

    Binds as the sandbox's servers do (SO_REUSEADDR), so a port left in TIME_WAIT counts as free. Port 0
    (any free port) is never busy."""
    for option, port in ports.items():
        if not port:
            continue
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError as exc:
                raise PortInUse(
                    f"port {port} on 127.0.0.1 is already in use ({option}): stop what holds it or choose another port"
                ) from exc


def quiet_jsii_exit() -> None:
    """Ctrl-C in a terminal reaches the whole process group, jsii's node process included; jsii's exit hook
    then writes to that dead process and prints a BrokenPipeError. Make the hook quiet: call this before the
    first jsii call (synthesis), since the hook is registered when the node process starts."""
    try:
        from jsii._kernel.providers.process import _NodeProcess
    except ImportError:  # pragma: no cover - jsii's internals moved: the traceback is cosmetic
        return
    original = _NodeProcess.stop
    if getattr(original, "_responder_quiet", False):
        return

    def stop(self: Any) -> None:
        with contextlib.suppress(BrokenPipeError, ValueError):  # ValueError: a write to a closed pipe
            original(self)

    stop._responder_quiet = True  # type: ignore[attr-defined]
    _NodeProcess.stop = stop  # type: ignore[method-assign]


def state_file(aws_port: int) -> Path:
    return Path(tempfile.gettempdir()) / "responder-sandbox" / f"{aws_port}.json"


@dataclass
class OutboxMessage:
    topic_arn: str
    message_id: str
    subject: str
    body: str

    def links(self) -> dict[str, str]:
        return {m.group(1).lower(): m.group(2) for m in LINK.finditer(self.body)}

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic_arn": self.topic_arn,
            "message_id": self.message_id,
            "subject": self.subject,
            "body": self.body,
            "links": self.links(),
        }


class Sandbox:
    def __init__(
        self,
        port: int = 4566,
        approvals_port: int = 0,
        region: str = "us-east-1",
        workdir: Path | None = None,
        context: dict[str, Any] | None = None,
        keep: bool = False,
    ) -> None:
        self.port = port
        self.approvals_port = approvals_port
        self.region = region
        # A temporary folder of our own is removed by stop() unless keep; a given workdir is never removed.
        self._remove_workdir = workdir is None and not keep
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="responder-sandbox-"))
        self.context = {"notificationEmail": "soc@example.com", **(context or {})}
        self.endpoint = f"http://127.0.0.1:{port}"
        self._moto: Any = None
        self._http: ThreadingHTTPServer | None = None
        self.invoker: WorkerInvoker | None = None
        self.stack: DeployedStack | None = None
        self.assembly_dir: Path | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        check_ports({"--port": self.port, "--approvals-port": self.approvals_port})
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "sandbox",
                "AWS_SECRET_ACCESS_KEY": "sandbox",
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_ENDPOINT_URL": self.endpoint,
                # moto's Step Functions executor calls Lambda through the server on this port.
                "MOTO_PORT": str(self.port),
            }
        )
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        os.environ.pop("AWS_PROFILE", None)
        moto_fidelity.apply()
        moto_fidelity.deliver_events_to_state_machines()
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._start_moto()
        try:
            self._http = ThreadingHTTPServer(("127.0.0.1", self.approvals_port), _handler_for(self))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise PortInUse(
                f"port {self.approvals_port} on 127.0.0.1 is already in use (--approvals-port): {exc.strerror}"
            ) from exc
        self.approvals_port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, name="sandbox-approvals", daemon=True).start()
        self.invoker = WorkerInvoker(
            self.workdir,
            self._code_for,
            self.endpoint,
            env_overrides={"APPROVAL_API_URL": self.approvals_url},
        )
        lambda_runtime.install(self.invoker)
        self.stack = self._deploy()
        path = state_file(self.port)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"endpoint": self.endpoint, "approvals": self.approvals_url, "pid": os.getpid()}))

    def _start_moto(self) -> None:
        # ThreadedMotoServer.start() waits forever when its server thread dies (a port taken since
        # check_ports): start the same thread here and give up as soon as it is gone.
        moto = self._moto
        moto._thread = threading.Thread(target=moto._server_entry, name="sandbox-moto", daemon=True)
        moto._thread.start()
        while not moto._server_ready_event.wait(0.1):
            if not moto._thread.is_alive():
                moto._thread = None
                self._moto = None
                raise PortInUse(f"port {self.port} on 127.0.0.1 is already in use (--port): cannot start the emulator")

    def stop(self) -> None:
        if self.invoker is not None:
            self.invoker.stop()
        lambda_runtime.uninstall()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._moto is not None:
            self._moto.stop()
        state_file(self.port).unlink(missing_ok=True)
        if self._remove_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def approvals_url(self) -> str:
        return f"http://127.0.0.1:{self.approvals_port}/{STAGE}/"

    def _deploy(self) -> DeployedStack:
        import boto3

        quiet_jsii_exit()  # before aws_cdk's import starts the node process
        from infra.synth import build_app

        app, stack = build_app(self.context, str(self.workdir / "cdk.out"))
        assembly = app.synth()
        self.assembly_dir = Path(assembly.directory)
        session = boto3.Session(region_name=self.region)
        return deploy(session, self.assembly_dir, stack.stack_name)

    # -- emulator access -------------------------------------------------------------------------
    def _code_for(self, function_name: str) -> bytes:
        from moto.awslambda.models import lambda_backends

        fn = lambda_backends[ACCOUNT][self.region].get_function(function_name)
        return bytes(fn.code_bytes)

    def approval_function(self) -> FunctionSpec:
        from moto.awslambda.models import lambda_backends

        assert self.stack is not None
        name = next(
            physical
            for logical, (kind, physical) in self.stack.resources.items()
            if kind == "AWS::Lambda::Function" and logical.startswith("ApprovalHandler")
        )
        fn = lambda_backends[ACCOUNT][self.region].get_function(name)
        return FunctionSpec(
            name=fn.function_name,
            arn=fn.function_arn,
            handler=str(fn.handler),
            environment={k: str(v) for k, v in (fn.environment_vars or {}).items()},
            region=self.region,
        )

    def outbox(self) -> list[OutboxMessage]:
        from moto.sns.models import sns_backends

        out: list[OutboxMessage] = []
        for topic in list(sns_backends[ACCOUNT][self.region].topics.values()):
            has_email = any(
                s.protocol in ("email", "email-json") and s.topic_arn == topic.arn
                for s in sns_backends[ACCOUNT][self.region].subscriptions.values()
            )
            if not has_email:
                continue
            for message_id, message, subject, *_ in list(topic.sent_notifications):
                out.append(OutboxMessage(topic.arn, message_id, subject or "", message))
        return out


def _handler_for(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "responder-sandbox"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _dispatch(self, method: str) -> None:
            url = urlparse(self.path)
            if url.path == "/_sandbox/outbox" and method == "GET":
                body = json.dumps([m.as_dict() for m in sandbox.outbox()]).encode()
                self._send(200, {"Content-Type": "application/json"}, body)
                return
            match = re.fullmatch(rf"/{STAGE}(/approvals/([^/]+))", url.path)
            if not match:
                self._send(404, {"Content-Type": "text/plain"}, b"not found")
                return
            length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
            raw = self.rfile.read(length) if length else None
            event = proxy_event(
                method,
                match.group(1),
                resource="/approvals/{approval_id}",
                path_parameters={"approval_id": match.group(2)},
                query={k: v[0] for k, v in parse_qs(url.query).items()},
                headers={k: v for k, v in self.headers.items()},
                body=raw,
                source_ip=self.client_address[0],
                stage=STAGE,
            )
            assert sandbox.invoker is not None
            result, errored = sandbox.invoker.invoke(sandbox.approval_function(), event)
            if errored:
                self._send(502, {"Content-Type": "application/json"}, result.encode())
                return
            response = json.loads(result)
            text = str(response.get("body") or "")
            data = base64.b64decode(text) if response.get("isBase64Encoded") else text.encode()
            self._send(int(response.get("statusCode", 200)), dict(response.get("headers") or {}), data)

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

    return Handler
