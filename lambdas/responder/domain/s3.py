"""S3 bucket containment: Block Public Access, ACLs off, and a deny-all bucket policy that wins.

The deny statement is merged into the existing policy (its statements are kept exactly), with an
exception for the responder's own roles and the configured break-glass ARNs, so that the responder can
still restore the bucket (the account root can always change a bucket policy). Restore puts back the
exact original policy document, Block Public Access configuration and ownership controls, deleting
each where none existed before.
"""

from __future__ import annotations

import json
from typing import Any

from responder.adapters.s3 import PAB_KEYS, S3Gateway
from responder.domain.recorder import Recorder
from responder.models.incident import Incident, Plan, PlannedAction, ResourceImpact, S3PreState
from responder.models.preferences import S3Options

DENY_SID = "ResponderContainmentDenyAll"
MAX_POLICY_BYTES = 20 * 1024
ALL_BLOCKED = dict.fromkeys(PAB_KEYS, True)
ACLS_OFF = [{"ObjectOwnership": "BucketOwnerEnforced"}]


class PolicyTooLarge(RuntimeError):
    pass


def capture(gw: S3Gateway, bucket: str) -> S3PreState:
    return S3PreState(
        bucket=bucket,
        policy=gw.policy(bucket),
        public_access_block=gw.public_access_block(bucket),
        ownership_controls=gw.ownership_controls(bucket),
        tags=gw.tags(bucket) or {},
    )


