"""Triage: route a typed finding to its target, skip what must not be contained, deduplicate."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from responder.adapters.accounts import MemberAccessError
from responder.adapters.incidents import IncidentStore
from responder.domain.protection import exempt_tag_note, protection_reason
from responder.models.common import ResourceType
from responder.models.finding import Finding
from responder.models.incident import FindingSummary, Incident, Status
from responder.models.resource import Described, ResourceRef, role_arn

# A threat finding at this severity or above (GuardDuty's High) that the responder skips for want of a target it
# can contain is emailed, never dropped silently.
UNHANDLED_SEVERITY = 7.0


@dataclass(frozen=True)
class Protection:
    """What triage must never contain: operator globs (`protectedArns`), the responder's own exact ARNs, and
    the member role it acts through, in the resource's own account."""

    protected_arns: list[str]
    own_arns: list[str]
    member_role_name: str

    def reason(self, ref: ResourceRef, found: Described) -> str | None:
        arns = [ref.arn, *([found.arn] if found.arn and found.arn != ref.arn else [])]
        own = [*self.own_arns, role_arn(ref.account, ref.region, self.member_role_name)]
        return protection_reason(arns, self.protected_arns, own)


class ResourceReader(Protocol):
    def describe(self, ref: ResourceRef) -> Described | None:
        """The resource as it is now, or None when it does not exist."""


@dataclass(frozen=True)
class TriageResult:
    outcome: Literal["new", "absorbed", "skipped", "protected", "unhandled"]
    incident_id: str
    reason: str = ""


def new_incident_id(now: datetime | None = None) -> str:
    ts = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return f"inc-{ts}-{secrets.token_hex(4)}"


def summarize(finding: Finding) -> FindingSummary:
    return FindingSummary(
        id=finding.id,
        type=finding.type,
        severity=finding.severity,
        source=finding.source,
        title=finding.title[:300],
        count=finding.count,
        first_seen=finding.first_seen,
        last_seen=finding.last_seen,
        remote_ip=finding.remote_ip,
        access_key_id=finding.access_key_id,
        user_type=finding.user_type,
        securityhub=finding.securityhub,
        securityhub_v2=finding.securityhub_v2,
        triggered_by=finding.triggered_by,
        finding_class=finding.finding_class,
    )


MAX_DELIVERY_IDS = 200


def absorb(incident: Incident, summary: FindingSummary, delivery_id: str | None = None) -> None:
    """Fold a repeated or additional finding into the incident that already owns the resource.

    Idempotent per delivery: the same EventBridge event (retried by EventBridge, Step Functions or a
    client after a lost response) is counted once. A redelivery of a known finding updates counters (the
    deliveries, the highest count seen, the latest time) and adds no timeline entry, so that a noisy
    finding cannot grow the incident; a new finding on the resource is one timeline entry.
    """
    if delivery_id is not None:
        if delivery_id in incident.delivery_ids:
            return
        incident.delivery_ids = [*incident.delivery_ids, delivery_id][-MAX_DELIVERY_IDS:]
    known = incident.findings.get(summary.id)
    if known is None:
        incident.findings[summary.id] = summary
        incident.log("finding_absorbed", f"{summary.type} ({summary.id}) on the same resource")
    else:
        known.count = max(known.count, summary.count)
        known.deliveries += 1
        # The same GuardDuty finding through Security Hub: keep where to write back to.
        if known.securityhub is None and summary.securityhub is not None:
            known.securityhub = summary.securityhub
        if known.securityhub_v2 is None and summary.securityhub_v2 is not None:
            known.securityhub_v2 = summary.securityhub_v2
        if summary.last_seen and (known.last_seen is None or summary.last_seen > known.last_seen):
            known.last_seen = summary.last_seen
    incident.delivery_count += 1
    incident.last_delivery_at = datetime.now(UTC)


def absorb_delivery(store: IncidentStore, incident_id: str, summary: FindingSummary, delivery_id: str | None) -> None:
    """Count a delivery of a finding into the incident that owns it (one conditional write)."""
    store.update(incident_id, lambda inc: absorb(inc, summary, delivery_id))


