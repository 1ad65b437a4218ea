"""The text of every email the responder sends."""

from __future__ import annotations

from dataclasses import dataclass

from responder.models.incident import Incident, Status


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def _header(incident: Incident) -> list[str]:
    r = incident.resource
    lines = [
        f"Incident:  {incident.incident_id}",
        f"Status:    {incident.status.value}",
        f"Resource:  {r.type.value} {r.id}",
        f"Account:   {r.account}" + (f" ({incident.account_alias})" if incident.account_alias else ""),
        f"Region:    {r.region}",
    ]
    if incident.decision:
        lines.append(f"Decision:  {incident.decision.mode.value} ({incident.decision.reason})")
    lines.append("")
    lines.append("Findings:")
    for f in incident.findings.values():
        seen = f" x{f.count}" if f.count > 1 else ""
        lines.append(f"  - {f.type} severity {f.severity:.1f}{seen} [{f.id}]")
        if f.title:
            lines.append(f"    {f.title}")
        if f.remote_ip:
            lines.append(f"    remote IP {f.remote_ip}")
    return lines


def _plan(incident: Incident) -> list[str]:
    lines = ["", "Planned actions:"]
    lines += [f"  {i}. {a.description}" for i, a in enumerate(incident.plan, 1)] or ["  (none)"]
    if incident.impact:
        lines += ["", "Impact:", *(f"  {line}" for line in incident.impact.lines())]
    return lines


def approval_request(incident: Incident, approve_url: str, reject_url: str, expires_text: str) -> Message:
    top = max(incident.findings.values(), key=lambda f: f.severity)
    subject = f"[APPROVAL NEEDED] {top.type} on {incident.resource.id}"
    body = (
        _header(incident)
        + _plan(incident)
        + [
            "",
            "Nothing has been changed yet. The pre-state is recorded, so containment can be undone exactly.",
            "",
            f"Approve: {approve_url}",
            "",
            f"Reject:  {reject_url}",
            "",
            f"The links open a confirmation page; nothing happens until you press a button there. They expire {expires_text}.",
        ]
    )
    return Message(subject, "\n".join(body))


def outcome(incident: Incident) -> Message:
    s = incident.status
    lines = _header(incident)
    if s is Status.CONTAINED:
        subject = f"[CONTAINED] {incident.resource.id}"
        lines += ["", "Actions applied:"]
        lines += [f"  - {a.at:%Y-%m-%d %H:%M:%S}Z {a.action} {a.target} ({a.status.value})" for a in incident.actions]
        snaps = [a.id for a in incident.artifacts if a.kind == "ebs_snapshot"]
        if snaps:
            lines += ["", f"Evidence snapshots (kept after restore): {', '.join(snaps)}"]
        lines += ["", f"Undo: responder restore {incident.incident_id}"]
    elif s is Status.REJECTED:
        by = incident.approval.decided_by if incident.approval else "?"
        subject = f"[REJECTED] {incident.resource.id}"
        lines += ["", f"Containment was rejected by {by}. Nothing was changed."]
    elif s is Status.EXPIRED:
        subject = f"[EXPIRED] {incident.resource.id}"
        lines += ["", "Nobody approved containment before the approval timeout. Nothing was changed."]
    elif s is Status.NOTIFIED:
        subject = f"[NOTIFY ONLY] {incident.resource.id}"
        dry = incident.decision.dry_run if incident.decision else False
        lines += [
            *_plan(incident),
            "",
            "Dry run: the plan above was recorded, nothing was changed."
            if dry
            else "The matching preference says notify only: nothing was changed.",
        ]
    elif s is Status.RESTORED:
        subject = f"[RESTORED] {incident.resource.id}"
        lines += ["", "Every recorded attribute was put back and verified."]
        lines += [f"  note: {line}" for line in incident.restore_report]
    elif s is Status.FAILED:
        subject = f"[FAILED] {incident.resource.id}"
        lines += ["", "The responder FAILED. Error:", f"  {incident.error}", ""]
        if incident.actions:
            lines += ["Actions applied before the failure:"]
            lines += [f"  - {a.action} {a.target} ({a.status.value})" for a in incident.actions]
        lines += ["", f"Everything it changed can be undone with: responder restore {incident.incident_id}"]
    else:
        subject = f"[{s.value}] {incident.resource.id}"
    return Message(subject, "\n".join(lines))
