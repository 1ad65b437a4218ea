"""What to write back to Security Hub when an incident changes state."""

from __future__ import annotations

from dataclasses import dataclass, field

from responder.models.finding import SecurityHubRef, SecurityHubV2Ref
from responder.models.incident import Incident, Status

# Set only when the incident's preference asks for it (actions.securityhub_workflow).
WORKFLOW_FOR = {Status.PENDING_APPROVAL: "NOTIFIED", Status.CONTAINED: "RESOLVED"}
# The same for v2 findings, as OCSF status ids: 2 In Progress, 4 Resolved (Security Hub API Reference,
# BatchUpdateFindingsV2 StatusId).
STATUS_ID_FOR = {Status.PENDING_APPROVAL: 2, Status.CONTAINED: 4}


@dataclass(frozen=True)
class WriteBack:
    refs: list[SecurityHubRef]
    note: str
    workflow_status: str | None
    refs_v2: list[SecurityHubV2Ref] = field(default_factory=list)
    status_id: int | None = None


def write_back_for(incident: Incident) -> WriteBack | None:
    """The note (always) and workflow status (when the preference says so) for the incident's Security
    Hub findings, ASFF and v2; None when none of its findings came through Security Hub."""
    refs = list(
        {f.securityhub.finding_arn: f.securityhub for f in incident.findings.values() if f.securityhub}.values()
    )
    refs_v2 = list({f.securityhub_v2: None for f in incident.findings.values() if f.securityhub_v2})
    if not refs and not refs_v2:
        return None
    wanted = incident.decision is not None and incident.decision.actions.securityhub_workflow
    status = WORKFLOW_FOR.get(incident.status) if wanted else None
    status_id = STATUS_ID_FOR.get(incident.status) if wanted else None
    where = f"{incident.resource.type.value} {incident.resource.id} in {incident.resource.account}/{incident.resource.region}"
    detail = ""
    if incident.status is Status.FAILED and incident.error:
        detail = f": {incident.error}"
    elif incident.status is Status.SKIPPED and incident.skip_reason:
        detail = f": {incident.skip_reason}"
    note = f"Containment responder incident {incident.incident_id} is {incident.status.value} ({where}){detail}"
    return WriteBack(refs=refs, note=note, workflow_status=status, refs_v2=refs_v2, status_id=status_id)
