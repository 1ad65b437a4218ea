"""Normalize GuardDuty, Security Hub (ASFF) and Security Hub v2 (OCSF) findings into one `Finding`.

Routing is by finding family and resource type, as for GuardDuty: the target is the resource to
contain, in the account and region the finding names. A finding with no target keeps the reason, and
triage records it as SKIPPED.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from responder.models.common import ResourceType
from responder.models.events import ParsedEvent
from responder.models.finding import Finding, FindingClass, SecurityHubRef, SecurityHubV2Ref, Source
from responder.models.guardduty import (
    ACCESS_KEY_ID,
    BUCKET_NAME,
    IAM_NAME,
    INSTANCE_ID,
    GuardDutyEvent,
    GuardDutyFinding,
)
from responder.models.resource import ResourceRef
from responder.models.securityhub import AsffFinding, AsffResource, OcsfFinding, OcsfUser, SecurityHubEvent

LABEL_SEVERITY = {"INFORMATIONAL": 0.0, "LOW": 2.0, "MEDIUM": 5.0, "HIGH": 8.0, "CRITICAL": 9.5}
OCSF_SEVERITY = {0: 0.0, 1: 0.0, 2: 2.0, 3: 5.0, 4: 8.0, 5: 9.5, 6: 9.5, 99: 5.0}
SKIPPED_WORKFLOW = {"SUPPRESSED", "RESOLVED"}
_TYPE_CHARS = re.compile(r"[^A-Za-z0-9_\-.!&]+")


# -- GuardDuty --------------------------------------------------------------------------------------
def route_guardduty(finding: GuardDutyFinding) -> ResourceRef | str:
    """The finding's target, by finding-type family and resource type, or why there is none.

    GuardDuty puts the actor's access key into findings of several families, so the family decides as
    much as `resource.resourceType` does.
    """
    rtype = finding.resource.resource_type
    family = finding.threat_family
    account, region = finding.account_id, finding.region

    def ref(kind: ResourceType, ident: str) -> ResourceRef:
        return ResourceRef(type=kind, id=ident, account=account, region=region)

    # Runtime Monitoring findings on an instance (`Execution:Runtime/...` on `Instance`) are contained
    # as EC2 findings are.
    if family in ("EC2", "Runtime") and rtype == "Instance":
        details = finding.resource.instance_details
        if details is None:
            return "Instance finding without resource.instanceDetails"
        return ref(ResourceType.EC2_INSTANCE, details.instance_id)
    if family == "IAMUser" and rtype == "AccessKey":
        key = finding.resource.access_key_details
        if key is None or not key.user_type:
            return "AccessKey finding without resource.accessKeyDetails.userType"
        return _principal(ref, key.user_type, key.user_name)
    # S3 findings from data events name the bucket (`S3Bucket`); those from management events name the
    # actor's access key (`AccessKey`) with the bucket in s3BucketDetails. Either way the bucket is the
    # target; a finding naming several buckets contains each (see `extra_targets`).
    if family == "S3" and rtype in ("S3Bucket", "AccessKey"):
        if not finding.resource.s3_bucket_details:
            return f"{rtype} finding without resource.s3BucketDetails"
        return ref(ResourceType.S3_BUCKET, finding.resource.s3_bucket_details[0].name)
    return f"unsupported finding: family {family} on resource type {rtype}"


def _principal(ref: Callable[[ResourceType, str], ResourceRef], user_type: str, name: str | None) -> ResourceRef | str:
    if user_type == "Root":
        return ref(ResourceType.IAM_ROOT, "root")
    if not user_type:
        return "access key finding that does not say whether the principal is a user or a role session"
    if not name:
        return f"access key finding for a {user_type} without the principal's name"
    if user_type == "IAMUser":
        return ref(ResourceType.IAM_USER, name)
    if user_type in ("AssumedRole", "Role"):
        # Temporary (ASIA) credentials have no user to contain: contain the role behind the session.
        return ref(ResourceType.IAM_ROLE, name)
    return f"unsupported principal type {user_type} on an access key finding"


def from_guardduty(finding: GuardDutyFinding) -> Finding:
    target = route_guardduty(finding)
    extras = _more_buckets(target, [b.name for b in finding.resource.s3_bucket_details])
    key = finding.resource.access_key_details
    skip = None
    if finding.service.archived:
        skip = "finding is archived"
    elif finding.service.is_sample:
        skip = "sample finding (service.additionalInfo.sample)"
    return Finding(
        source="guardduty",
        id=finding.id,
        type=finding.type,
        severity=finding.severity,
        account=finding.account_id,
        region=finding.region,
        title=finding.title[:300],
        target=target if isinstance(target, ResourceRef) else None,
        no_target=target if isinstance(target, str) else "",
        fallback_id=_guardduty_fallback(finding),
        skip=skip,
        count=finding.service.count,
        first_seen=finding.service.event_first_seen,
        last_seen=finding.service.event_last_seen,
        remote_ip=finding.service.remote_ip(),
        access_key_id=key.access_key_id if key else None,
        user_type=key.user_type if key else None,
        extra_targets=extras,
    )


def _guardduty_fallback(finding: GuardDutyFinding) -> str:
    r = finding.resource
    if r.instance_details:
        return r.instance_details.instance_id
    if r.access_key_details and r.access_key_details.access_key_id:
        return r.access_key_details.access_key_id
    if r.s3_bucket_details:
        return r.s3_bucket_details[0].name
    return f"unknown:{r.resource_type}"


# -- Security Hub (ASFF) ----------------------------------------------------------------------------
def from_asff(
    finding: AsffFinding, *, custom_action: bool = False, triggered_by: str | None = None, event_region: str = ""
) -> Finding:
    # A finding's own Region can be missing: its resources' region, then the event's, stand in.
    region = finding.region or next((r.region for r in finding.resources if r.region), None) or event_region
    product = finding.product
    ftype = asff_type(finding)
    family = ftype.split(":", 1)[1].split("/", 1)[0] if ":" in ftype else ""
    target, no_target, fallback = _asff_target(finding, family, region)
    passed = finding.compliance is not None and (finding.compliance.status or "").upper() == "PASSED"
    skip = None
    if not finding.trusted:
        skip = f"untrusted product {finding.product_arn}: only AWS services' own findings are acted on"
    elif finding.record_state == "ARCHIVED":
        skip = "finding is archived"
    elif passed:
        skip = "control check passed (Compliance.Status PASSED): nothing to contain"
    elif (finding.workflow.status or "").upper() in SKIPPED_WORKFLOW and not custom_action:
        skip = f"finding workflow status is {finding.workflow.status}"
    elif finding.product_fields.get("aws/guardduty/service/additionalInfo/sample", "").lower() == "true":
        skip = "sample finding (service.additionalInfo.sample)"
    underlying = finding.id.rsplit("/", 1)[-1] if product == "guardduty" and "/finding/" in finding.id else finding.id
    key = _details(finding, "AwsIamAccessKey")
    return Finding(
        source="custom_action" if custom_action else "securityhub",
        id=underlying,
        type=ftype,
        severity=_asff_severity(finding),
        account=finding.aws_account_id,
        region=region,
        title=finding.title[:300],
        target=target,
        no_target=no_target,
        fallback_id=fallback,
        skip=skip,
        count=int(count) if (count := finding.product_fields.get("aws/guardduty/service/count", "")).isdigit() else 1,
        first_seen=_when(finding.first_observed_at),
        last_seen=_when(finding.last_observed_at),
        remote_ip=_asff_remote_ip(finding),
        access_key_id=_valid(str(key.get("AccessKeyId", "")), ACCESS_KEY_ID) if key else None,
        user_type=(str(key.get("PrincipalType", "")) or None) if key else None,
        securityhub=SecurityHubRef(finding_arn=finding.id, product_arn=finding.product_arn),
        triggered_by=triggered_by,
        trusted=finding.trusted,
        passed_check=passed,
        finding_class=asff_class(finding),
        extra_targets=_more_buckets(
            target, [_valid(r.id.rsplit(":", 1)[-1], BUCKET_NAME) for r in finding.resources if r.type == "AwsS3Bucket"]
        ),
    )


def _more_buckets(target: ResourceRef | str | None, names: list[str | None]) -> list[ResourceRef]:
    """The further buckets a finding names besides its target (each once, in the finding's order), when
    its target is a bucket: they share the target's account and region."""
    if not isinstance(target, ResourceRef) or target.type is not ResourceType.S3_BUCKET:
        return []
    unique = dict.fromkeys(n for n in names if n and n != target.id)
    return [target.model_copy(update={"id": name}) for name in unique]


def asff_class(finding: AsffFinding) -> FindingClass:
    """Threat, posture or vulnerability. Inspector's findings and the `Vulnerabilities` type namespace
    are vulnerabilities; control checks (a `Compliance` block, Security Hub's own product, the
    `Software and Configuration Checks` namespace) and Macie's findings are posture; GuardDuty's are
    threats (ASFF `Types` namespaces: Security Hub User Guide, "ASFF types taxonomy")."""
    types = " ".join(finding.types)
    if finding.product == "inspector" or "Software and Configuration Checks/Vulnerabilities" in types:
        return "vulnerability"
    if finding.product == "guardduty":
        return "threat"
    if finding.compliance is not None or finding.product in ("securityhub", "macie"):
        return "posture"
    return "posture" if types.startswith("Software and Configuration Checks") else "threat"


def asff_type(finding: AsffFinding) -> str:
    """A GuardDuty-style `Family:Resource/Name` type. GuardDuty's own type is the last part of its ASFF
    type (`TTPs/Command and Control/Backdoor:EC2-C&CActivity.B`), with its `/` written as `-`."""
    last = finding.types[0].rsplit("/", 1)[-1] if finding.types else ""
    if finding.product == "guardduty" and re.match(r"^[A-Za-z0-9]+:[A-Za-z0-9]+-", last):
        return re.sub(r"^([A-Za-z0-9]+:[A-Za-z0-9]+)-", r"\1/", last, count=1)
    resource = finding.resources[0].type if finding.resources else "Resource"
    family = {"AwsEc2Instance": "EC2", "AwsS3Bucket": "S3"}.get(
        resource, "IAMUser" if resource.startswith("AwsIam") else resource
    )
    name = _TYPE_CHARS.sub("-", (finding.generator_id or last or "finding").rsplit("/", 1)[-1]).strip("-") or "finding"
    return f"{finding.product.capitalize()}:{family}/{name}"[:128]


def _asff_target(finding: AsffFinding, family: str, region: str) -> tuple[ResourceRef | None, str, str]:
    account = finding.aws_account_id

    def ref(kind: ResourceType, ident: str, *, res: AsffResource) -> ResourceRef:
        # The resource's account is in its ARN, which can differ from AwsAccountId (Inspector, delegated
        # administrators); S3 ARNs carry no account.
        parts = res.id.split(":")
        owner = (
            parts[4] if res.id.startswith("arn:") and len(parts) > 5 and re.fullmatch(r"[0-9]{12}", parts[4]) else None
        )
        return ResourceRef(type=kind, id=ident, account=owner or account, region=res.region or region)

    fallback = finding.resources[0].id if finding.resources else "unknown"
    if not region:
        return None, "the finding names no region", fallback
    for res in finding.resources:
        if res.type == "AwsEc2Instance":
            ident = _valid(res.id.rsplit("/", 1)[-1], INSTANCE_ID)
            if ident:
                return ref(ResourceType.EC2_INSTANCE, ident, res=res), "", fallback
            return None, f"AwsEc2Instance {res.id!r} is not an instance ARN or id", fallback
        if res.type == "AwsIamAccessKey":
            details = res.details.get("AwsIamAccessKey", {})
            user_type, raw_name = _asff_principal(details if isinstance(details, dict) else {}, res.id)
            target = _principal(partial(ref, res=res), user_type, _valid(raw_name, IAM_NAME))
            if isinstance(target, ResourceRef):
                return target, "", fallback
            return None, target, fallback
        if res.type in ("AwsIamUser", "AwsIamRole"):
            name = _valid(res.id.rsplit("/", 1)[-1], IAM_NAME)
            if not name:
                return None, f"{res.type} {res.id!r} has no valid name", fallback
            kind = ResourceType.IAM_USER if res.type == "AwsIamUser" else ResourceType.IAM_ROLE
            return ref(kind, name, res=res), "", fallback
        if res.type == "AwsS3Bucket":
            name = _valid(res.id.rsplit(":", 1)[-1], BUCKET_NAME)
            if not name:
                return None, f"AwsS3Bucket {res.id!r} is not a bucket name or ARN", fallback
            return ref(ResourceType.S3_BUCKET, name, res=res), "", fallback
    kinds = ", ".join(sorted({r.type for r in finding.resources})) or "no resources"
    return None, f"unsupported finding: family {family or '?'} on {kinds}", fallback


def _asff_principal(details: dict[str, object], resource_id: str) -> tuple[str, str]:
    """The principal kind and name behind an ASFF access key. `PrincipalType` decides; the deprecated
    `UserName` alone names an IAM user. For a session (AssumedRole) the role is the session issuer's,
    taken from its ARN (the last part, after any IAM path), else from `PrincipalName`'s role part."""
    user_type = str(details.get("PrincipalType") or "")
    if not user_type:
        user_type = "Root" if "Root" in resource_id else ("IAMUser" if details.get("UserName") else "")
    name = str(details.get("PrincipalName") or details.get("UserName") or "")
    if user_type == "AssumedRole":
        session = details.get("SessionContext")
        issuer = session.get("SessionIssuer") if isinstance(session, dict) else None
        arn = str(issuer.get("Arn") or "") if isinstance(issuer, dict) else ""
        if ":role/" in arn:
            name = arn.rsplit("/", 1)[-1]
        elif "/" in name:
            name = name.split("/", 1)[0]
    return user_type, name


def _details(finding: AsffFinding, kind: str) -> dict[str, object] | None:
    for res in finding.resources:
        if res.type == kind:
            found = res.details.get(kind)
            return found if isinstance(found, dict) else {}
    return None


def _asff_severity(finding: AsffFinding) -> float:
    sev = finding.severity
    if finding.product == "guardduty" and sev.product is not None and 0 <= sev.product <= 10:
        return float(sev.product)
    if sev.normalized is not None:
        return round(sev.normalized / 10, 1)
    return LABEL_SEVERITY.get((sev.label or "").upper(), 0.0)


def _asff_remote_ip(finding: AsffFinding) -> str | None:
    if finding.network and finding.network.source_ip_v4:
        return finding.network.source_ip_v4
    for key in ("NetworkConnectionAction", "AwsApiCallAction", "PortProbeAction"):
        action = finding.action.get(key)
        details = action.get("RemoteIpDetails") if isinstance(action, dict) else None
        ip = details.get("IpAddressV4") if isinstance(details, dict) else None
        if isinstance(ip, str):
            return ip
    # Older GuardDuty copies keep the remote IP only in ProductFields.
    for field, value in finding.product_fields.items():
        if field.startswith("aws/guardduty/service/action/") and field.endswith("/remoteIpDetails/ipAddressV4"):
            return value
    return None


# -- Security Hub v2 (OCSF) -------------------------------------------------------------------------
OCSF_RESOURCE_TYPES = {
    "AWS::EC2::Instance": "AwsEc2Instance",
    "AwsEc2Instance": "AwsEc2Instance",
    "AWS::IAM::User": "AwsIamUser",
    "AwsIamUser": "AwsIamUser",
    "AWS::IAM::Role": "AwsIamRole",
    "AwsIamRole": "AwsIamRole",
    "AWS::IAM::AccessKey": "AwsIamAccessKey",
    "AwsIamAccessKey": "AwsIamAccessKey",
    "AWS::S3::Bucket": "AwsS3Bucket",
    "AwsS3Bucket": "AwsS3Bucket",
}


# OCSF classes that say the finding's class outright. A `Detection Finding` does not: Security Hub's
# exposure findings are detection findings too (Security Hub User Guide, "Sample exposure finding"), so
# the product decides there, as for ASFF.
OCSF_CLASSES: dict[str, FindingClass] = {
    "compliance finding": "posture",
    "vulnerability finding": "vulnerability",
}


def from_ocsf(finding: OcsfFinding) -> Finding:
    """OCSF findings carry the same resources under other names; map them onto ASFF and let its routing,
    trust and status checks decide. Trust comes from `metadata.product.uid` alone, which must be an AWS
    service's own product ARN (`::productv2/aws/<service>`, or `::product/aws/<service>`); a product
    name or a uid that is not such an ARN is untrusted. The principal kind behind an access key comes
    from `actor.user.type` (an AssumedRole session is contained through its role)."""
    info = finding.finding_info
    user = finding.actor.user if finding.actor else None
    resources = [
        AsffResource.model_validate(
            {
                "Type": OCSF_RESOURCE_TYPES.get(r.type, r.type),
                "Id": r.uid,
                "Region": r.region or finding.cloud.region,
                "Details": {"AwsIamAccessKey": _ocsf_principal(r.name, user, r.details("AwsIamAccessKey"))}
                if OCSF_RESOURCE_TYPES.get(r.type) == "AwsIamAccessKey"
                else {},
            }
        )
        for r in finding.resources
    ]
    asff = AsffFinding.model_validate(
        {
            "Id": info.uid,
            "ProductArn": finding.metadata.product.uid or "missing metadata.product.uid",
            "AwsAccountId": finding.cloud.account.uid,
            "Region": finding.cloud.region,
            "Types": info.types,
            "Title": info.title,
            "Severity": {"Label": (finding.severity or "").upper() or None},
            "Workflow": {"Status": (finding.status or "").upper() or None},
            "Compliance": {"Status": finding.compliance.status} if finding.compliance else None,
            "Resources": [r.model_dump(by_alias=True) for r in resources],
            "Network": {"SourceIpV4": finding.src_endpoint.ip} if finding.src_endpoint else None,
        }
    )
    normalized = from_asff(asff)
    severity = OCSF_SEVERITY.get(finding.severity_id or -1, normalized.severity)
    source: Source = "securityhub_v2"
    finding_class = OCSF_CLASSES.get((finding.class_name or "").lower(), normalized.finding_class)
    if info.analytic is not None and (info.analytic.name or "").lower() == "exposure":
        finding_class = "posture"
    ref = SecurityHubV2Ref(
        cloud_account_uid=finding.cloud.account.uid,
        finding_info_uid=info.uid,
        metadata_product_uid=finding.metadata.product.uid or "unknown",
    )
    update = {
        "source": source,
        "severity": severity,
        "securityhub": None,
        "securityhub_v2": ref if normalized.trusted else None,
        "finding_class": finding_class,
    }
    return normalized.model_copy(update=update)


def _ocsf_principal(name: str | None, user: OcsfUser | None, data: dict[str, Any]) -> dict[str, Any]:
    """ASFF's AwsIamAccessKey details from an OCSF resource and the finding's actor. The resource's own
    ASFF-style details (`data.AwsIamAccessKey`) come first; else the actor's type decides between a user
    and the role behind a session. A missing type is left missing (routing then says why it has no
    target) rather than guessed."""
    if data.get("PrincipalType"):
        return data
    # The role part of an AssumedRole's `role/session` name is taken by `_asff_principal`, as for ASFF.
    return {"PrincipalName": name or (user.name if user else None), "PrincipalType": (user.type if user else None)}


def _valid(value: str, pattern: str) -> str | None:
    # fullmatch: the patterns end in `$`, which `re.match` also finds before a trailing newline.
    return value if value and re.fullmatch(pattern, value) else None


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def findings_of(parsed: ParsedEvent) -> list[Finding]:
    """Every finding an event carries, normalized (ASFF events may carry several)."""
    event = parsed.event
    if isinstance(event, GuardDutyEvent):
        return [from_guardduty(event.detail)]
    if isinstance(event, SecurityHubEvent):
        by = None
        if event.custom_action:
            action = event.resources[0] if event.resources else "unknown action"
            by = f"Security Hub custom action {event.detail.action_name or ''} ({action})".replace("  ", " ")
        return [
            from_asff(f, custom_action=event.custom_action, triggered_by=by, event_region=event.region)
            for f in event.detail.findings
        ]
    return [from_ocsf(f) for f in event.detail.findings]
