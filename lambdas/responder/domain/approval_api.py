"""The approval web flow: GET renders the confirm page, POST decides once."""

from __future__ import annotations

import hmac
import re
import time
from datetime import UTC, datetime

from responder.adapters.incidents import IncidentNotFound, IncidentStore
from responder.adapters.messaging import SigningKey, WorkflowCallbacks
from responder.domain.approval import (
    Decision,
    LinkError,
    Page,
    confirm_page,
    message_page,
    parse_form,
    sign,
    verify,
)
from responder.domain.workflow import Decider, StepError, apply_decision
from responder.models.incident import Status

MAX_FORM_BYTES = 4096


_INCIDENT_ID = re.compile(r"inc-[0-9A-Za-z-]{1,80}")


def _error(exc: LinkError, incident_id: str | None = None) -> Page:
    """A refusal, with what to do next; the incident the link names when it looks like one (the link may be
    forged, so it is labelled as named by the link, not confirmed)."""
    titles = {
        400: "Bad request",
        403: "Not allowed",
        404: "Not found",
        409: "Already decided",
        410: "Link expired",
    }
    named = incident_id if incident_id and _INCIDENT_ID.fullmatch(incident_id) else None
    where = f"The link names incident {named}. " if named else ""
    if exc.status == 409:
        step = "Nothing more is needed here; the decision already made stands."
    else:
        target = named or "ID"
        step = (
            f"Next: check the incident with `responder incidents show {target}`, and decide it with "
            f"`responder incidents approve {target} --as NAME` (or reject) while it is pending."
        )
    return Page(exc.status, message_page(titles.get(exc.status, "Not possible"), str(exc), where + step))


def show(store: IncidentStore, key: SigningKey, approval_id: str, params: dict[str, str]) -> Page:
    """Never decides anything, whatever the parameters say."""
    try:
        secret = key.get()
        link = verify(secret, approval_id, params)
        approval = store.get_approval(approval_id)
        if approval is None or approval.incident_id != link.incident_id:
            raise LinkError(404, "No such approval.")
        incident = store.get(link.incident_id)
        if approval.status != "PENDING" or incident.status is not Status.PENDING_APPROVAL:
            decided = incident.approval.decided_by if incident.approval and incident.approval.decided_by else None
            who = f" by {decided}" if decided else ""
            return Page(
                409,
                message_page(
                    "Already decided",
                    f"This approval is no longer pending ({approval.status.lower()}{who}).",
                    f"Incident {incident.incident_id} is {incident.status.value}.",
                ),
            )
        expires = datetime.fromtimestamp(link.expires, UTC).strftime("%Y-%m-%d %H:%M UTC")
        other: Decision = "reject" if link.decision == "approve" else "approve"
        switch = sign(secret, approval_id, link.incident_id, other, link.expires)
        return Page(200, confirm_page(incident, link, approval.nonce, expires, switch))
    except LinkError as exc:
        return _error(exc, params.get("incident"))
    except IncidentNotFound:
        return _error(LinkError(404, "No such incident."), params.get("incident"))


def decide(
    store: IncidentStore,
    callbacks: WorkflowCallbacks,
    key: SigningKey,
    approval_id: str,
    body: str,
    source_ip: str | None,
    user_agent: str | None,
) -> Page:
    try:
        if len(body.encode()) > MAX_FORM_BYTES:
            raise LinkError(400, "The form is too large.")
        form = parse_form(body)
        fields = {"incident": form.incident, "exp": form.exp, "sig": form.sig, "decision": form.decision}
        link = verify(key.get(), approval_id, fields)  # the decision posted must be the one its link signed
        approval = store.get_approval(approval_id)
        if approval is None or approval.incident_id != link.incident_id:
            raise LinkError(404, "No such approval.")
        if not hmac.compare_digest(approval.nonce, form.nonce):
            raise LinkError(403, "The form nonce does not match; open the link again and use the page.")
        incident = apply_decision(
            store,
            callbacks,
            approval_id,
            form.decision,
            Decider(name=form.name, source_ip=source_ip, user_agent=user_agent, via="link"),
            int(time.time()),
        )
    except LinkError as exc:
        return _error(exc)
    except StepError as exc:
        return _error(LinkError(409, str(exc)))
    verb = "approved" if form.decision == "approve" else "rejected"
    follow = (
        "Containment is running; you will get an email when it is verified. To undo it later: "
        f"responder restore {incident.incident_id}"
        if form.decision == "approve"
        else "Nothing will be changed. To contain it after all, use the Security Hub action Contain resource "
        "on the finding, or send the finding again once the preference allows it."
    )
    r = incident.resource
    return Page(
        200,
        message_page(
            f"Containment {verb}",
            f"Incident {incident.incident_id} ({r.type.value} {r.id}) was {verb} by {form.name}. {follow}",
            f"Status: {incident.status.value}",
        ),
    )