def triage(
    finding: Finding,
    store: IncidentStore,
    reader: ResourceReader,
    protection: Protection,
    execution_arn: str | None = None,
    delivery_id: str | None = None,
    claim_suffix: str | None = None,
) -> TriageResult:
    """One incident per resource: a new one, or the finding absorbed into the open incident that owns
    the resource or the finding (the same GuardDuty finding arriving directly and through Security Hub
    is one finding). A custom action is a person asking for containment: it is never absorbed into a
    closed incident of the same finding, only into an open one."""
    summary = summarize(finding)
    skip = finding.skip
    if finding.target is None:
        skip = skip or finding.no_target
        ref = ResourceRef(type=ResourceType.OTHER, id=finding.fallback_id[:256] or "unknown",
                          account=finding.account, region=finding.region)  # fmt: skip
    else:
        ref = finding.target
    resource_tags: dict[str, str] = {}
    protected = False
    if skip is None:
        try:
            found = Described({}) if ref.type is ResourceType.IAM_ROOT else reader.describe(ref)
        except MemberAccessError as exc:
            _record_failure(store, ref, summary, str(exc), execution_arn, delivery_id)
            raise
        if found is None:
            skip = f"{ref.type.value} {ref.id} does not exist"
        else:
            resource_tags = found.tags
            skip = protection.reason(ref, found)
            protected = skip is not None

    incident = Incident(
        incident_id=new_incident_id(),
        status=Status.SKIPPED if skip else Status.NEW,
        resource=ref,
        findings={summary.id: summary},
        resource_tags=resource_tags,
        skip_reason=skip,
        execution_arn=execution_arn,
        delivery_ids=[delivery_id] if delivery_id else [],
    )
    if protected:
        incident.skip_notice = "protected"
    elif skip and finding.skip is None and summary.severity >= UNHANDLED_SEVERITY and summary.finding_class == "threat":
        incident.skip_notice = "unhandled"  # no target, gone, or not a kind it contains: the team must look
    incident.log("triaged", skip or "accepted for containment")
    note = exempt_tag_note(resource_tags)
    if note and not skip:
        incident.log("exempt_tag_ignored", note)
    if finding.source == "custom_action":
        incident.log("custom_action", finding.triggered_by or "Security Hub custom action (the event names no user)")
    # A custom action claims the finding afresh (keyed by its delivery), so that it is not folded into a
    # closed incident of the same finding; the resource key still prevents a second open incident.
    # A finding's further resources (claim_suffix: the resource's key) are claimed apart from its first.
    base_key = f"{finding.id}#{claim_suffix}" if claim_suffix else finding.id
    finding_key = f"{base_key}#action-{delivery_id}" if finding.source == "custom_action" and delivery_id else base_key
    claim = store.claim(incident, finding_key, hold_resource=skip is None)
    if claim.outcome == "absorbed":
        absorb_delivery(store, claim.incident_id, summary, delivery_id)
        store.record_finding(finding_key, claim.incident_id)
        return TriageResult("absorbed", claim.incident_id, "an open incident already owns this resource or finding")
    if skip:
        return TriageResult(incident.skip_notice or "skipped", incident.incident_id, skip)
    return TriageResult("new", incident.incident_id)


def _record_failure(
    store: IncidentStore, ref: ResourceRef, summary: FindingSummary, error: str,
    execution_arn: str | None, delivery_id: str | None,
) -> None:  # fmt: skip
    """The resource's account could not be reached: a FAILED incident that says so, holding no claim
    (a later delivery, once the member role is in place, opens a fresh incident)."""
    incident = Incident(
        incident_id=new_incident_id(), status=Status.FAILED, resource=ref, findings={summary.id: summary},
        error=error, execution_arn=execution_arn, delivery_ids=[delivery_id] if delivery_id else [],
    )  # fmt: skip
    incident.log("failed", error)
    store.claim(incident, f"{summary.id}#failed-{incident.incident_id}", hold_resource=False)
