"""The text of every email the responder sends."""

from __future__ import annotations

from dataclasses import dataclass

from responder.domain import facts, safe_text
from responder.domain.safe_text import one_line as s
from responder.models.incident import Incident, Status


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


UNTRUSTED = "Reported by the finding (untrusted):"
SUBJECT_VALUE = 60
LINE = 2000  # a line the responder composed around finding data (a plan step, an impact line, a note)


def _header(incident: Incident) -> list[str]:
    """The responder's own facts first, then, under a label, what came from the finding and the resource:
    each such value shown as one line (`safe_text.one_line`), so none can start a line of its own."""
    r = incident.resource
    lines = [
        f"Incident:  {incident.incident_id}",
        f"Status:    {incident.status.value}",
        "",
        UNTRUSTED,
        f"Resource:  {r.type.value} {s(r.id)}",
        f"Account:   {s(r.account)}" + (f" ({s(incident.account_alias)})" if incident.account_alias else ""),
        f"Region:    {s(r.region)}",
    ]
    if incident.decision:  # its reason can quote the resource's tags
        lines.append(f"Decision:  {incident.decision.mode.value} ({s(incident.decision.reason)})")
    lines += ["", "Findings:"]
    for f in incident.findings.values():
        seen = f" x{f.count}" if f.count > 1 else ""
        lines.append(
            f"  - {s(f.type)} severity {facts.severity_label(f.severity)} ({f.severity:.1f}){seen} [{s(f.id)}]"
        )
        if f.first_seen or f.last_seen:
            first = f"{f.first_seen:%Y-%m-%d %H:%M} UTC" if f.first_seen else "?"
            last = f"{f.last_seen:%Y-%m-%d %H:%M} UTC" if f.last_seen else "?"
            lines.append(f"    first seen {first}, last seen {last}")
        if f.title:
            lines.append(f"    {s(f.title)}")
        if f.remote_ip:
            lines.append(f"    remote IP {s(f.remote_ip)}")
    return lines


def _plan(incident: Incident, heading: str = "Planned actions:") -> list[str]:
    lines = ["", heading]
    lines += [f"  {i}. {s(a.description, LINE)}" for i, a in enumerate(incident.plan, 1)] or ["  (none)"]
    if incident.impact:
        lines += ["", "Impact:", *(f"  {s(line, LINE)}" for line in incident.impact.lines())]
    return lines


def _subject(tag: str, *values: object) -> str:
    return " ".join([tag, *(s(v, SUBJECT_VALUE) for v in values)])


def _message(subject: str, lines: list[str]) -> Message:
    # Every value is already one line; the last pass keeps any line built here from carrying a control.
    return Message(s(subject, None), safe_text.lines("\n".join(lines)))


def approval_request(incident: Incident, approve_url: str, reject_url: str, expires_text: str) -> Message:
    """The links come first, before anything the finding reported, so that no finding text can stand
    above them or pass for them."""
    top = max(incident.findings.values(), key=lambda f: f.severity)
    subject = _subject("[APPROVAL NEEDED]", top.type, "on", incident.resource.id)
    body = [
        "Containment is waiting for your decision.",
        facts.effect(incident),
        facts.if_nobody_decides(incident, expires_text),
        "",
        f"Approve: {approve_url}",
        "",
        f"Reject:  {reject_url}",
        "",
        f"The links open a confirmation page; nothing happens until you press a button there. They expire {expires_text}.",
        "Nothing has been changed yet. The pre-state is recorded, so containment can be undone exactly.",
        "",
        *_header(incident),
        *_plan(incident),
    ]
    return _message(subject, body)


_SKIP_NOTICES = {
    "protected": (
        "[PROTECTED]",
        "A finding named a protected resource. The responder did not contain it and changed nothing:",
        "Investigate it by hand; protection is configured in the protectedArns CDK context.",
    ),
    "unhandled": (
        "[NOT CONTAINED]",
        "A high-severity threat finding could not be acted on, and nothing was changed:",
        "Investigate it by hand: the responder has no containment for it.",
    ),
}


def _who_decided(incident: Incident) -> str:
    approval = incident.approval
    if approval is not None and approval.decided_by:
        via = {"link": "the approval link", "cli": "the CLI"}.get(approval.via or "", "the approval page")
        return f"Approved by {s(approval.decided_by)} through {via}."
    if approval is not None and approval.decision == "expired":
        return "Nobody decided; contained at the approval timeout (the rule says on_timeout: contain)."
    rule = incident.decision.rule_id if incident.decision else "?"
    return f"Contained at once: the preference rule {s(rule)} says auto."


