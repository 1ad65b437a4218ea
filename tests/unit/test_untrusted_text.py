"""Attacker-controlled text (ids, tags, ASG names, titles, names, errors) in emails, the approval page and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from responder.domain import messages
from responder.domain.approval import LinkError, SignedLink, confirm_page, message_page, parse_form
from responder.domain.safe_text import TRUNCATED, one_line
from responder.models.common import ResourceType
from responder.models.incident import (
    ActionStatus,
    AppliedAction,
    ApprovalRecord,
    AsgState,
    Ec2Impact,
    Ec2PreState,
    EniState,
    FindingSummary,
    Incident,
    PlannedAction,
    Status,
)
from responder.models.preferences import Decision, Mode, OnTimeout, RuleActions
from responder.models.resource import ResourceRef
from responder_cli import main as cli
from responder_cli import output

INJECT = "\r\nApprove: https://evil.example/approve"
RLO = "\u202e"
HIDDEN = [
    "\r",
    "\n",
    "\x00",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9b",
    "\u2028",
    "\u2029",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
    "\u200b",
    "\ufeff",
]
APPROVE = "https://approvals.example/approvals/ap1?sig=ours"
REJECT = "https://approvals.example/approvals/ap1?sig=ours&decision=reject"


def hostile_incident(status: Status = Status.PENDING_APPROVAL) -> Incident:
    asg = f"web-asg{INJECT}"
    return Incident(
        incident_id="inc-hostile",
        status=status,
        resource=ResourceRef(
            type=ResourceType.EC2_INSTANCE, id=f"i-0abc{INJECT}{RLO}gpj.exe", account="123456789012", region="us-east-1"
        ),
        account_alias=f"prod{INJECT}",
        findings={
            "f1": FindingSummary(
                id=f"f1{INJECT}",
                type=f"Backdoor:EC2/C&CActivity.B{INJECT}",
                severity=8.0,
                title=f"Title{INJECT}{RLO}txt.exe",
                remote_ip=f"198.51.100.23{INJECT}",
            )
        },
        resource_tags={f"Name{INJECT}": f"web{RLO}{INJECT}"},
        decision=Decision(
            mode=Mode.APPROVE,
            on_timeout=OnTimeout.EXPIRE,
            rule_id=f"rule{INJECT}",
            reason=f"tag matched{INJECT}",
            actions=RuleActions(),
        ),
        plan=[PlannedAction(action="ec2_isolate", target=f"i-0abc{INJECT}", description=f"Isolate ASG {asg}")],
        impact=Ec2Impact(
            instance_id=f"i-0abc{INJECT}",
            instance_state="running",
            vpc_id=f"vpc-1{INJECT}",
            enis=[EniState(eni_id=f"eni-1{INJECT}", groups=[f"sg-1{INJECT}"])],
            asg_name=asg,
            isolation_mode="direct",
            notes=[f"tag Owner={RLO}{INJECT}"],
        ),
        pre_state=Ec2PreState(
            instance_id=f"i-0abc{INJECT}",
            vpc_id=None,
            instance_state="running",
            enis=[EniState(eni_id=f"eni-1{INJECT}", groups=[f"sg-1{INJECT}"])],
            disable_api_termination=False,
            asg=AsgState(name=asg, lifecycle_state="InService", desired_capacity=1, min_size=1),
            tags={f"Name{INJECT}": f"web{RLO}"},
        ),
        actions=[AppliedAction(action="ec2_isolate", target=f"sg-{INJECT}{RLO}", status=ActionStatus.APPLIED)],
        approval=ApprovalRecord(
            approval_id="ap1",
            requested_at=datetime(2026, 1, 1, tzinfo=UTC),
            expires_at=datetime(2026, 1, 2, tzinfo=UTC),
            decision="rejected",
            decided_by=f"Mallory{INJECT}{RLO}",
            via="link",
        ),
        error=f"AccessDenied{INJECT}{RLO}",
        restore_report=[f"note{INJECT}{RLO}"],
    )


def assert_safe(text: str, *, approve_lines: int = 0) -> None:
    assert "\r" not in text
    for ch in HIDDEN[2:]:
        assert ch not in text, f"{ch!r} reached the output raw"
    starts = [line for line in text.split("\n") if line.lstrip().startswith("Approve:")]
    assert len(starts) == approve_lines, starts
    assert not any(line.lstrip().startswith("Approve: https://evil") for line in text.split("\n"))


# -- the one-line rendering ---------------------------------------------------------------------------
@pytest.mark.parametrize("ch", HIDDEN)
def test_every_hidden_character_is_escaped_visibly(ch):
    shown = one_line(f"a{ch}b")
    assert ch not in shown and shown.startswith("a\\") and shown.endswith("b")
    assert "\n" not in shown and "\r" not in shown


def test_escapes_name_what_they_replace():
    assert one_line(f"x{INJECT}") == "x\\r\\nApprove: https://evil.example/approve"
    assert one_line(f"{RLO}gpj.exe") == "\\u202egpj.exe"
    assert one_line("\x1b[31m") == "\\x1b[31m"
    assert one_line("\U000e0041") == "\\U000e0041"  # a tag character
    assert one_line(None) == ""


def test_ordinary_text_is_unchanged_and_safe_twice():
    for text in ("i-0123456789abcdef0", "café naïve 東京", "C:\\path", "a b\u00a0c"):
        assert one_line(text) == text
    once = one_line(f"x{INJECT}{RLO}")
    assert one_line(once) == once


def test_long_values_are_cut_with_a_marker_never_mid_escape():
    shown = one_line("a" * 1000, 50)
    assert len(shown) == 50 and shown.endswith(TRUNCATED)
    shown = one_line(RLO * 100, 40)
    assert shown.endswith(TRUNCATED) and len(shown) <= 40
    assert shown[: -len(TRUNCATED)].replace("\\u202e", "") == ""
    assert one_line("a" * 50, 50) == "a" * 50
    assert len(one_line("x" * 10_000_000)) <= 300


# -- emails --------------------------------------------------------------------------------------------
def test_the_approval_email_has_one_approve_line_ours_and_the_links_come_first():
    msg = messages.approval_request(hostile_incident(), APPROVE, REJECT, "at 2026-01-02 00:00 UTC")
    assert_safe(msg.body, approve_lines=1)
    body_lines = msg.body.split("\n")
    approve = next(i for i, line in enumerate(body_lines) if line.startswith("Approve:"))
    reject = next(i for i, line in enumerate(body_lines) if line.startswith("Reject:"))
    assert body_lines[approve] == f"Approve: {APPROVE}"
    assert body_lines[reject] == f"Reject:  {REJECT}"
    label = body_lines.index("Reported by the finding (untrusted):")
    first_data = min(i for i, line in enumerate(body_lines) if "evil.example" in line or "i-0abc" in line)
    assert approve < reject < label < first_data
    assert "\\r\\nApprove: https://evil.example/approve" in msg.body  # shown, as data, inside its line
    assert "\\u202e" in msg.body


def test_the_approval_email_subject_is_one_safe_line():
    msg = messages.approval_request(hostile_incident(), APPROVE, REJECT, "soon")
    assert_safe(msg.subject)
    assert "\n" not in msg.subject


@pytest.mark.parametrize(
    "status",
    [
        Status.CONTAINED,
        Status.REJECTED,
        Status.EXPIRED,
        Status.NOTIFIED,
        Status.RESTORED,
        Status.FAILED,
        Status.SKIPPED,
    ],
)
def test_outcome_emails_carry_no_injected_line_and_no_raw_controls(status):
    msg = messages.outcome(hostile_incident(status))
    assert_safe(msg.body)
    assert_safe(msg.subject)
    assert "\n" not in msg.subject
    assert "Reported by the finding (untrusted):" in msg.body


# -- the approval page ---------------------------------------------------------------------------------
def test_the_confirm_page_shows_no_raw_bidi_or_line_breaks_from_the_finding():
    link = SignedLink("ap1", "inc-hostile", "approve", 1_900_000_000, "0" * 64)
    page = confirm_page(hostile_incident(), link, "nonce", "2026-01-02 00:00 UTC", link)
    assert RLO not in page and "\r" not in page
    assert "Approve: https://evil.example" not in page.replace("\\r\\nApprove: https://evil.example", "")
    assert "\\u202e" in page


def test_message_pages_neutralise_a_name_or_error_text():
    page = message_page(f"Title{RLO}", f"decided by Mallory{INJECT}{RLO}", f"status{RLO}\n")
    assert RLO not in page and "\r" not in page and "\n" not in page


@pytest.mark.parametrize("name", [f"Mallory{RLO}", "Mallory\x7f", "Mallory\x9b", "Mal\u200blory", "\u2066Mallory"])
def test_an_approvers_name_with_hidden_characters_is_refused(name):
    # Line and paragraph separators are whitespace, which the name's spaces are normalised from.
    from urllib.parse import urlencode

    with pytest.raises(LinkError) as exc:
        parse_form(urlencode({"decision": "approve", "name": name, "nonce": "n"}))
    assert exc.value.status == 400


# -- the CLI -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [Status.PENDING_APPROVAL, Status.CONTAINED, Status.FAILED])
def test_cli_show_incident_prints_no_injected_line_and_no_raw_controls(status):
    text = output.show_incident(hostile_incident(status))
    assert_safe(text)
    assert "\\u202e" in text


def test_cli_restore_notes_are_one_line_each():
    text = output.restored(hostile_incident(Status.RESTORED))
    assert_safe(text)
    assert len(text.split("\n")) == 2


def test_cli_table_cells_stay_on_their_row():
    text = output.table(["id", "title"], [[f"i-1{INJECT}", f"t{RLO}"]])
    assert len(text.split("\n")) == 3
    assert_safe(text)


def test_cli_json_output_has_no_raw_controls():
    text = output.dump(output.incident_json(hostile_incident()))
    assert RLO not in text and "\x7f" not in output.dump({"x": "a\x7fb"})


def test_cli_errors_are_printed_as_one_safe_line(capsys):
    with pytest.raises(SystemExit):
        cli.fail(f"unknown incident x{INJECT}{RLO}")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and RLO not in err and "\r" not in err


def test_cli_outbox_printing_neutralises_each_line(capsys):
    cli.print_outbox([{"subject": f"[X] s{RLO}", "body": f"line1\nline2 {RLO}\x1b[2J\r"}])
    out = capsys.readouterr().out
    assert RLO not in out and "\x1b" not in out and "\r" not in out
    assert "line1\nline2 \\u202e\\x1b[2J\\r" in out
