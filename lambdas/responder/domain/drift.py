"""Drift after containment: re-read every CONTAINED resource on a schedule and raise it when any part reopened.

Whoever controls the resource, or anyone allowed to, can undo containment after it was verified: add a rule
to the isolation group, move an ENI back, detach the deny-all, delete the bucket statement. Every CONTAINED
incident is verified again with the same content checks as the workflow's Verify step (documents, statements,
group rules and memberships, read back). A change in what is found is recorded on the incident, counted
and emailed; where the incident's preference says `on_drift: recontain`, containment is applied again and
verified. An incident that could not be read is reported apart, and the run fails once all were tried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from responder.adapters.incidents import IncidentStore
from responder.domain import kinds, messages
from responder.domain.kinds import Gateways, Settings
from responder.domain.recorder import Recorder
from responder.domain.workflow import decision_of
from responder.models.incident import Incident, Status

Send = Callable[[messages.Message, Incident], None]


@dataclass
class DriftReport:
    checked: int = 0
    reopened: list[str] = field(default_factory=list)  # incident ids found reopened in this run
    recontained: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


class ReverifyFailed(RuntimeError):
    """Some contained incidents could not be re-verified (their account could not be reached, a read failed)."""


def reverify_all(store: IncidentStore, gws: Gateways, settings: Settings, send: Send, limit: int) -> DriftReport:
    report = DriftReport()
    for incident in store.list(status=Status.CONTAINED, limit=limit):
        report.checked += 1
        try:
            _reverify(store, gws, settings, send, incident, report)
        except Exception as exc:  # one unreadable incident must not hide the others' drift
            report.errors[incident.incident_id] = f"{type(exc).__name__}: {exc}"[:500]
    return report


def _reverify(
    store: IncidentStore, gws: Gateways, settings: Settings, send: Send, incident: Incident, report: DriftReport
) -> None:
    decision = decision_of(incident)
    problems = kinds.verify(gws, incident, decision, settings)
    if not problems:
        if incident.drift:
            report.cleared.append(incident.incident_id)
            _record(store, incident.incident_id, [], "drift_cleared", "containment holds again")
        else:
            _record(store, incident.incident_id, None, None, None)
        return
    report.reopened.append(incident.incident_id)
    recontain = decision.actions.on_drift == "recontain"
    if problems != incident.drift:
        detail = "; ".join(problems)
        updated = _record(store, incident.incident_id, problems, "drift", detail)
        send(messages.drift(updated, recontain), updated)
    if recontain:
        rec = Recorder()
        try:
            kinds.contain(gws, incident, decision, settings, rec)
        finally:
            store.update(incident.incident_id, rec.flush_into)
        left = kinds.verify(gws, store.get(incident.incident_id), decision, settings)
        if left:
            _record(store, incident.incident_id, left, "recontain_failed", "; ".join(left))
            raise ReverifyFailed(f"re-containment left: {'; '.join(left)}")
        report.recontained.append(incident.incident_id)
        _record(store, incident.incident_id, [], "recontained", "containment applied again and verified")


def _record(
    store: IncidentStore, incident_id: str, drift: list[str] | None, event: str | None, detail: str | None
) -> Incident:
    """Note the check on the incident (only while it is still CONTAINED: a restore may have begun since)."""

    def apply(inc: Incident) -> None:
        if inc.status is not Status.CONTAINED:
            return
        inc.drift_checked_at = datetime.now(UTC)
        if drift is not None:
            inc.drift = drift
        if event is not None:
            inc.log(event, detail or "")

    return store.update(incident_id, apply)