def contained_policy(original: str | None, bucket: str, partition: str, exempt: list[str]) -> str:
    """The original statements, kept exactly, plus a deny-all that wins for everyone not exempt."""
    doc: dict[str, Any] = json.loads(original) if original else {"Version": "2012-10-17", "Statement": []}
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    statements = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == DENY_SID)]
    deny: dict[str, Any] = {
        "Sid": DENY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/*"],
    }
    if exempt:
        deny["Condition"] = {"ArnNotLike": {"aws:PrincipalArn": sorted(set(exempt))}}
    doc["Statement"] = [*statements, deny]
    doc.setdefault("Version", "2012-10-17")
    text = json.dumps(doc, separators=(",", ":"))
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise PolicyTooLarge(
            f"bucket {bucket}: the policy with the containment statement would be {len(text.encode())} bytes, "
            f"over S3's {MAX_POLICY_BYTES}-byte limit; nothing was changed"
        )
    return text


def has_deny(policy: str | None) -> bool:
    if not policy:
        return False
    statements = json.loads(policy).get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    return any(isinstance(s, dict) and s.get("Sid") == DENY_SID for s in statements)


def plan_bucket(gw: S3Gateway, bucket: str, options: S3Options, partition: str, exempt: list[str]) -> Plan:
    pre = capture(gw, bucket)
    actions: list[PlannedAction] = []
    if options.block_public_access:
        actions.append(
            PlannedAction(
                action="block_public_access",
                target=bucket,
                description=f"Turn on all four Block Public Access settings on {bucket}",
            )
        )
    if options.disable_acls:
        actions.append(
            PlannedAction(
                action="disable_acls",
                target=bucket,
                description=f"Set object ownership of {bucket} to BucketOwnerEnforced (ACLs off)",
            )
        )
    if options.deny_policy:
        contained_policy(pre.policy, bucket, partition, exempt)  # refuse now, before anything changes
        kept = len(json.loads(pre.policy).get("Statement", [])) if pre.policy else 0
        actions.append(
            PlannedAction(
                action="deny_policy",
                target=bucket,
                description=f"Add a deny-all statement to the bucket policy of {bucket} (keeping its {kept} statement(s)); "
                f"exempt: {', '.join(sorted(set(exempt))) or 'none'}",
            )
        )
    details = [
        f"S3 bucket: {bucket}",
        f"Bucket policy: {'present' if pre.policy else 'none'}; Block Public Access: {pre.public_access_block or 'not configured'}",
        f"Object ownership: {pre.ownership_controls or 'not configured'}",
        "Every request to the bucket and its objects is denied except from the responder and break-glass principals.",
    ]
    return Plan(actions=actions, impact=ResourceImpact(kind="s3_bucket", details=details), pre_state=pre)


def contain_bucket(
    gw: S3Gateway, incident: Incident, options: S3Options, partition: str, exempt: list[str], rec: Recorder
) -> None:
    pre = incident.pre_state
    assert isinstance(pre, S3PreState)
    bucket = pre.bucket
    if options.block_public_access:
        if gw.public_access_block(bucket) == ALL_BLOCKED:
            rec.skipped("block_public_access", bucket)
        else:
            gw.put_public_access_block(bucket, ALL_BLOCKED)
            rec.applied("block_public_access", bucket)
    if options.disable_acls:
        if gw.ownership_controls(bucket) == ACLS_OFF:
            rec.skipped("disable_acls", bucket)
        else:
            gw.put_ownership_controls(bucket, ACLS_OFF)
            rec.applied("disable_acls", bucket)
    if options.deny_policy:
        current = gw.policy(bucket)
        if has_deny(current):
            rec.skipped("deny_policy", bucket)
        else:
            gw.put_policy(bucket, contained_policy(current, bucket, partition, exempt))
            rec.applied("deny_policy", bucket)


def verify_bucket(gw: S3Gateway, incident: Incident, options: S3Options) -> list[str]:
    pre = incident.pre_state
    assert isinstance(pre, S3PreState)
    problems: list[str] = []
    if options.block_public_access and gw.public_access_block(pre.bucket) != ALL_BLOCKED:
        problems.append(f"bucket {pre.bucket}: Block Public Access is not fully on")
    if options.disable_acls and gw.ownership_controls(pre.bucket) != ACLS_OFF:
        problems.append(f"bucket {pre.bucket}: ACLs are not disabled")
    if options.deny_policy and not has_deny(gw.policy(pre.bucket)):
        problems.append(f"bucket {pre.bucket}: the bucket policy has no containment statement")
    return problems


def restore_bucket(gw: S3Gateway, incident: Incident, rec: Recorder) -> list[str]:
    """Reverse order: the policy first (it is what could lock the restore out), then ownership, then BPA."""
    pre = incident.pre_state
    assert isinstance(pre, S3PreState)
    bucket = pre.bucket
    report: list[str] = []
    current = gw.policy(bucket)
    if current is not None and not _same_policy(current, pre.policy):
        if pre.policy is None:
            gw.delete_policy(bucket)
        else:
            gw.put_policy(bucket, pre.policy)
        rec.applied("restore_policy", bucket, existed=str(pre.policy is not None).lower())
        if not has_deny(current):
            report.append(
                f"bucket {bucket}: the policy had been changed after containment; the pre-containment policy was put back"
            )
    elif current is None and pre.policy is not None:
        gw.put_policy(bucket, pre.policy)
        rec.applied("restore_policy", bucket, existed="true")
    if gw.ownership_controls(bucket) != pre.ownership_controls:
        if pre.ownership_controls is None:
            gw.delete_ownership_controls(bucket)
        else:
            gw.put_ownership_controls(bucket, pre.ownership_controls)
        rec.applied("restore_ownership_controls", bucket)
    if gw.public_access_block(bucket) != pre.public_access_block:
        if pre.public_access_block is None:
            gw.delete_public_access_block(bucket)
        else:
            gw.put_public_access_block(bucket, pre.public_access_block)
        rec.applied("restore_public_access_block", bucket)
    return report


def _same_policy(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(json.loads(a) == json.loads(b))


def verify_bucket_restored(gw: S3Gateway, incident: Incident) -> list[str]:
    pre = incident.pre_state
    assert isinstance(pre, S3PreState)
    mismatches: list[str] = []
    policy = gw.policy(pre.bucket)
    if not _same_policy(policy, pre.policy):
        mismatches.append(f"policy: expected {pre.policy!r}, found {policy!r}")
    pab = gw.public_access_block(pre.bucket)
    if pab != pre.public_access_block:
        mismatches.append(f"public_access_block: expected {pre.public_access_block}, found {pab}")
    owner = gw.ownership_controls(pre.bucket)
    if owner != pre.ownership_controls:
        mismatches.append(f"ownership_controls: expected {pre.ownership_controls}, found {owner}")
    return mismatches
