"""CLI manners without a sandbox: checked samples, --status, empty imports, shadowing, YAML errors, flags, account."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from responder.models.common import ResourceType
from responder.models.incident import Incident, Status
from responder.models.resource import ResourceRef
from responder_cli import output, prefs, samples
from responder_cli.main import is_loopback, main, parser

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """The CLI in this process: (exit status, stdout, stderr)."""
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def offline(monkeypatch):
    """Any AWS call fails fast: an endpoint nothing listens on, one attempt."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed_port())


# -- findings sample ------------------------------------------------------------------------------
EC2 = "Backdoor:EC2/C&CActivity.B"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([EC2, "--resource", "i-xyz"], "--resource 'i-xyz' is not an EC2 instance id"),
        ([EC2, "--resource", "i-0123456"], "is not an EC2 instance id"),  # 7 hex digits
        ([EC2, "--resource", "i-0123456789ABCDEF0"], "is not an EC2 instance id"),  # upper case
        ([EC2, "--severity", "11"], "--severity 11 is outside 0-10"),
        ([EC2, "--severity", "-1"], "--severity -1 is outside 0-10"),
        ([EC2, "--account", "12345"], "--account '12345' is not an AWS account id (12 digits)"),
        ([EC2, "--account", "12345678901a"], "is not an AWS account id"),
        ([EC2, "--access-key", "AKIAIOSFODNN7EXAMPLE"], "--access-key applies to IAM and S3 findings"),
        (["CredentialAccess:IAMUser/AnomalousBehavior", "--access-key", "nope"], "is not an access key id"),
        (["CredentialAccess:IAMUser/AnomalousBehavior", "--resource", "bad name"], "not an IAM user or role name"),
        (["Policy:S3/BucketPublicAccessGranted", "--resource", "Bad_Bucket"], "not an S3 bucket name"),
    ],
)
def test_a_sample_that_no_finding_could_carry_is_one_line_and_exit_2(capsys, args, message):
    code, out, err = run(capsys, "findings", "sample", *args)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_sample_carries_the_given_severity_access_key_and_account(capsys):
    code, out, _ = run(
        capsys, "findings", "sample", "CredentialAccess:IAMUser/AnomalousBehavior", "--resource", "app-deployer",
        "--access-key", "AKIAABCDEFGHIJKLMNOP", "--severity", "6.5", "--account", "210987654321",
    )  # fmt: skip
    assert code == 0
    detail = json.loads(out)["detail"]
    assert detail["severity"] == 6.5 and detail["accountId"] == "210987654321"
    assert detail["resource"]["accessKeyDetails"] == {**detail["resource"]["accessKeyDetails"],
                                                      "accessKeyId": "AKIAABCDEFGHIJKLMNOP", "userName": "app-deployer"}  # fmt: skip
    code, out, _ = run(capsys, "findings", "sample", EC2, "--resource", "i-0123456789abcdef0", "--severity", "0")
    assert code == 0 and json.loads(out)["detail"]["severity"] == 0


def test_the_walkthrough_finding_waits_for_approval_under_the_shipped_preferences(tmp_path):
    """The README's walkthrough samples this type without --severity: the shipped rules must ask a person."""
    event = samples.sample(EC2, "i-0123456789abcdef0")
    path = tmp_path / "finding.json"
    path.write_text(json.dumps(event))
    rules = prefs.load_rules(str(ROOT / "preferences.default.yaml"))
    doc, _ = prefs.explain_text(rules, prefs.facts_for_event(str(path)))
    assert doc["decision"]["mode"] == "approve" and doc["decision"]["rule_id"] == "ec2-high-approve"


# -- incidents list --status ----------------------------------------------------------------------
@pytest.mark.parametrize("given", ["pending_approval", "PENDING_APPROVAL", "Pending_Approval", "pending-approval"])
def test_status_in_any_case(given):
    assert parser().parse_args(["incidents", "list", "--status", given]).status is Status.PENDING_APPROVAL


