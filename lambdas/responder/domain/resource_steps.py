"""The workflow steps that read or change the resource: plan, contain, verify, restore apply and verify.

Every step that changes a resource does so only after the pre-state is durably recorded (write-ahead):
`contain` refuses an incident without one and refreshes it before the first mutating call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from responder.adapters.incidents import IncidentStore
from responder.domain import kinds
from responder.domain.errors import ContainmentError, RestoreMismatch
from responder.domain.kinds import Gateways, Settings
from responder.domain.recorder import Recorder
from responder.domain.workflow import OPEN_STATUSES, StepError, close_if_closed, decision_of, require_status
from responder.models.incident import Incident, Plan, RestoreOptions, Status
from responder.models.preferences import OnTimeout


def plan(store: IncidentStore, gws: Gateways, incident_id: str, settings: Settings) -> Plan:
    incident = store.get(incident_id)
    require_status(incident, {Status.NEW}, "plan")
    the_plan = kinds.plan(gws, incident, decision_of(incident), settings)
    return the_plan.model_copy(update={"account_alias": gws.account_alias(incident)})


# -- contain and verify ---------------------------------------------------------------------------
def contain(
    store: IncidentStore,
    gws: Gateways,
    incident_id: str,
    trigger: Literal["auto", "approved", "timeout"],
    settings: Settings,
) -> Incident:
    incident = store.get(incident_id)
    decision = decision_of(incident)
    if trigger == "timeout" and decision.on_timeout is not OnTimeout.CONTAIN:
        raise StepError("approval timed out and the preference does not say on_timeout: contain")

    def start(inc: Incident) -> None:
        allowed = {Status.CONTAINING} | ({Status.PENDING_APPROVAL} if trigger == "timeout" else set())
        require_status(inc, allowed, "contain")
        if inc.pre_state is None:
            raise StepError(f"incident {inc.incident_id} has no recorded pre-state; refusing to change anything")
        if trigger == "timeout" and inc.approval and inc.approval.decision is None:
            inc.approval.decision = "expired"
            inc.approval.via = "timeout"
            inc.log("approval_timed_out", "preference says on_timeout: contain")
        inc.status = Status.CONTAINING
        if inc.containment_started_at is None:
            # Write-ahead: the resource may have changed while approval was pending. Re-read it and record
            # the fresh pre-state before the first mutating call. Never after containment has begun.
            fresh = kinds.capture(gws, inc, settings)
            if fresh is not None and fresh != inc.pre_state:
                inc.pre_state_at_plan = inc.pre_state
                inc.pre_state = fresh
                inc.log("pre_state_refreshed", "the resource changed after planning; recorded its current state")
            inc.containment_started_at = datetime.now(UTC)
            inc.log("containment_started", trigger)

    if trigger == "timeout":
        store.expire_approval(incident)
    incident = store.update(incident_id, start)
    rec = Recorder()
    try:
        kinds.contain(gws, incident, decision, settings, rec)
    finally:
        store.update(incident_id, rec.flush_into)
    return store.get(incident_id)


def verify(store: IncidentStore, gws: Gateways, incident_id: str, settings: Settings) -> Incident:
    incident = store.get(incident_id)
    require_status(incident, {Status.CONTAINING}, "verify")
    problems = kinds.verify(gws, incident, decision_of(incident), settings)
    if problems:
        raise ContainmentError("containment not verified: " + "; ".join(problems))

    def apply(inc: Incident) -> None:
        require_status(inc, {Status.CONTAINING}, "verify")
        inc.status = Status.CONTAINED
        inc.contained_at = datetime.now(UTC)
        inc.log("contained", "verified")

    return store.update(incident_id, apply)


# -- restore --------------------------------------------------------------------------------------
def _waf_still_needed(store: IncidentStore, incident: Incident) -> bool:
    if incident.waf is None:
        return False
    for status in OPEN_STATUSES:
        for other in store.list(status=status):
            if (
                other.incident_id != incident.incident_id
                and other.waf is not None
                and other.waf.ip_set_arn == incident.waf.ip_set_arn
                and other.waf.address == incident.waf.address
            ):
                return True
    return False


def _revocation_still_needed(store: IncidentStore, incident: Incident) -> str | None:
    """Another open incident that revoked the sessions of the same role (one role serves a fleet of
    instances): lifting the revocation would hand its stolen credentials back. Its id, else None."""
    role = kinds.revoked_role(incident)
    if role is None:
        return None
    for status in OPEN_STATUSES:
        for other in store.list(status=status):
            if (
                other.incident_id != incident.incident_id
                and other.resource.account == incident.resource.account
                and kinds.revoked_role(other) == role
            ):
                return other.incident_id
    return None


def restore_apply(store: IncidentStore, gws: Gateways, incident_id: str, settings: Settings) -> Incident:
    incident = store.get(incident_id)
    require_status(incident, {Status.RESTORING}, "restore")
    rec = Recorder()
    report: list[str] = []
    options = incident.restore_options or RestoreOptions()
    holder = _revocation_still_needed(store, incident) if options.lift_session_revocation else None
    if holder is not None:
        # Recorded as the options restore ran with, so that its verification expects the revocation kept.
        options = options.model_copy(update={"lift_session_revocation": False})
    try:
        report = kinds.restore(gws, incident, settings, options, _waf_still_needed(store, incident), rec)
        if holder is not None:
            report.append(
                f"role {kinds.revoked_role(incident)}: session revocation kept although lifting was asked: open "
                f"incident {holder} revoked the same role's sessions and still relies on it"
            )
    finally:

        def apply(inc: Incident) -> None:
            rec.flush_into(inc)
            inc.restore_report = report
            if holder is not None:
                inc.restore_options = options

        store.update(incident_id, apply)
    return store.get(incident_id)


def restore_verify(store: IncidentStore, gws: Gateways, incident_id: str, settings: Settings) -> Incident:
    incident = store.get(incident_id)
    require_status(incident, {Status.RESTORING}, "verify restore")
    mismatches = kinds.verify_restored(gws, incident, settings, incident.restore_options or RestoreOptions())
    if mismatches:
        raise RestoreMismatch("restore not verified: " + "; ".join(mismatches))

    def apply(inc: Incident) -> None:
        require_status(inc, {Status.RESTORING}, "verify restore")
        inc.status = Status.RESTORED
        inc.restored_at = datetime.now(UTC)
        inc.log("restored", "every recorded attribute equals its pre-state")

    updated = store.update(incident_id, apply)
    close_if_closed(store, updated)
    return updated
