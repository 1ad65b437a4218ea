"""The workflow steps that change only the incident: evaluate, record, approval, notify, finalize, restore.

Each step is a function of the incident id and its dependencies. Every step that changes the incident
goes through `IncidentStore.update` (optimistic locking). The steps that read or change the resource
itself (plan, contain, verify, restore) are in `resource_steps`, so the functions that never touch a
resource do not import the resource kinds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from responder.adapters.incidents import ApprovalItem, IncidentStore
from responder.adapters.messaging import Notifier, SigningKey, TaskGone, WorkflowCallbacks
from responder.adapters.preferences import PreferenceStore
from responder.domain import approval as links
from responder.domain import messages
from responder.domain.preferences import decide
from responder.models.common import ResourceType
from responder.models.incident import (
    CLOSED_STATUSES,
    RESTORABLE_STATUSES,
    SETTLED_STATUSES,
    ApprovalRecord,
    Incident,
    Plan,
    RestoreOptions,
    Status,
)
from responder.models.preferences import DEFAULT_RULE_ID, Decision, MatchFacts, Mode, OnTimeout

OPEN_STATUSES = (Status.CONTAINING, Status.CONTAINED, Status.FAILED, Status.RESTORING)


class StepError(RuntimeError):
    """A step cannot proceed; the message says why. The workflow fails loudly with it."""


class WrongStatus(StepError):
    pass


def require_status(incident: Incident, allowed: set[Status] | frozenset[Status], step: str) -> None:
    if incident.status not in allowed:
        raise WrongStatus(
            f"{step}: incident {incident.incident_id} is {incident.status.value}; "
            f"expected one of {', '.join(sorted(s.value for s in allowed))}"
        )


def close_if_closed(store: IncidentStore, incident: Incident) -> None:
    if incident.status in CLOSED_STATUSES:
        store.release_claim(incident.resource.key, incident.incident_id)


# -- evaluate -------------------------------------------------------------------------------------
def evaluate(store: IncidentStore, prefs: PreferenceStore, incident_id: str) -> Decision:
    incident = store.get(incident_id)
    require_status(incident, {Status.NEW}, "evaluate")
    top = incident.top_finding()
    facts = MatchFacts(
        resource_type=incident.resource.type,
        finding_type=top.type,
        severity=top.severity,
        account=incident.resource.account,
        tags=incident.resource_tags,
        source="custom_action" if any(f.source == "custom_action" for f in incident.findings.values()) else top.source,
        finding_class=top.finding_class,
    )
    if incident.resource.type is ResourceType.IAM_ROOT:
        decision = Decision(
            mode=Mode.NOTIFY,
            on_timeout=OnTimeout.EXPIRE,
            rule_id=f"{DEFAULT_RULE_ID}-root",
            reason="the root user cannot be contained by an IAM policy: notify only",
        )
    else:
        decision = decide(prefs.all(), facts)

    def apply(inc: Incident) -> None:
        require_status(inc, {Status.NEW}, "evaluate")
        inc.decision = decision
        inc.log("decided", decision.reason)
        if decision.mode is Mode.IGNORE:
            inc.status = Status.IGNORED

    updated = store.update(incident_id, apply)
    close_if_closed(store, updated)
    return decision


# -- record ---------------------------------------------------------------------------------------
def decision_of(incident: Incident) -> Decision:
    if incident.decision is None:
        raise StepError(f"incident {incident.incident_id} has no decision")
    return incident.decision


def record(store: IncidentStore, incident_id: str, the_plan: Plan) -> Status:
    """Write the plan and pre-state, once. A retry with the same pre-state is a no-op."""

    def apply(inc: Incident) -> None:
        if inc.pre_state is not None:
            if inc.pre_state == the_plan.pre_state:
                return
            raise StepError(f"incident {inc.incident_id} already has a recorded pre-state; refusing to overwrite it")
        require_status(inc, {Status.NEW}, "record")
        decision = decision_of(inc)
        inc.plan = the_plan.actions
        inc.impact = the_plan.impact
        inc.pre_state = the_plan.pre_state
        inc.waf = the_plan.waf
        inc.account_alias = the_plan.account_alias
        if decision.dry_run or decision.mode is Mode.NOTIFY or the_plan.pre_state is None:
            inc.status = Status.NOTIFIED
        elif decision.mode is Mode.AUTO:
            inc.status = Status.CONTAINING
        else:
            inc.status = Status.PENDING_APPROVAL
        inc.log("pre_state_recorded", f"{len(the_plan.actions)} planned action(s); status {inc.status.value}")

    updated = store.update(incident_id, apply)
    close_if_closed(store, updated)
    return updated.status


# -- approval -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApprovalConfig:
    api_base_url: str
    timeout_seconds: int


def request_approval(
    store: IncidentStore,
    notifier: Notifier,
    key: SigningKey,
    cfg: ApprovalConfig,
    incident_id: str,
    task_token: str,
) -> str:
    incident = store.get(incident_id)
    require_status(incident, {Status.PENDING_APPROVAL}, "request approval")
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=cfg.timeout_seconds)
    approval_id = links.new_approval_id()
    store.put_approval(
        ApprovalItem(
            approval_id=approval_id,
            incident_id=incident_id,
            task_token=task_token,
            nonce=links.new_nonce(),
            expires_at=int(expires.timestamp()),
        )
    )

    def apply(inc: Incident) -> None:
        inc.approval = ApprovalRecord(approval_id=approval_id, requested_at=now, expires_at=expires)
        inc.log("approval_requested", f"expires {expires:%Y-%m-%d %H:%M} UTC")

    updated = store.update(incident_id, apply)
    exp = int(expires.timestamp())
    approve = links.link_url(cfg.api_base_url, links.sign(key.get(), approval_id, incident_id, "approve", exp))
    reject = links.link_url(cfg.api_base_url, links.sign(key.get(), approval_id, incident_id, "reject", exp))
    msg = messages.approval_request(updated, approve, reject, f"at {expires:%Y-%m-%d %H:%M} UTC")
    notifier.send(msg.subject, msg.body, {"incident_id": incident_id, "kind": "approval_request"})
    return approval_id


@dataclass(frozen=True)
class Decider:
    name: str
    source_ip: str | None = None
    user_agent: str | None = None
    via: Literal["link", "cli"] = "link"


def apply_decision(
    store: IncidentStore,
    callbacks: WorkflowCallbacks,
    approval_id: str,
    decision: links.Decision,
    who: Decider,
    now_epoch: int | None = None,
) -> Incident:
    """Decide a pending approval once: record who, when and from where, then resume the workflow."""
    now_epoch = now_epoch if now_epoch is not None else int(time.time())
    taken = store.decide_approval(approval_id, "APPROVED" if decision == "approve" else "REJECTED", now_epoch)
    if taken is None:
        raise links.LinkError(409, "This approval was already decided, has expired, or does not exist.")
    decided_at = datetime.fromtimestamp(now_epoch, UTC)

    def apply(inc: Incident) -> None:
        require_status(inc, {Status.PENDING_APPROVAL}, "decide")
        if inc.approval is None or inc.approval.approval_id != approval_id:
            raise StepError("the approval does not belong to this incident")
        inc.approval.decision = "approved" if decision == "approve" else "rejected"
        inc.approval.decided_by = who.name
        inc.approval.decided_at = decided_at
        inc.approval.source_ip = who.source_ip
        inc.approval.user_agent = (who.user_agent or "")[:300] or None
        inc.approval.via = who.via
        inc.status = Status.CONTAINING if decision == "approve" else Status.REJECTED
        inc.log(f"{inc.approval.decision}", f"by {who.name} via {who.via}")

    updated = store.update(taken.incident_id, apply)
    try:
        callbacks.succeed(taken.task_token, {"decision": updated.approval.decision if updated.approval else decision})
    except TaskGone as exc:
        raise links.LinkError(409, "The workflow is no longer waiting for this decision (it timed out).") from exc
    close_if_closed(store, updated)
    return updated


# -- notify and finalize --------------------------------------------------------------------------
def notify(store: IncidentStore, notifier: Notifier, incident_id: str) -> Incident:
    incident = store.get(incident_id)
    msg = messages.outcome(incident)
    notifier.send(msg.subject, msg.body, {"incident_id": incident_id, "kind": incident.status.value.lower()})
    return incident


def finalize(
    store: IncidentStore, incident_id: str, outcome: Literal["FAILED", "EXPIRED"], error: str | None = None
) -> Incident:
    def apply(inc: Incident) -> None:
        if outcome == "EXPIRED":
            require_status(inc, {Status.PENDING_APPROVAL}, "expire")
            if inc.approval:
                inc.approval.decision = "expired"
                inc.approval.via = "timeout"
            inc.status = Status.EXPIRED
            inc.log("expired", "no decision before the approval timeout")
        elif inc.status in SETTLED_STATUSES:
            # The outcome was settled (containment verified, or the incident closed) before the failure:
            # what failed is the step after it, the notification. A CONTAINED resource stays CONTAINED
            # (and restorable); the failure is recorded beside it.
            inc.notification_error = error or "unknown error"
            inc.log("notification_failed", inc.notification_error)
        else:
            inc.status = Status.FAILED
            inc.error = error or "unknown error"
            inc.log("failed", inc.error)

    incident = store.get(incident_id)
    if outcome == "EXPIRED":
        store.expire_approval(incident)
    updated = store.update(incident_id, apply)
    close_if_closed(store, updated)
    return updated


# -- restore --------------------------------------------------------------------------------------
def restore_begin(store: IncidentStore, incident_id: str, options: RestoreOptions) -> Literal["restore", "noop"]:
    incident = store.get(incident_id)
    if incident.status is Status.RESTORED:
        return "noop"
    if incident.status not in RESTORABLE_STATUSES:
        raise WrongStatus(
            f"restore refused: incident {incident_id} is {incident.status.value}; "
            "only CONTAINED or FAILED incidents can be restored"
        )

    def apply(inc: Incident) -> None:
        require_status(inc, RESTORABLE_STATUSES, "restore")
        inc.status = Status.RESTORING
        inc.error = None
        inc.restore_options = options
        inc.log("restore_started", options.model_dump_json())

    store.update(incident_id, apply)
    return "restore"
