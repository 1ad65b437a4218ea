"""Triage: route a typed finding to its target, skip what must not be contained, deduplicate."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from responder.adapters.incidents import IncidentStore
from responder.domain.protection import protection_reason
from responder.models.common import ResourceType
from responder.models.guardduty import GuardDutyFinding
from responder.models.incident import FindingSummary, Incident, Status
from responder.models.resource import ResourceRef


class TagReader(Protocol):
    def tags(self, ref: ResourceRef) -> dict[str, str] | None:
        """The resource's tags, or None when the resource does not exist."""


@dataclass(frozen=True)
class TriageResult:
    outcome: Literal["new", "absorbed", "skipped"]
    incident_id: str
    reason: str = ""


def new_incident_id(now: datetime | None = None) -> str:
    ts = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return f"inc-{ts}-{secrets.token_hex(4)}"


def summarize(finding: GuardDutyFinding, source: str = "guardduty") -> FindingSummary:
    return FindingSummary(
        id=finding.id,
        type=finding.type,
        severity=finding.severity,
        source=source,
        title=finding.title[:300],
        count=finding.service.count,
        first_seen=finding.service.event_first_seen,
        last_seen=finding.service.event_last_seen,
        remote_ip=finding.service.remote_ip(),
        access_key_id=finding.resource.access_key_details.access_key_id
        if finding.resource.access_key_details
        else None,
        user_type=finding.resource.access_key_details.user_type if finding.resource.access_key_details else None,
    )


def route(finding: GuardDutyFinding) -> ResourceRef | str:
    """The finding's target, by finding-type family and resource type, or why there is none.

    GuardDuty puts the actor's access key into findings of several families, so the family decides as
    much as `resource.resourceType` does.
    """
    rtype = finding.resource.resource_type
    family = finding.threat_family
    account, region = finding.account_id, finding.region

    def ref(kind: ResourceType, ident: str) -> ResourceRef:
        return ResourceRef(type=kind, id=ident, account=account, region=region)

    if family == "EC2" and rtype == "Instance":
        details = finding.resource.instance_details
        if details is None:
            return "Instance finding without resource.instanceDetails"
        return ref(ResourceType.EC2_INSTANCE, details.instance_id)
    if family == "IAMUser" and rtype == "AccessKey":
        key = finding.resource.access_key_details
        if key is None or not key.user_type:
            return "AccessKey finding without resource.accessKeyDetails.userType"
        if key.user_type == "Root":
            return ref(ResourceType.IAM_ROOT, "root")
        if not key.user_name:
            return f"AccessKey finding for a {key.user_type} without accessKeyDetails.userName"
        if key.user_type == "IAMUser":
            return ref(ResourceType.IAM_USER, key.user_name)
        if key.user_type == "AssumedRole":
            # Temporary (ASIA) credentials have no user to contain: contain the role behind the session.
            # For instance credential exfiltration this is the instance profile's role.
            return ref(ResourceType.IAM_ROLE, key.user_name)
        return f"unsupported principal type {key.user_type} on an AccessKey finding"
    if family == "S3" and rtype == "S3Bucket":
        if not finding.resource.s3_bucket_details:
            return "S3Bucket finding without resource.s3BucketDetails"
        return ref(ResourceType.S3_BUCKET, finding.resource.s3_bucket_details[0].name)
    return f"unsupported finding: family {family} on resource type {rtype}"


MAX_DELIVERY_IDS = 200


def absorb(incident: Incident, summary: FindingSummary, delivery_id: str | None = None) -> None:
    """Fold a repeated or additional finding into the incident that already owns the resource.

    Idempotent per delivery: the same EventBridge event (retried by EventBridge, Step Functions or a
    client after a lost response) is counted once.
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
        if summary.last_seen and (known.last_seen is None or summary.last_seen > known.last_seen):
            known.last_seen = summary.last_seen
        incident.log("finding_redelivered", f"{summary.id} count {known.count}")
    incident.delivery_count += 1


def triage(
    finding: GuardDutyFinding,
    store: IncidentStore,
    tags: TagReader,
    protected_arns: list[str],
    own_arns: list[str],
    execution_arn: str | None = None,
    delivery_id: str | None = None,
) -> TriageResult:
    summary = summarize(finding)
    target = route(finding)
    skip: str | None = None
    if finding.service.archived:
        skip = "finding is archived"
    elif finding.service.is_sample:
        skip = "sample finding (service.additionalInfo.sample)"
    if isinstance(target, str):
        skip = skip or target
        ref = ResourceRef(
            type=ResourceType.OTHER,
            id=_fallback_id(finding),
            account=finding.account_id,
            region=finding.region,
        )
    else:
        ref = target
    resource_tags: dict[str, str] = {}
    if skip is None:
        found = {} if ref.type is ResourceType.IAM_ROOT else tags.tags(ref)
        if found is None:
            skip = f"{ref.type.value} {ref.id} does not exist"
        else:
            resource_tags = found
            skip = protection_reason(ref.arn, resource_tags, protected_arns, own_arns)

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
    incident.log("triaged", skip or "accepted for containment")
    claim = store.claim(incident, finding.id, hold_resource=skip is None)
    if claim.outcome == "absorbed":
        store.update(claim.incident_id, lambda inc: absorb(inc, summary, delivery_id))
        store.record_finding(finding.id, claim.incident_id)
        return TriageResult("absorbed", claim.incident_id, "an open incident already owns this resource or finding")
    if skip:
        return TriageResult("skipped", incident.incident_id, skip)
    return TriageResult("new", incident.incident_id)


def _fallback_id(finding: GuardDutyFinding) -> str:
    r = finding.resource
    if r.instance_details:
        return r.instance_details.instance_id
    if r.access_key_details and r.access_key_details.access_key_id:
        return r.access_key_details.access_key_id
    if r.s3_bucket_details:
        return r.s3_bucket_details[0].name
    return f"unknown:{r.resource_type}"