def test_an_unknown_status_is_refused_before_any_call(capsys):
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(["incidents", "list", "--status", "bogus"])
    assert exc.value.code == 2 and "unknown status 'bogus'" in capsys.readouterr().err


# -- prefs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("content", ["", "[]\n", "rules: []\n", "# nothing yet\n"])
def test_importing_an_empty_set_is_refused_without_allow_empty(capsys, offline, tmp_path, content):
    path = tmp_path / "prefs.yaml"
    path.write_text(content)
    code, _, err = run(capsys, "prefs", "import", str(path))
    assert code == 2 and "holds no rules" in err and "--allow-empty" in err
    assert "endpoint unreachable" not in err  # refused before anything was sent
    # With --allow-empty it goes on (and here reaches the unreachable endpoint).
    code, _, err = run(capsys, "prefs", "import", str(path), "--allow-empty")
    assert code == 1 and "endpoint unreachable" in err


SHADOWING = """
- id: catch-all
  priority: 5
  mode: notify
- id: ec2-high-approve
  priority: 30
  match: {resource_types: [ec2_instance], min_severity: 7.0}
  mode: approve
- id: s3-auto
  priority: 50
  match: {resource_types: [s3_bucket]}
  mode: auto
"""


def test_validate_warns_on_a_rule_that_shadows_every_later_one(capsys, tmp_path):
    path = tmp_path / "prefs.yaml"
    path.write_text(SHADOWING)
    code, out, err = run(capsys, "prefs", "validate", str(path))
    assert code == 0 and "3 valid rule(s)" in out
    assert err.startswith("responder: warning: rule catch-all (priority 5) has no match conditions")
    assert "ec2-high-approve, s3-auto" in err


def test_validate_does_not_warn_when_the_catch_all_comes_last(capsys, tmp_path):
    path = tmp_path / "prefs.yaml"
    path.write_text(SHADOWING.replace("priority: 5\n", "priority: 900\n"))
    code, _, err = run(capsys, "prefs", "validate", str(path))
    assert code == 0 and err == ""
    code, _, err = run(capsys, "prefs", "validate", str(ROOT / "preferences.default.yaml"))
    assert code == 0 and err == ""


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("prefs.yaml", "- id: a\n  priority: 1\n  mode: notify\n  notes: a: b\n", "line 4, column 11"),
        ("prefs.yaml", "- id: a\n  priority: [1\n", "line 3, column 1"),
        ("prefs.json", '[{"id": "a",\n  "priority": }]', "line 2, column 15"),
    ],
)
def test_a_syntax_error_names_the_file_line_and_column(capsys, tmp_path, name, content, where):
    path = tmp_path / name
    path.write_text(content)
    code, _, err = run(capsys, "prefs", "validate", str(path))
    assert code == 1
    assert f"{path}, {where}: not valid {'JSON' if name.endswith('json') else 'YAML'}" in err, err
    assert "<unicode string>" not in err and len(err.strip().splitlines()) == 1


