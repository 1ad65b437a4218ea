"""The incident record: what was found, what was decided, the pre-state, and every change made."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from responder.models.common import utcnow
from responder.models.finding import SecurityHubRef, SecurityHubV2Ref
from responder.models.preferences import Decision
from responder.models.resource import ResourceRef


class Status(StrEnum):
    NEW = "NEW"  # claimed by triage; nothing planned or changed yet
    PENDING_APPROVAL = "PENDING_APPROVAL"
    CONTAINING = "CONTAINING"
    CONTAINED = "CONTAINED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    NOTIFIED = "NOTIFIED"
    IGNORED = "IGNORED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"
    RESTORING = "RESTORING"
    RESTORED = "RESTORED"


# An incident in one of these holds no claim on its resource: a new finding opens a new incident.
CLOSED_STATUSES = frozenset(
    {Status.REJECTED, Status.EXPIRED, Status.NOTIFIED, Status.IGNORED, Status.SKIPPED, Status.RESTORED}
)
RESTORABLE_STATUSES = frozenset({Status.CONTAINED, Status.FAILED})
# An incident in one of these has its outcome settled: a later failure in the same execution (the
# notification) is recorded beside it and never replaces it.
SETTLED_STATUSES = CLOSED_STATUSES | {Status.CONTAINED}


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")


class FindingSummary(_Model):
    id: str
    type: str
    severity: float
    source: str = "guardduty"
    title: str = ""
    count: int = 1
    deliveries: int = 1
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    remote_ip: str | None = None
    access_key_id: str | None = None
    user_type: str | None = None
    securityhub: SecurityHubRef | None = None  # where to write back, when the finding came through Security Hub
    triggered_by: str | None = None
    finding_class: str = "threat"
    securityhub_v2: SecurityHubV2Ref | None = None  # where to write back, when it came through Security Hub v2


class EniState(_Model):
    eni_id: str
    groups: list[str]
    vpc_id: str | None = None
    attached: bool = True


class AsgState(_Model):
    name: str
    lifecycle_state: str
    desired_capacity: int
    min_size: int
    entered_standby: bool = False
    decrement_desired: bool = False


class MetadataState(_Model):
    """An instance's metadata options as DescribeInstances gives them (MetadataOptions); None where absent."""

    http_endpoint: str | None = None
    http_tokens: str | None = None
    http_put_response_hop_limit: int | None = None
    http_protocol_ipv6: str | None = None
    instance_metadata_tags: str | None = None


class Ec2PreState(_Model):
    kind: Literal["ec2_instance"] = "ec2_instance"
    instance_id: str
    vpc_id: str | None
    instance_state: str
    enis: list[EniState]
    disable_api_termination: bool
    disable_api_stop: bool | None = None  # None: the attribute is not supported where the instance runs
    asg: AsgState | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    # The instance's credentials (None in incidents recorded before they were, and where there is none):
    # its instance profile, the profile's role, that role's inline policy names, and its metadata options.
    instance_profile_arn: str | None = None
    instance_role: str | None = None
    instance_role_inline_policies: list[str] = Field(default_factory=list)
    metadata: MetadataState | None = None


class AccessKeyState(_Model):
    access_key_id: str
    status: Literal["Active", "Inactive"]


class IamUserPreState(_Model):
    kind: Literal["iam_user"] = "iam_user"
    user_name: str
    keys: list[AccessKeyState]
    attached_policies: list[str]
    inline_policies: list[str]
    tags: dict[str, str] = Field(default_factory=dict)


class IamRolePreState(_Model):
    kind: Literal["iam_role"] = "iam_role"
    role_name: str
    attached_policies: list[str]
    inline_policies: list[str]
    tags: dict[str, str] = Field(default_factory=dict)


class AclGrant(_Model):
    """One grant of a bucket ACL: who (a canonical user ID, a group URI or an email address) and what."""

    grantee_type: Literal["CanonicalUser", "Group", "AmazonCustomerByEmail"]
    grantee: str
    permission: Literal["FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"]


