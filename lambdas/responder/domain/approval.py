"""Approval links: signed, expiring, single-use; a GET shows a confirm page, only a POST decides.

A link carries the approval id, the incident id, an expiry and an HMAC-SHA256 signature over the three,
plus the proposed decision, which only preselects a button. The Step Functions task token never leaves the server: it is stored on the
approval record and used only after a valid POST. The form carries a per-approval nonce that the GET
page renders, so a POST that did not come from the page is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlencode

from responder.domain import facts
from responder.domain.safe_text import has_hidden, one_line
from responder.models.incident import FindingSummary, Incident

Decision = Literal["approve", "reject"]
MAX_NAME = 100
MAX_FORM_FIELDS = 20  # the page's form has six


class LinkError(ValueError):
    """A link or form that must not decide anything. `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SignedLink:
    approval_id: str
    incident_id: str
    decision: Decision
    expires: int
    signature: str


def new_approval_id() -> str:
    return secrets.token_urlsafe(18)


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def _message(approval_id: str, incident_id: str, decision: str, expires: int) -> bytes:
    # Each link signs its own decision: the Reject link can only reject, and a decision posted with another
    # link's signature is refused.
    return f"v2|{approval_id}|{incident_id}|{decision}|{expires}".encode()


def sign(key: bytes, approval_id: str, incident_id: str, decision: Decision, expires: int) -> SignedLink:
    sig = hmac.new(key, _message(approval_id, incident_id, decision, expires), hashlib.sha256).hexdigest()
    return SignedLink(approval_id, incident_id, decision, expires, sig)


def link_query(link: SignedLink) -> str:
    return urlencode(
        {"incident": link.incident_id, "decision": link.decision, "exp": link.expires, "sig": link.signature}
    )


def link_url(base_url: str, link: SignedLink) -> str:
    return f"{base_url.rstrip('/')}/approvals/{link.approval_id}?{link_query(link)}"


def verify(key: bytes, approval_id: str, params: dict[str, str], now: int | None = None) -> SignedLink:
    """Check a link's parameters; raises LinkError (4xx) for anything forged, tampered or expired."""
    incident_id = params.get("incident", "")
    decision = params.get("decision", "")
    sig = params.get("sig", "")
    try:
        expires = int(params.get("exp", ""))
    except ValueError:
        raise LinkError(400, "The link is incomplete or malformed.") from None
    if not incident_id or decision not in ("approve", "reject") or not sig or len(sig) != 64:
        raise LinkError(400, "The link is incomplete or malformed.")
    expected = hmac.new(key, _message(approval_id, incident_id, decision, expires), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sig):
        raise LinkError(403, "The link's signature is not valid for this decision.")
    if (now if now is not None else int(time.time())) >= expires:
        raise LinkError(410, "The link has expired.")
    return SignedLink(approval_id, incident_id, decision, expires, sig)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DecisionForm:
    decision: Decision
    name: str
    nonce: str
    incident: str
    exp: str
    sig: str


def parse_form(body: str) -> DecisionForm:
    try:
        parsed = parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:  # more than MAX_FORM_FIELDS fields
        raise LinkError(400, "The form has too many fields; submit it from the approval page.") from None
    fields = {k: v[0] for k, v in parsed.items()}
    decision = fields.get("decision", "")
    name = " ".join(fields.get("name", "").split())
    if decision not in ("approve", "reject"):
        raise LinkError(400, "Choose Approve or Reject.")
    if not fields.get("nonce"):
        raise LinkError(403, "The form is missing its nonce; open the link again and use the page.")
    if not name:
        raise LinkError(400, "Type your name so that the decision records who made it.")
    if len(name) > MAX_NAME or has_hidden(name):
        raise LinkError(400, f"The name must be at most {MAX_NAME} printable characters.")
    return DecisionForm(
        decision=decision,  # type: ignore[arg-type]
        name=name,
        nonce=fields["nonce"],
        incident=fields.get("incident", ""),
        exp=fields.get("exp", ""),
        sig=fields.get("sig", ""),
    )


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:760px;margin:2em auto;padding:0 1em;color:#1b1f24}"
    "h1{font-size:1.4em}table{border-collapse:collapse;width:100%}td{border-top:1px solid #ddd;padding:.35em;"
    "vertical-align:top}td:first-child{font-weight:600;width:30%}li{margin:.2em 0}"
    "button{font-size:1em;padding:.5em 1.4em;margin-right:1em;border-radius:4px;border:1px solid #888;cursor:pointer}"
    ".approve{background:#1a7f37;color:#fff}.reject{background:#cf222e;color:#fff}.note{color:#57606a}"
)


def _e(value: object) -> str:
    """A value for the page: one line, controls and bidi characters shown as escapes, then HTML-escaped."""
    return html.escape(one_line(value, None))


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        '<meta name=robots content="noindex,nofollow">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _finding_item(f: FindingSummary, region: str) -> str:
    e = _e
    label = facts.severity_label(f.severity)
    seen = ""
    if f.first_seen or f.last_seen:
        first = f"{f.first_seen:%Y-%m-%d %H:%M} UTC" if f.first_seen else "?"
        last = f"{f.last_seen:%Y-%m-%d %H:%M} UTC" if f.last_seen else "?"
        seen = f"<br>first seen {first}, last seen {last}" + (f", {f.count} times" if f.count > 1 else "")
    remote = f"<br>remote IP {e(f.remote_ip)}" if f.remote_ip else ""
    link = facts.console_link(f, region)
    console = (
        f'<br><a href="{html.escape(link)}" rel=noreferrer>Open the finding in the AWS console</a>' if link else ""
    )
    title = f" - {e(f.title)}" if f.title else ""
    return (
        f"<li><b>{e(f.type)}</b> <span class=severity>{label} ({f.severity:.1f})</span>{title}"
        f"<br>id {e(f.id)}{seen}{remote}{console}</li>"
    )


def confirm_page(incident: Incident, link: SignedLink, nonce: str, expires_text: str, switch: SignedLink) -> str:
    """The page of one link: it shows and submits only that link's decision (so Enter can never submit the
    other one); `switch` is the other decision's signed link, offered apart as a plain link (a GET, which
    decides nothing)."""
    e = _e
    findings = "".join(_finding_item(f, incident.resource.region) for f in incident.findings.values())
    name = facts.resource_name(incident)
    tags = ", ".join(f"{k}={v}" for k, v in sorted(incident.resource_tags.items())[:20])
    actions = "".join(f"<li>{e(a.description)}</li>" for a in incident.plan) or "<li>none</li>"
    impact = "".join(f"<li>{e(line)}</li>" for line in (incident.impact.lines() if incident.impact else []))
    rule = incident.decision.rule_id if incident.decision else "?"
    hidden = "".join(
        f'<input type=hidden name={k} value="{html.escape(str(v))}">'
        for k, v in (
            ("nonce", nonce),
            ("incident", link.incident_id),
            ("exp", link.expires),
            ("sig", link.signature),
            ("decision", link.decision),
        )
    )
    approving = link.decision == "approve"
    button = (
        "<button type=submit class=approve id=approve>Approve containment</button>"
        if approving
        else "<button type=submit class=reject id=reject>Reject containment</button>"
    )
    other = "Reject instead (open the Reject page)" if approving else "Approve instead (open the Approve page)"
    body = (
        f"<h1>Containment approval: {e(incident.resource.type.value)} {e(incident.resource.id)}"
        f"{' (' + e(name) + ')' if name else ''}</h1>"
        f"<p id=effect><b>{e(facts.effect(incident))}</b></p>"
        f"<p id=timeout>{e(facts.if_nobody_decides(incident, expires_text))}</p>"
        f"<table><tr><td>Incident</td><td id=incident-id>{e(incident.incident_id)}</td></tr>"
        f"<tr><td>Name (from the resource)</td><td id=resource-name>{e(name) if name else '(no Name tag)'}</td></tr>"
        f"<tr><td>Tags (from the resource)</td><td id=resource-tags>{e(tags) if tags else '(none)'}</td></tr>"
        f"<tr><td>Account / region</td><td>{e(incident.resource.account)} / {e(incident.resource.region)}</td></tr>"
        f"<tr><td>Status</td><td id=status>{e(incident.status.value)}</td></tr>"
        f"<tr><td>Rule</td><td>{e(rule)}</td></tr>"
        f"<tr><td>Link expires</td><td>{e(expires_text)}</td></tr></table>"
        f"<h2>Findings</h2><ul id=findings>{findings}</ul>"
        f"<h2>Planned actions</h2><ol id=actions>{actions}</ol>"
        f"<h2>Impact</h2><ul id=impact>{impact}</ul>"
        f'<form method=post action="{e(link.approval_id)}" id=decision-form>{hidden}'
        "<p><label>Your name (recorded with the decision): "
        "<input name=name id=name required maxlength=100 autocomplete=name></label></p>"
        f"<p>{button}</p></form>"
        f"<p class=note>This page {'approves' if approving else 'rejects'}. "
        f'<a id=switch href="?{html.escape(link_query(switch))}">{other}</a></p>'
        "<p class=note>Opening this page changes nothing. Only the buttons decide, once.</p>"
    )
    return _page("Containment approval", body)


def message_page(title: str, message: str, status_text: str = "") -> str:
    e = _e
    extra = f"<p id=status>{e(status_text)}</p>" if status_text else ""
    return _page(title, f"<h1>{e(title)}</h1><p id=message>{e(message)}</p>{extra}")


@dataclass(frozen=True)
class Page:
    status: int
    html: str
