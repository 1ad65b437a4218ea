"""What a person deciding at 3 a.m. needs, in words: severity labels, the effect, the timeout, the finding's console link.

The approval page and the emails render these from the same incident model. Values that came from the finding
or the resource are returned raw: each renderer makes them safe for its medium (`safe_text`, HTML escaping).
"""

from __future__ import annotations

from urllib.parse import quote

from responder.models.common import ResourceType
from responder.models.incident import FindingSummary, Incident
from responder.models.preferences import OnTimeout
from responder.models.resource import partition_for


def severity_label(severity: float) -> str:
    """GuardDuty's severity levels (GuardDuty User Guide, "Severity levels for GuardDuty findings"):
    Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0."""
    if severity >= 9.0:
        return "Critical"
    if severity >= 7.0:
        return "High"
    if severity >= 4.0:
        return "Medium"
    return "Low"


_EFFECTS = {
    ResourceType.EC2_INSTANCE: "All network traffic to and from this instance will be cut; the instance keeps running.",
    ResourceType.IAM_USER: "This user's AWS access will be cut off as listed below; anything using its credentials "
    "stops working.",
    ResourceType.IAM_ROLE: "Sessions of this role issued before containment will stop working, and more as listed "
    "below; workloads using the role must get new sessions.",
    ResourceType.S3_BUCKET: "Requests to this bucket will be refused, as listed below, except from the responder and "
    "the break-glass principals.",
}


def effect(incident: Incident) -> str:
    """One sentence: what containment does to the resource."""
    return _EFFECTS.get(incident.resource.type, "Nothing is contained for this kind of resource.")


def if_nobody_decides(incident: Incident, expires_text: str) -> str:
    on_timeout = incident.decision.on_timeout if incident.decision else OnTimeout.EXPIRE
    if on_timeout is OnTimeout.CONTAIN:
        return f"If nobody decides by {expires_text}, the resource is contained anyway (the rule says on_timeout: contain)."
    return f"If nobody decides by {expires_text}, the request expires and nothing is changed."


def resource_name(incident: Incident) -> str | None:
    """The resource's Name tag, as its owner wrote it (untrusted)."""
    return incident.resource_tags.get("Name")


def console_link(finding: FindingSummary, region: str) -> str | None:
    """The finding in the AWS console: GuardDuty's findings page filtered on its id, or Security Hub's."""
    partition = partition_for(region)
    host = {"aws": "console.aws.amazon.com", "aws-us-gov": "console.amazonaws-us-gov.com"}.get(partition)
    if host is None:
        return None
    if finding.securityhub is not None or finding.securityhub_v2 is not None:
        return f"https://{host}/securityhub/home?region={region}#/findings?search=Id%3D{quote(finding.id, safe='')}"
    if finding.source == "guardduty":
        return f"https://{host}/guardduty/home?region={region}#/findings?search=id%3D{quote(finding.id, safe='')}"
    return None