class BucketAcl(_Model):
    """A bucket's ACL as GetBucketAcl reads it: the owner's canonical ID and the grants, in a stable order."""

    owner_id: str
    grants: list[AclGrant]

    def foreign_grants(self) -> list[AclGrant]:
        """Grants to anyone other than the bucket owner: S3 refuses BucketOwnerEnforced while any exists."""
        return [g for g in self.grants if not (g.grantee_type == "CanonicalUser" and g.grantee == self.owner_id)]

    def describe(self) -> str:
        foreign = self.foreign_grants()
        if not foreign:
            return "owner only"
        return "owner, and " + ", ".join(f"{g.grantee.rsplit('/', 1)[-1]} {g.permission}" for g in foreign)


class S3PreState(_Model):
    kind: Literal["s3_bucket"] = "s3_bucket"
    bucket: str
    policy: str | None  # the exact original document, or None where the bucket had no policy
    public_access_block: dict[str, bool] | None
    ownership_controls: list[dict[str, str]] | None
    # None only in incidents recorded before ACLs were recorded: restore then leaves the ACL alone.
    acl: BucketAcl | None = None
    tags: dict[str, str] = Field(default_factory=dict)


PreState = Annotated[Ec2PreState | IamUserPreState | IamRolePreState | S3PreState, Field(discriminator="kind")]


class PlannedAction(_Model):
    action: str
    target: str
    description: str


class Ec2Impact(_Model):
    kind: Literal["ec2_instance"] = "ec2_instance"
    instance_id: str
    instance_type: str | None = None
    instance_state: str
    vpc_id: str | None
    public_ips: list[str] = Field(default_factory=list)
    enis: list[EniState]
    asg_name: str | None = None
    target_groups: list[str] = Field(default_factory=list)
    target_groups_truncated: bool = False
    instance_role: str | None = None
    volumes: list[str] = Field(default_factory=list)
    isolation_mode: Literal["two_step", "direct"]
    notes: list[str] = Field(default_factory=list)

    def lines(self) -> list[str]:
        enis = ", ".join(f"{e.eni_id} ({', '.join(e.groups) or 'no groups'})" for e in self.enis) or "none"
        tgs = ", ".join(self.target_groups) or "none found"
        if self.target_groups_truncated:
            tgs += " (list truncated)"
        return [
            f"Instance: {self.instance_id} ({self.instance_type or 'unknown type'}, {self.instance_state})",
            f"VPC: {self.vpc_id or 'none'}",
            f"Network interfaces: {enis}",
            f"Public IP: {', '.join(self.public_ips) or 'none'}",
            f"Auto Scaling group: {self.asg_name or 'none'}",
            f"Load-balancer target groups: {tgs}",
            f"Instance role: {self.instance_role or 'none'}",
            f"EBS volumes (snapshotted as evidence): {', '.join(self.volumes) or 'none'}",
            *self.notes,
        ]


class ResourceImpact(_Model):
    kind: Literal["iam_user", "iam_role", "s3_bucket", "iam_root"]
    details: list[str]
    notes: list[str] = Field(default_factory=list)

    def lines(self) -> list[str]:
        return [*self.details, *self.notes]


Impact = Annotated[Ec2Impact | ResourceImpact, Field(discriminator="kind")]


class WafChange(_Model):
    """The address a containment adds to a WAF IP set, and whether it was already there (pre-state)."""

    ip_set_arn: str
    address: str
    already_present: bool


class Plan(_Model):
    actions: list[PlannedAction]
    impact: Impact
    pre_state: PreState | None  # None only for notify-only targets (the root user)
    waf: WafChange | None = None
    account_alias: str | None = None  # where the role in the resource's account may read it


class ActionStatus(StrEnum):
    STARTED = "started"  # write-ahead: recorded before the mutating call
    APPLIED = "applied"
    SKIPPED = "skipped"  # already in the desired state


