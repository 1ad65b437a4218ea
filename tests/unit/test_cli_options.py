"""CLI manners: global options anywhere, a closed pipe, a busy sandbox port. No AWS, no sandbox start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from responder_cli.main import GLOBAL_DEFAULTS, _session, parser

ROOT = Path(__file__).resolve().parents[2]

# (option, value, attribute, a second value): every global option the CLI documents.
OPTIONS = [
    ("--endpoint-url", "http://127.0.0.1:4599", "endpoint_url", "http://127.0.0.1:4600"),
    ("--region", "eu-west-3", "region", "ap-south-1"),
    ("--profile", "incident-team", "profile", "other-team"),
    ("--stack-name", "ResponderStaging", "stack_name", "ResponderProd"),
]
# Commands at each depth: a group with a subcommand, a plain command, a sandbox command.
COMMANDS = [["incidents", "list"], ["restore", "inc-1"], ["prefs", "list"], ["sandbox", "outbox"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
@pytest.mark.parametrize(("option", "value", "attr", "_other"), OPTIONS, ids=[o[0] for o in OPTIONS])
def test_a_global_option_before_the_subcommand_is_used(option, value, attr, _other, command):
    args = parser().parse_args([option, value, *command])
    assert getattr(args, attr) == value


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
@pytest.mark.parametrize(("option", "value", "attr", "_other"), OPTIONS, ids=[o[0] for o in OPTIONS])
def test_a_global_option_after_the_subcommand_is_used(option, value, attr, _other, command):
    args = parser().parse_args([*command, option, value])
    assert getattr(args, attr) == value


@pytest.mark.parametrize(("option", "value", "attr", "other"), OPTIONS, ids=[o[0] for o in OPTIONS])
def test_a_global_option_between_group_and_command_is_used(option, value, attr, other):
    assert getattr(parser().parse_args(["incidents", option, value, "list"]), attr) == value
    # Given twice, the one nearer the end (after the subcommand) wins.
    assert getattr(parser().parse_args([option, value, "incidents", "list", option, other]), attr) == other


@pytest.mark.parametrize(("option", "value", "attr", "other"), OPTIONS, ids=[o[0] for o in OPTIONS])
def test_the_value_after_the_subcommand_wins(option, value, attr, other):
    args = parser().parse_args([option, value, "incidents", "list", option, other])
    assert getattr(args, attr) == other


@pytest.mark.parametrize(
    "argv",
    [["--json", "incidents", "list"], ["incidents", "--json", "list"], ["incidents", "list", "--json"]],
)
def test_json_anywhere(argv):
    assert parser().parse_args(argv).json is True


def test_defaults_when_no_option_is_given():
    args = parser().parse_args(["incidents", "list"])
    assert {k: getattr(args, k) for k in GLOBAL_DEFAULTS} == GLOBAL_DEFAULTS


@pytest.fixture
def aws_config(tmp_path, monkeypatch) -> Iterator[None]:
    config = tmp_path / "config"
    config.write_text("[profile incident-team]\nregion = eu-north-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    yield


@pytest.mark.parametrize("where", ["before", "after"])
def test_resolved_session_uses_endpoint_region_and_profile(aws_config, where):
    opts = ["--endpoint-url", "http://127.0.0.1:4599", "--region", "eu-west-3"]
    argv = [*opts, "incidents", "list"] if where == "before" else ["incidents", "list", *opts]
    session, endpoint = _session(parser().parse_args(argv))
    assert endpoint == "http://127.0.0.1:4599"
    assert session.region_name == "eu-west-3"

    profile = ["--profile", "incident-team"]
    argv = [*profile, "incidents", "list"] if where == "before" else ["incidents", "list", *profile]
    session, endpoint = _session(parser().parse_args(argv))
    assert session.profile_name == "incident-team"
    assert session.region_name == "eu-north-1"  # the profile's region: the profile was really used
    assert endpoint is None


def test_an_unknown_profile_before_the_subcommand_is_refused_not_ignored(aws_config):
    from botocore.exceptions import ProfileNotFound

    with pytest.raises(ProfileNotFound):
        _session(parser().parse_args(["--profile", "no-such-profile", "incidents", "list"]))


# -- a closed pipe -------------------------------------------------------------------------------
def _run_into_closed_pipe(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI with stdout a pipe whose reader has already gone, as `| head -1` ends up."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "responder_cli.main", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "args",
    [["findings", "sample", "UnauthorizedAccess:EC2/SSHBruteForce"], ["--help"], ["incidents", "list", "--help"]],
    ids=["findings sample", "--help", "incidents list --help"],
)
def test_a_closed_pipe_exits_quietly(args):
    proc = _run_into_closed_pipe(*args)
    assert proc.stderr.decode() == ""
    # 141 as for a command killed by SIGPIPE; argparse itself ignores a failed write of --help (0).
    assert proc.returncode == (0 if "--help" in args else 141)


def test_a_pipe_closed_after_one_line_exits_quietly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "responder_cli.main", "findings", "sample", "UnauthorizedAccess:EC2/SSHBruteForce"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()
    proc.wait(timeout=120)
    assert b"Traceback" not in proc.stderr.read()
    assert proc.returncode in (0, 141)


# -- a busy sandbox port -------------------------------------------------------------------------
@pytest.mark.parametrize("option", ["--port", "--approvals-port"])
def test_sandbox_up_on_a_busy_port_is_one_line_and_exit_2(option):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        argv = ["sandbox", "up", option, str(port)]
        if option == "--approvals-port":
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                argv += ["--port", str(s.getsockname()[1])]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "responder_cli.main", *argv],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(port) in lines[0] and option in lines[0] and "in use" in lines[0]
    assert time.monotonic() - started < 30


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # werkzeug's exit, expected
def test_the_emulator_start_gives_up_when_its_port_is_taken_after_the_check():
    """A port taken between check_ports and the emulator's bind: moto's own start() would wait forever."""
    from moto.server import ThreadedMotoServer

    from responder_cli.sandbox.sandbox import PortInUse, Sandbox

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        sandbox = Sandbox(port=port)
        sandbox._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        started = time.monotonic()
        try:
            with pytest.raises(PortInUse, match=f"port {port} .*--port"):
                sandbox._start_moto()
        finally:
            sandbox.stop()
    assert time.monotonic() - started < 10
    assert not sandbox.workdir.exists()
