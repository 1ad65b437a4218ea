"""End-to-end: `responder sandbox up` as a subprocess, the CLI as a user runs it, boto3 to check the state."""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningSandbox:
    proc: subprocess.Popen[str]
    endpoint: str
    approvals: str
    port: int

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"})
        return env

    def cli(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "responder_cli.main", *args],
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"responder {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def cli_json(self, *args: str) -> object:
        return json.loads(self.cli(*args, "--json").stdout)

    def session(self) -> boto3.Session:
        return boto3.Session(aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name="us-east-1")

    def client(self, service: str):
        return self.session().client(service, endpoint_url=self.endpoint)

    def wait_incident(self, predicate, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.cli_json("incidents", "list")
            for incident in last:  # type: ignore[union-attr]
                if predicate(incident):
                    return incident
            time.sleep(0.5)
        raise AssertionError(f"no matching incident; last seen: {json.dumps(last)[:2000]}")

    def outbox(self) -> list[dict]:
        return self.cli_json("sandbox", "outbox")  # type: ignore[return-value]

    def wait_email(self, prefix: str, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.outbox():
                if message["subject"].startswith(prefix):
                    return message
            time.sleep(0.5)
        raise AssertionError(f"no {prefix} email: {[m['subject'] for m in self.outbox()]}")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "responder_cli.main", "sandbox", "up", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 240
    lines: list[str] = []
    ready = None
    folder = None
    while time.monotonic() < deadline and ready is None:
        if proc.poll() is not None:
            break
        if select.select([proc.stdout], [], [], 1.0)[0]:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("sandbox folder "):
                folder = Path(line.split()[2])
            if line.startswith("sandbox ready:"):
                ready = line
    if ready is None:
        proc.kill()
        proc.wait()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise AssertionError("sandbox did not become ready:\n" + "".join(lines[-50:]))
    # sandbox ready: AWS endpoint http://127.0.0.1:PORT, approvals http://127.0.0.1:PORT/v1/
    endpoint = ready.split("AWS endpoint ", 1)[1].split(",", 1)[0].strip()
    approvals = ready.split("approvals ", 1)[1].strip()
    running = RunningSandbox(proc, endpoint, approvals, port)
    yield running
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if folder is not None and proc.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)  # killed: clean up for it
    assert folder is None or not folder.exists(), f"the sandbox left {folder} behind"