def outcome(incident: Incident) -> Message:
    st = incident.status
    rid = incident.resource.id
    lines = _header(incident)
    if st is Status.CONTAINED:
        subject = _subject("[CONTAINED]", rid)
        lines += ["", _who_decided(incident), "", "Actions applied:"]
        lines += [
            f"  - {a.at:%Y-%m-%d %H:%M:%S}Z {s(a.action)} {s(a.target)} ({a.status.value})" for a in incident.actions
        ]
        warnings = [line for line in incident.impact.lines() if line.startswith("Warning:")] if incident.impact else []
        lines += ["", *(s(w, LINE) for w in warnings)] if warnings else []
        snaps = [s(a.id) for a in incident.artifacts if a.kind == "ebs_snapshot"]
        if snaps:
            lines += ["", f"Evidence snapshots (kept after restore): {', '.join(snaps)}"]
        lines += ["", f"Undo: responder restore {incident.incident_id}"]
    elif st is Status.REJECTED:
        by = s(incident.approval.decided_by) if incident.approval and incident.approval.decided_by else "?"
        subject = _subject("[REJECTED]", rid)
        lines += ["", f"Containment was rejected by {by}. Nothing was changed."]
    elif st is Status.EXPIRED:
        subject = _subject("[EXPIRED]", rid)
        lines += ["", "Nobody approved containment before the approval timeout. Nothing was changed."]
    elif st is Status.NOTIFIED:
        subject = _subject("[NOTIFY ONLY]", rid)
        dry = incident.decision.dry_run if incident.decision else False
        lines += [
            *_plan(incident, "What containment would have done (nothing was changed):"),
            "",
            "Dry run: the plan above was recorded, nothing was changed."
            if dry
            else "The matching preference says notify only: nothing was changed.",
        ]
    elif st is Status.RESTORED:
        subject = _subject("[RESTORED]", rid)
        lines += ["", "Every recorded attribute was put back and verified."]
        lines += [f"  note: {s(line, LINE)}" for line in incident.restore_report]
    elif st is Status.SKIPPED:
        # Emailed only with a notice: a protected resource, or a high-severity threat it could not act on.
        tag, what, advice = _SKIP_NOTICES[incident.skip_notice or "protected"]
        subject = _subject(tag, rid)
        lines += ["", what, f"  {s(incident.skip_reason, LINE)}", "", advice]
    elif st is Status.FAILED:
        subject = _subject("[FAILED]", rid)
        lines += ["", "The responder FAILED. Error:", f"  {s(incident.error, LINE)}", ""]
        if incident.actions:
            lines += ["Actions applied before the failure:"]
            lines += [f"  - {s(a.action)} {s(a.target)} ({a.status.value})" for a in incident.actions]
        lines += ["", f"Everything it changed can be undone with: responder restore {incident.incident_id}"]
    else:
        subject = _subject(f"[{st.value}]", rid)
    return _message(subject, lines)


def triage_failure(error: str, cause: str, execution_arn: str) -> Message:
    """A finding the responder could not triage (not a malformed one): nothing was contained for it."""
    lines = [
        "A finding could not be triaged, so nothing was contained for it.",
        "",
        f"Error:     {s(error)}",
        f"Cause:     {s(cause, LINE)}",
        f"Execution: {s(execution_arn)}",
        "",
        "If the cause names an account, check that the member role (MemberRoleStack) is deployed there and trusts "
        "this responder with its ExternalId; then send the finding again.",
    ]
    return _message(_subject("[FAILED] triage:", error), lines)


def drift(incident: Incident, recontain: bool) -> Message:
    """A CONTAINED resource found reopened by the scheduled re-verification."""
    subject = _subject("[REOPENED]", incident.resource.id)
    lines = [
        *_header(incident),
        "",
        "The scheduled re-verification found this contained resource reopened:",
        *(f"  - {s(problem, LINE)}" for problem in incident.drift),
        "",
        "The preference says on_drift: recontain; the responder is applying containment again and will verify it."
        if recontain
        else "Nothing was changed. Investigate who reopened it; the rule's on_drift: recontain would re-apply it.",
        "",
        f"Undo containment entirely: responder restore {incident.incident_id}",
    ]
    return _message(subject, lines)
