"""S3 bucket containment: Block Public Access, ACLs off, and a deny-all bucket policy that wins.

The deny statement is merged into the existing policy (its statements are kept exactly), with an
exception for the responder's own roles and the configured break-glass ARNs, so that the responder can
still restore the bucket (the account root can always change a bucket policy). Restore puts back the
exact original policy document, Block Public Access configuration and ownership controls, deleting
each where none existed before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from responder.adapters.s3 import PAB_KEYS, S3Gateway
from responder.domain.recorder import KEEP_OPERATOR_CHANGE, Recorder, kept_attributes
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
    """Undo what the responder changed, in reverse order: the policy first (it is what could lock the
    restore out), then ownership, then Block Public Access.

    Each attribute goes back to its pre-state when it still holds what the responder set. When an
    operator changed it after containment, their change is kept, the responder's own part (the deny
    statement) is removed, and the report says so: an operator's change is never silently discarded.
    """
    pre = incident.pre_state
    assert isinstance(pre, S3PreState)
    bucket = pre.bucket
    report: list[str] = []
    current = gw.policy(bucket)
    without = without_deny(current)
    if _same_policy(without, pre.policy):
        if not _same_policy(current, pre.policy):
            if pre.policy is None:
                gw.delete_policy(bucket)
            else:
                gw.put_policy(bucket, pre.policy)
            rec.applied("restore_policy", bucket, existed=str(pre.policy is not None).lower())
    else:
        if has_deny(current):
            if without is None:
                gw.delete_policy(bucket)
            else:
                gw.put_policy(bucket, without)
            rec.applied("remove_deny_statement", bucket)
        _kept(rec, report, bucket, "policy", "its policy was changed after containment; kept that version"
              + (" without the responder's deny statement" if has_deny(current) else ""))  # fmt: skip
    _restore_setting(gw.ownership_controls(bucket), pre.ownership_controls, ACLS_OFF, "ownership_controls",
                     lambda: gw.delete_ownership_controls(bucket) if pre.ownership_controls is None
                     else gw.put_ownership_controls(bucket, pre.ownership_controls),
                     bucket, rec, report)  # fmt: skip
    _restore_setting(gw.public_access_block(bucket), pre.public_access_block, ALL_BLOCKED, "public_access_block",
                     lambda: gw.delete_public_access_block(bucket) if pre.public_access_block is None
                     else gw.put_public_access_block(bucket, pre.public_access_block),
                     bucket, rec, report)  # fmt: skip
    return report


def _restore_setting(
    current: object, pre: object, responder_value: object, attribute: str, put_back: Callable[[], object],
    bucket: str, rec: Recorder, report: list[str],
) -> None:  # fmt: skip
    if current == pre:
        return
    if current == responder_value:
        put_back()
        rec.applied(f"restore_{attribute}", bucket)
    else:
        _kept(rec, report, bucket, attribute, f"{attribute} was changed after containment to {current}; kept")


def _kept(rec: Recorder, report: list[str], bucket: str, attribute: str, what: str) -> None:
    rec.skipped(KEEP_OPERATOR_CHANGE, bucket, attribute=attribute)
    report.append(f"bucket {bucket}: {what}")


def without_deny(policy: str | None) -> str | None:
    """The policy without the responder's deny statement; None when nothing else is left."""
    if policy is None:
        return None
    doc = json.loads(policy)
    statements = doc.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    kept = [st for st in statements if not (isinstance(st, dict) and st.get("Sid") == DENY_SID)]
    if not kept:
        return None
    if len(kept) == len(statements):
        return policy
    doc["Statement"] = kept
    return json.dumps(doc)


def _same_policy(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    return bool(json.loads(a) == json.loads(b))


def verify_bucket_restored(gw: S3Gateway, incident: Incident) -> list[str]:
    """Every attribute the responder changed that is not back, named. An attribute restore kept because an
    operator changed it after containment is checked only for what the responder owns in it."""
    pre = incident.pre_state
    assert isinstance(pre, S3PreState)
    kept = kept_attributes(incident)
    mismatches: list[str] = []
    policy = gw.policy(pre.bucket)
    if has_deny(policy):
        mismatches.append("policy: the responder's deny statement is still in place")
    elif "policy" not in kept and not _same_policy(policy, pre.policy):
        mismatches.append(f"policy: expected {pre.policy!r}, found {policy!r}")
    pab = gw.public_access_block(pre.bucket)
    if "public_access_block" not in kept and pab != pre.public_access_block:
        mismatches.append(f"public_access_block: expected {pre.public_access_block}, found {pab}")
    owner = gw.ownership_controls(pre.bucket)
    if "ownership_controls" not in kept and owner != pre.ownership_controls:
        mismatches.append(f"ownership_controls: expected {pre.ownership_controls}, found {owner}")
    return mismatches