# -- restore notes --------------------------------------------------------------------------------
def test_restore_notes_name_the_cli_flags():
    incident = Incident(
        incident_id="inc-20261123T000000-00000000",
        status=Status.RESTORED,
        resource=ResourceRef(type=ResourceType.IAM_USER, id="alice", account="123456789012", region="us-east-1"),
        findings={},
        restore_report=[
            "access key(s) AKIAIOSFODNN7EXAMPLE stay inactive, as AWS advises for compromised keys; "
            "restore with reactivate_keys to reactivate them",
            "iam_user alice: session revocation kept (it only denies sessions issued before containment); "
            "restore with lift_session_revocation to remove it",
        ],
    )
    text = output.restored(incident)
    assert "restore with --reactivate-keys to reactivate them" in text
    assert "restore with --lift-session-revocation to remove it" in text
    assert "reactivate_keys" not in text and "lift_session_revocation" not in text
    shown = output.show_incident(incident)
    assert "--reactivate-keys" in shown and "--lift-session-revocation" in shown


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("skipped", "ec2_instance i-0000000000000dead does not exist"),
        ("protected", "protected: ec2_instance i-0000000000000dead does not exist"),
        ("unhandled", "not contained, the team is emailed: ec2_instance i-0000000000000dead does not exist"),
        ("absorbed", "an open incident already owns this resource or finding"),
    ],
)
def test_triage_says_why_a_finding_was_not_taken(outcome, expected):
    incident = Incident(
        incident_id="inc-20261123T000000-00000000",
        status=Status.SKIPPED,
        resource=ResourceRef(
            type=ResourceType.EC2_INSTANCE, id="i-0000000000000dead", account="123456789012", region="us-east-1"
        ),
        findings={},
        skip_reason="ec2_instance i-0000000000000dead does not exist",
    )
    assert output.triage_reason(outcome, incident) == expected


# -- the account a change acts on -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("endpoint", "local"),
    [
        (None, False),
        ("", False),
        ("http://127.0.0.1:4566", True),
        ("http://localhost:4566", True),
        ("http://127.0.0.2:4566", True),
        ("http://[::1]:4566", True),
        ("https://sts.eu-west-1.amazonaws.com", False),
        ("http://10.0.0.5:4566", False),
        ("http://127.0.0.1.example.com", False),
    ],
)
def test_loopback_endpoints(endpoint, local):
    assert is_loopback(endpoint) is local


MUTATING = [
    (["restore", "inc-1"], "restoring inc-1"),
    (["incidents", "approve", "inc-1", "--as", "Alice"], "approving inc-1"),
    (["incidents", "reject", "inc-1", "--as", "Alice"], "rejecting inc-1"),
    (["prefs", "delete", "catch-all"], "deleting rule catch-all"),
    (["prefs", "import", "{defaults}"], "replacing the stored preferences with 5 rule(s)"),
    (["prefs", "put", "{rule}"], "storing rule one"),
    (["findings", "send", "{finding}"], "sending a finding"),
]


@pytest.fixture
def files(tmp_path) -> dict[str, str]:
    rule = tmp_path / "rule.yaml"
    rule.write_text("id: one\npriority: 1\nmode: notify\n")
    finding = tmp_path / "finding.json"
    finding.write_text(json.dumps(samples.sample(EC2, "i-0123456789abcdef0")))
    return {"rule": str(rule), "finding": str(finding), "defaults": str(ROOT / "preferences.default.yaml")}


@pytest.mark.parametrize(("argv", "action"), MUTATING, ids=[" ".join(m[0][:2]) for m in MUTATING])
def test_a_change_outside_the_sandbox_first_names_the_account_and_region(capsys, aws, files, argv, action):
    """No endpoint (real AWS; moto here): the account from STS and the region come first, on stderr."""
    code, _, err = run(capsys, *[a.format(**files) for a in argv])
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"responder: {action} in account 123456789012, region us-east-1 (as arn:aws:"), err
    assert code == 1 and "no stack named ContainmentResponder" in lines[-1]  # moto holds no stack


@pytest.mark.parametrize(("argv", "action"), MUTATING, ids=[" ".join(m[0][:2]) for m in MUTATING])
def test_a_change_in_the_sandbox_names_no_account(capsys, offline, files, argv, action):
    code, _, err = run(capsys, *[a.format(**files) for a in argv])
    assert code == 1 and "in account" not in err and "endpoint unreachable" in err


def test_reads_name_no_account(capsys, aws):
    code, _, err = run(capsys, "incidents", "list")
    assert code == 1 and "in account" not in err


def test_a_victim_is_made_only_in_the_sandbox(capsys, aws):
    code, out, err = run(capsys, "sandbox", "victim", "ec2")
    assert code == 2 and out == "" and "runs only against the sandbox" in err
