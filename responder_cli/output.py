"""How the CLI shows things: readable tables for people, JSON for machines.

Everything from a finding or a resource is shown as one line with its control and bidi characters
escaped (`safe_text.one_line`), so that none can move the cursor, clear the screen, reorder or forge lines.
JSON escapes them itself (`ensure_ascii`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from responder.domain.safe_text import one_line as s
from responder.models.incident import (
    TIMELINE_HEAD,
    Ec2PreState,
    IamRolePreState,
    IamUserPreState,
    Incident,
    S3PreState,
)


def incident_json(incident: Incident) -> dict[str, Any]:
    doc = incident.model_dump(mode="json")
    return {
        "incident_id": incident.incident_id,
        "status": incident.status.value,
        "resource": {
            "type": incident.resource.type.value,
            "id": incident.resource.id,
            "account": incident.resource.account,
            "region": incident.resource.region,
            "account_alias": incident.account_alias,
        },
        "findings": [
            {"id": f.id, "type": f.type, "severity": f.severity, "count": f.count, "source": f.source}
            for f in incident.findings.values()
        ],
        "decision": (
            {
                "mode": incident.decision.mode.value,
                "rule": incident.decision.rule_id,
                "reason": incident.decision.reason,
            }
            if incident.decision
            else None
        ),
        "pre_state": doc["pre_state"],
        "plan": doc["plan"],
        "impact": doc["impact"],
        "actions": doc["actions"],
        "artifacts": doc["artifacts"],
        "approval": doc["approval"],
        "skip_reason": incident.skip_reason,
        "error": incident.error,
        "notification_error": incident.notification_error,
        "restore_report": incident.restore_report,
        "delivery_count": incident.delivery_count,
        "created_at": doc["created_at"],
        "contained_at": doc["contained_at"],
        "restored_at": doc["restored_at"],
        "timeline": doc["timeline"],
        "timeline_overflow": incident.timeline_overflow,
        "last_delivery_at": doc["last_delivery_at"],
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[s(h) for h in headers]] + [[s(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def show_incident(incident: Incident) -> str:
    d = incident_json(incident)
    r = d["resource"]
    out = [
        f"Incident   {s(d['incident_id'])}",
        f"Status     {d['status']}",
        f"Resource   {r['type']} {s(r['id'])}  (account {s(r['account'])}"
        + (f" {s(r['account_alias'])}" if r.get("account_alias") else "")
        + f", {s(r['region'])})",
        f"Created    {d['created_at']}",
    ]
    if d["contained_at"]:
        out.append(f"Contained  {d['contained_at']}")
    if d["restored_at"]:
        out.append(f"Restored   {d['restored_at']}")
    if d["decision"]:
        out.append(
            f"Decision   {d['decision']['mode']} by rule {s(d['decision']['rule'])}: {s(d['decision']['reason'])}"
        )
    if d["skip_reason"]:
        out.append(f"Skipped    {s(d['skip_reason'], 2000)}")
    if d["error"]:
        out.append(f"Error      {s(d['error'], 2000)}")
    out += [
        "",
        "Findings",
        table(
            ["id", "type", "severity", "count"],
            [[f["id"], f["type"], f["severity"], f["count"]] for f in d["findings"]],
        ),
    ]
    if incident.pre_state is not None:
        out += ["", "Pre-state", *pre_state_lines(incident)]
    if incident.actions:
        out += [
            "",
            "Actions",
            table(
                ["at", "action", "target", "status"],
                [[a.at.strftime("%H:%M:%S.%f")[:-3], a.action, a.target, a.status.value] for a in incident.actions],
            ),
        ]
    if incident.approval:
        a = incident.approval
        who = f" by {s(a.decided_by)} via {a.via} from {s(a.source_ip or '-')}" if a.decided_by else ""
        out += ["", f"Approval   {a.decision or 'pending'}{who} (expires {a.expires_at:%Y-%m-%d %H:%M} UTC)"]
    if incident.restore_report:
        out += ["", "Restore notes"] + [f"  {s(cli_flags(line), 2000)}" for line in incident.restore_report]
    timeline = [f"  {t.at:%Y-%m-%d %H:%M:%S} {s(t.event)} {s(t.detail, 1000)}".rstrip() for t in incident.timeline]
    if incident.timeline_overflow:
        timeline.insert(TIMELINE_HEAD, f"  ... {incident.timeline_overflow} entries between these not kept")
    out += ["", "Timeline", *timeline]
    return "\n".join(out)


# The restore options as the Lambda's notes name them, and as the CLI takes them.
RESTORE_FLAGS = {"reactivate_keys": "--reactivate-keys", "lift_session_revocation": "--lift-session-revocation"}
_RESTORE_OPTION = re.compile(r"\b(" + "|".join(RESTORE_FLAGS) + r")\b")


def cli_flags(text: str) -> str:
    """A note from the Lambda (`restore with reactivate_keys ...`) as the CLI user acts on it (`restore with
    --reactivate-keys`). Recorded action names (`lift_session_revocation` in a timeline) read the same way."""
    return _RESTORE_OPTION.sub(lambda m: RESTORE_FLAGS[m.group(1)], text)


def restored(incident: Incident) -> str:
    return f"{incident.incident_id} {incident.status.value}" + "".join(
        f"\n  note: {s(cli_flags(n), 2000)}" for n in incident.restore_report
    )


def triage_reason(outcome: str, incident: Incident) -> str:
    """Why triage did what it did with a finding, in a few words (`findings send`)."""
    if outcome == "absorbed":
        return "an open incident already owns this resource or finding"
    if outcome != "new":  # skipped; protected and unhandled (high severity, nothing to contain) are emailed
        reason = s(incident.skip_reason or "no reason recorded", 2000)
        label = {"skipped": "", "unhandled": "not contained, the team is emailed: "}.get(outcome, f"{outcome}: ")
        return label + reason
    if incident.decision is not None:
        return f"rule {s(incident.decision.rule_id)}: {incident.decision.mode.value}"
    return ""


def pre_state_lines(incident: Incident) -> list[str]:
    pre = incident.pre_state
    if isinstance(pre, Ec2PreState):
        lines = [f"  {s(e.eni_id)}: {', '.join(map(s, e.groups)) or '(no groups)'}" for e in pre.enis]
        lines.append(
            f"  termination protection: {pre.disable_api_termination}, stop protection: {pre.disable_api_stop}"
        )
        if pre.asg:
            lines.append(
                f"  auto scaling: {s(pre.asg.name)} {s(pre.asg.lifecycle_state)} (desired {pre.asg.desired_capacity})"
            )
        return lines
    if isinstance(pre, IamUserPreState):
        return [
            f"  keys: {', '.join(f'{s(k.access_key_id)} {k.status}' for k in pre.keys) or 'none'}",
            f"  attached policies: {', '.join(map(s, pre.attached_policies)) or 'none'}",
            f"  inline policies: {', '.join(map(s, pre.inline_policies)) or 'none'}",
        ]
    if isinstance(pre, IamRolePreState):
        return [
            f"  attached policies: {', '.join(map(s, pre.attached_policies)) or 'none'}",
            f"  inline policies: {', '.join(map(s, pre.inline_policies)) or 'none'}",
        ]
    if isinstance(pre, S3PreState):
        return [
            f"  bucket policy: {s(pre.policy, None) if pre.policy else 'none'}",
            f"  block public access: {s(pre.public_access_block) if pre.public_access_block else 'not configured'}",
            f"  ownership controls: {s(pre.ownership_controls) if pre.ownership_controls else 'not configured'}",
            f"  ACL: {s(pre.acl.describe(), 2000) if pre.acl else 'not recorded'}",
        ]
    return []


def dump(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)