class AppliedAction(_Model):
    action: str
    target: str
    status: ActionStatus
    at: datetime = Field(default_factory=utcnow)
    detail: dict[str, str] = Field(default_factory=dict)


ArtifactKind = Literal["ebs_snapshot", "security_group", "waf_address"]


class Artifact(_Model):
    kind: ArtifactKind
    id: str
    detail: dict[str, str] = Field(default_factory=dict)


class ApprovalRecord(_Model):
    approval_id: str
    requested_at: datetime
    expires_at: datetime
    decision: Literal["approved", "rejected", "expired"] | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    via: Literal["link", "cli", "timeout"] | None = None


class RestoreOptions(_Model):
    """How far a restore goes. Compromised keys stay inactive unless asked (AWS's advice), and the
    revocation of older sessions stays unless asked: it only blocks sessions issued before containment."""

    reactivate_keys: bool = False
    lift_session_revocation: bool = False


# The timeline is bounded, so that the incident stays far below DynamoDB's 400 KB item limit however long
# it lives: the first entries (what was found, decided and done) and the latest ones are kept, and the
# entries dropped in between are counted. Redeliveries are counters (`delivery_count`, each finding's
# `deliveries`, `count` and `last_seen`, `last_delivery_at`), never entries.
TIMELINE_HEAD = 20
TIMELINE_TAIL = 60
TIMELINE_DETAIL_MAX = 500


class TimelineEntry(_Model):
    at: datetime = Field(default_factory=utcnow)
    event: str
    detail: str = ""


class Incident(_Model):
    incident_id: str
    status: Status
    resource: ResourceRef
    findings: dict[str, FindingSummary]
    resource_tags: dict[str, str] = Field(default_factory=dict)
    delivery_count: int = 1
    delivery_ids: list[str] = Field(default_factory=list)  # the last EventBridge event ids counted
    decision: Decision | None = None
    plan: list[PlannedAction] = Field(default_factory=list)
    impact: Impact | None = None
    pre_state: PreState | None = None
    pre_state_at_plan: PreState | None = None
    waf: WafChange | None = None
    restore_options: RestoreOptions | None = None
    actions: list[AppliedAction] = Field(default_factory=list)
    artifacts: list[Artifact] = Field(default_factory=list)
    approval: ApprovalRecord | None = None
    skip_reason: str | None = None
    # Why a skip was emailed: a protected resource, or a high-severity threat the responder could not act on.
    skip_notice: Literal["protected", "unhandled"] | None = None
    error: str | None = None
    notification_error: str | None = None  # the outcome was settled, but its email could not be sent
    restore_report: list[str] = Field(default_factory=list)
    account_alias: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    containment_started_at: datetime | None = None
    contained_at: datetime | None = None
    restored_at: datetime | None = None
    # Scheduled re-verification of a CONTAINED resource: what was found reopened (empty when it holds).
    drift: list[str] = Field(default_factory=list)
    drift_checked_at: datetime | None = None
    execution_arn: str | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)
    timeline_overflow: int = 0  # entries dropped between the first and the latest kept
    last_delivery_at: datetime | None = None
    version: int = 0

    def log(self, event: str, detail: str = "") -> None:
        self.add_to_timeline(TimelineEntry(event=event, detail=detail))

    def add_to_timeline(self, entry: TimelineEntry) -> None:
        """Append, keeping the first TIMELINE_HEAD and the last TIMELINE_TAIL entries (counting the rest)."""
        if len(entry.detail) > TIMELINE_DETAIL_MAX:
            entry = entry.model_copy(update={"detail": entry.detail[: TIMELINE_DETAIL_MAX - 1] + "…"})
        self.timeline.append(entry)
        excess = len(self.timeline) - TIMELINE_HEAD - TIMELINE_TAIL
        if excess > 0:
            del self.timeline[TIMELINE_HEAD : TIMELINE_HEAD + excess]
            self.timeline_overflow += excess

    def top_finding(self) -> FindingSummary:
        return max(self.findings.values(), key=lambda f: (f.severity, f.id))
