"""S3 bucket containment: a deny-all bucket policy that wins, Block Public Access, ACLs off.

The deny statement is merged into the existing policy (its statements are kept exactly), with an
exception for the responder's own roles and the configured break-glass ARNs, so that the responder can
still restore the bucket (the account root can always change a bucket policy).

Order matters, because S3 refuses some changes in some states (see `put_policy` and the field notes):
- Contain: the deny statement FIRST (the bucket is closed before anything else changes, and S3 still
  accepts the merged policy, public statements and all, while Block Public Access is as found), then
  Block Public Access, then the ACL reset to owner-only, then ownership BucketOwnerEnforced (S3 refuses
  it while the ACL grants anyone other than the owner).
- Restore, the mirror image: ownership controls first (S3 refuses ACL grants while ACLs are disabled),
  then Block Public Access back to its pre-state (S3 refuses public grants and public policies while it
  blocks them), then the ACL grants, and the policy LAST: the deny statement keeps the bucket closed
  while everything else goes back.
Each attribute goes back exactly (deleted where none existed before); an operator's change after
containment is kept and reported.

The bucket's owner may be the attacker, and can write a statement under the responder's Sid too. So the
Sid decides nothing: the responder's deny is recognised only by its whole content (`is_responder_deny`),
containment and verify compare the whole policy with what is written, and a foreign statement under the
reserved Sid is evidence (`decoys`): named in the plan, left out of the contained policy, recorded
(a timeline note and `remove_reserved_sid_decoy`), failed on by verify and reported by restore.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from responder.adapters.aws import error_code
from responder.adapters.s3 import PAB_KEYS, S3Gateway
from responder.domain.recorder import KEEP_OPERATOR_CHANGE, Recorder, kept_attributes
from responder.models.incident import BucketAcl, Incident, Plan, PlannedAction, ResourceImpact, S3PreState
from responder.models.preferences import S3Options

DENY_SID = "ResponderContainmentDenyAll"
MAX_POLICY_BYTES = 20 * 1024
ALL_BLOCKED = dict.fromkeys(PAB_KEYS, True)
ACLS_OFF = [{"ObjectOwnership": "BucketOwnerEnforced"}]
BLOCK_PUBLIC_POLICY = "BlockPublicPolicy"
BLOCK_PUBLIC_ACLS = "BlockPublicAcls"


class PolicyTooLarge(RuntimeError):
    pass


class PublicAccessRefused(RuntimeError):
    """S3 refused a public policy or ACL although the bucket's own Block Public Access allowed it."""


def capture(gw: S3Gateway, bucket: str) -> S3PreState:
    return S3PreState(
        bucket=bucket,
        policy=gw.policy(bucket),
        public_access_block=gw.public_access_block(bucket),
        ownership_controls=gw.ownership_controls(bucket),
        acl=gw.acl(bucket),
        tags=gw.tags(bucket) or {},
    )


def deny_statement(bucket: str, partition: str, exempt: list[str]) -> dict[str, Any]:
    """The responder's deny-all statement for `bucket`, exactly as it writes it."""
    deny: dict[str, Any] = {
        "Sid": DENY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/*"],
    }
    if exempt:
        deny["Condition"] = {"ArnNotLike": {"aws:PrincipalArn": sorted(set(exempt))}}
    return deny


def _statements(policy: str | None) -> list[Any]:
    if not policy:
        return []
    statements = json.loads(policy).get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _reserved(statement: object) -> bool:
    """Under the responder's reserved Sid: the responder's deny, or a decoy someone else wrote."""
    return isinstance(statement, dict) and statement.get("Sid") == DENY_SID


def is_responder_deny(statement: object, bucket: str | None = None) -> bool:
    """True only when the statement's whole content is a deny the responder writes (for `bucket` when given):
    Deny, Principal *, Action s3:*, the bucket and its objects, and an exemption list as the responder writes
    it (sorted, each once). The Sid alone proves nothing: the bucket's owner can write it too."""
    if not _reserved(statement):
        return False
    assert isinstance(statement, dict)
    resources = statement.get("Resource")
    if not (isinstance(resources, list) and resources and isinstance(resources[0], str)):
        return False
    found = re.fullmatch(r"arn:([a-z-]+):s3:::([^/*?]+)", resources[0])
    if found is None or (bucket is not None and found[2] != bucket):
        return False
    exempt: object = []
    if "Condition" in statement:
        try:
            exempt = statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
        except (KeyError, TypeError):
            return False
        if not (isinstance(exempt, list) and exempt and all(isinstance(a, str) for a in exempt)):
            return False
    assert isinstance(exempt, list)
    return bool(statement == deny_statement(found[2], found[1], exempt))


def decoys(policy: str | None, bucket: str, partition: str, exempt: list[str]) -> list[dict[str, Any]]:
    """Statements under the responder's reserved Sid that are not the deny it writes now: evidence."""
    wanted = deny_statement(bucket, partition, exempt)
    return [s for s in _statements(policy) if _reserved(s) and s != wanted]


# Services that deliver logs into buckets through a bucket policy (CloudTrail, Config, vended logs such as
# VPC Flow Logs, S3 server access logs, ELB access logs in newer regions), and the S3 log-delivery group
# an ACL grants it to. The deny stops all of them: containment says so rather than stopping them silently.
LOG_SERVICES = (
    "cloudtrail.amazonaws.com",
    "config.amazonaws.com",
    "delivery.logs.amazonaws.com",
    "logging.s3.amazonaws.com",
    "logdelivery.elasticloadbalancing.amazonaws.com",
)
LOG_DELIVERY_GROUP = "http://acs.amazonaws.com/groups/s3/LogDelivery"


def log_deliveries(pre: S3PreState) -> list[str]:
    """Who delivers logs into the bucket, read from its policy's Allow statements and its ACL."""
    found: set[str] = set()
    for statement in _statements(pre.policy):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        services = principal.get("Service") if isinstance(principal, dict) else None
        for service in [services] if isinstance(services, str) else services or []:
            if service in LOG_SERVICES:
                found.add(service)
    if pre.acl is not None and any(g.grantee == LOG_DELIVERY_GROUP for g in pre.acl.grants):
        found.add("the S3 log delivery group (server access logs, by ACL)")
    return sorted(found)


def _describe(statement: object) -> str:
    return json.dumps(statement, separators=(",", ":"), sort_keys=True)


def contained_policy(original: str | None, bucket: str, partition: str, exempt: list[str]) -> str:
    """The original statements, kept exactly, plus a deny-all that wins for everyone not exempt.

    A statement under the reserved Sid is left out: it is the responder's own deny (written again below)
    or a decoy the bucket's owner wrote (see `decoys`; recorded by `contain_bucket`, and put back on
    restore only as part of the recorded pre-state). S3 wants Sids unique within a policy.
    """
    doc: dict[str, Any] = json.loads(original) if original else {"Version": "2012-10-17", "Statement": []}
    statements = [s for s in _statements(original) if not _reserved(s)]
    doc["Statement"] = [*statements, deny_statement(bucket, partition, exempt)]
    doc.setdefault("Version", "2012-10-17")
    text = json.dumps(doc, separators=(",", ":"))
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise PolicyTooLarge(
            f"bucket {bucket}: the policy with the containment statement would be {len(text.encode())} bytes, "
            f"over S3's {MAX_POLICY_BYTES}-byte limit; nothing was changed"
        )
    return text


def has_deny(policy: str | None, bucket: str | None = None) -> bool:
    """Whether the policy holds a deny the responder writes, recognised by its whole content."""
    return any(is_responder_deny(s, bucket) for s in _statements(policy))


def put_policy(gw: S3Gateway, bucket: str, document: str, rec: Recorder) -> None:
    """Put a bucket policy that may be public: the contained policy keeps the bucket's own statements,
    public ones included, and a restore may put a public original back.

    S3 refuses a public policy while BlockPublicPolicy is on, for the bucket or for its account, and a
    deny statement added does not make it non-public. Enabling the setting does not remove a policy
    already in place, so a bucket can hold a public policy with BlockPublicPolicy on. See
    `_put_lifting` for what is done then; the alternative, dropping the public statements from the
    contained policy, would change what restore must put back and would need the same lift to do so.
    """
    _put_lifting(gw, bucket, BLOCK_PUBLIC_POLICY, "bucket policy", lambda: gw.put_policy(bucket, document), rec)


def put_acl(gw: S3Gateway, bucket: str, acl: BucketAcl, rec: Recorder) -> None:
    """Put back ACL grants that may be public, which S3 refuses while BlockPublicAcls is on (the bucket's
    or the account's); enabling it leaves grants already in place. See `_put_lifting`."""
    _put_lifting(gw, bucket, BLOCK_PUBLIC_ACLS, "bucket ACL", lambda: gw.put_acl(bucket, acl), rec)


def _put_lifting(gw: S3Gateway, bucket: str, setting: str, what: str, put: Callable[[], None], rec: Recorder) -> None:
    """Make the put; when the bucket's own `setting` (BlockPublicPolicy or BlockPublicAcls) refuses it,
    lift that one setting for this one put and put it back at once, in every case.

    Both settings govern puts only: access is governed by RestrictPublicBuckets and IgnorePublicAcls,
    which stay as they are, so no request is admitted that was refused before, at any moment. The
    account-level setting is the account's decision and the responder holds no permission to change it:
    that refusal is raised as PublicAccessRefused, with the bucket's attribute unchanged.
    """
    try:
        put()
        return
    except ClientError as exc:
        if error_code(exc) != "AccessDenied":
            raise
        found = gw.public_access_block(bucket)
        if found is None or not found[setting]:
            raise PublicAccessRefused(_refused(bucket, what, setting, f"while its own {setting} is off")) from exc
    action = "_".join(re.findall("[A-Z][a-z]+", setting)).lower()
    gw.put_public_access_block(bucket, {**found, setting: False})
    rec.applied(f"lift_{action}", bucket)
    try:
        put()
    except ClientError as exc:
        if error_code(exc) == "AccessDenied":
            raise PublicAccessRefused(_refused(bucket, what, setting, f"even with its own {setting} lifted")) from exc
        raise
    finally:
        gw.put_public_access_block(bucket, found)
        rec.applied(f"reapply_{action}", bucket)


def _refused(bucket: str, what: str, setting: str, when: str) -> str:
    return (
        f"bucket {bucket}: S3 refused the {what} (AccessDenied) {when}. It is public, and the account-level "
        f"Block Public Access setting {setting} refuses that on every bucket (or the responder's role is not "
        f"allowed the put). The responder does not change account-level settings: the {what} was left as it "
        "was; lift the account setting or change it by hand"
    )


def plan_bucket(gw: S3Gateway, bucket: str, options: S3Options, partition: str, exempt: list[str]) -> Plan:
    pre = capture(gw, bucket)
    actions: list[PlannedAction] = []
    stopped = log_deliveries(pre) if options.deny_policy or options.disable_acls else []
    if options.deny_policy:
        contained_policy(pre.policy, bucket, partition, exempt)  # refuse now, before anything changes
        kept = len(json.loads(pre.policy).get("Statement", [])) if pre.policy else 0
        actions.append(
            PlannedAction(
                action="deny_policy",
                target=bucket,
                description=f"Add a deny-all statement to the bucket policy of {bucket} (keeping its {kept} statement(s)); "
                f"exempt: {', '.join(sorted(set(exempt))) or 'none'}"
                + (f"; log delivery from {', '.join(stopped)} stops until restore" if stopped else ""),
            )
        )
    if options.block_public_access:
        actions.append(
            PlannedAction(
                action="block_public_access",
                target=bucket,
                description=f"Turn on all four Block Public Access settings on {bucket}",
            )
        )
    if options.disable_acls:
        reset = "S"
        if pre.acl is not None and pre.acl.foreign_grants():
            reset = f"Reset the ACL of {bucket} to owner-only (it grants: {pre.acl.describe()}), then s"
        actions.append(
            PlannedAction(
                action="disable_acls",
                target=bucket,
                description=f"{reset}et object ownership of {bucket} to BucketOwnerEnforced (ACLs off)",
            )
        )
    details = [
        f"S3 bucket: {bucket}",
        f"Bucket policy: {'present' if pre.policy else 'none'}; Block Public Access: {pre.public_access_block or 'not configured'}",
        f"Object ownership: {pre.ownership_controls or 'not configured'}; ACL: {pre.acl.describe() if pre.acl else 'unknown'}",
        "Every request to the bucket and its objects is denied except from the responder and break-glass principals.",
    ]
    if stopped:
        details.append(
            f"Warning: this bucket receives logs from {', '.join(stopped)}; containment stops that delivery "
            "(trails, Config, flow or access logs fail to write here) until restore. A log archive the team "
            "never wants contained belongs on the protectedArns list."
        )
    for decoy in decoys(pre.policy, bucket, partition, exempt) if options.deny_policy else []:
        details.append(
            f"Evidence: the bucket policy holds a statement under the responder's reserved Sid {DENY_SID} that "
            f"is not the responder's deny: {_describe(decoy)}. It is left out of the contained policy."
        )
    if options.deny_policy and pre.policy and (pre.public_access_block or {}).get(BLOCK_PUBLIC_POLICY):
        details.append(
            "BlockPublicPolicy is on: if S3 refuses the contained policy as public, that one setting is lifted "
            "for the put and put back at once."
        )
    return Plan(actions=actions, impact=ResourceImpact(kind="s3_bucket", details=details), pre_state=pre)


def contain_bucket(
    gw: S3Gateway, incident: Incident, options: S3Options, partition: str, exempt: list[str], rec: Recorder
) -> None:
    """Deny statement, Block Public Access, ACL reset, ownership: in this order (see the module's doc).

    When S3 refuses the deny statement for a reason the responder may not lift (account-level Block
    Public Access), the other steps still run, closing the bucket as far as they can, and the refusal is
    raised after them: the task fails and the bucket is never more open than it was found.
    """
    pre = incident.pre_state
    assert isinstance(pre, S3PreState)
    bucket = pre.bucket
    refused: PublicAccessRefused | None = None
    if options.deny_policy:
        current = gw.policy(bucket)
        wanted = contained_policy(current, bucket, partition, exempt)
        found = decoys(current, bucket, partition, exempt)
        for decoy in found:
            rec.note("reserved_sid_decoy", f"bucket {bucket}: a statement under the responder's reserved Sid "
                     f"{DENY_SID} is not the responder's deny (evidence): {_describe(decoy)}")  # fmt: skip
        if _same_policy(current, wanted):
            rec.skipped("deny_policy", bucket)
        else:
            try:
                put_policy(gw, bucket, wanted, rec)
                rec.applied("deny_policy", bucket)
                for decoy in found:
                    rec.applied("remove_reserved_sid_decoy", bucket, statement=_describe(decoy))
            except PublicAccessRefused as exc:
                refused = exc
    if options.block_public_access:
        if gw.public_access_block(bucket) == ALL_BLOCKED:
            rec.skipped("block_public_access", bucket)
        else:
            gw.put_public_access_block(bucket, ALL_BLOCKED)
            rec.applied("block_public_access", bucket)
    if options.disable_acls:
        if gw.acl(bucket).foreign_grants():
            gw.put_acl_private(bucket)
            rec.applied("reset_acl", bucket)
        if gw.ownership_controls(bucket) == ACLS_OFF:
            rec.skipped("disable_acls", bucket)
        else:
            gw.put_ownership_controls(bucket, ACLS_OFF)
            rec.applied("disable_acls", bucket)
    if refused is not None:
        raise refused


def verify_bucket(
    gw: S3Gateway, incident: Incident, options: S3Options, partition: str, exempt: list[str]
) -> list[str]:
    """Read every attribute back and compare it with what containment wrote."""
    pre = incident.pre_state
    assert isinstance(pre, S3PreState)
    bucket = pre.bucket
    problems: list[str] = []
    if options.deny_policy:
        policy = gw.policy(bucket)
        if not _same_policy(policy, contained_policy(pre.policy, bucket, partition, exempt)):
            problems.append(
                f"bucket {bucket}: the bucket policy is not the one written (the original statements and the "
                f"responder's deny-all with its exemptions); found {policy!r}"
            )
        for decoy in decoys(policy, bucket, partition, exempt):
            problems.append(
                f"bucket {bucket}: a statement under the responder's reserved Sid {DENY_SID} is not the "
                f"responder's deny (evidence): {_describe(decoy)}"
            )
    if options.block_public_access and (found := gw.public_access_block(bucket)) != ALL_BLOCKED:
        problems.append(f"bucket {bucket}: Block Public Access is not fully on (found {found})")
    if options.disable_acls:
        if (owner := gw.ownership_controls(bucket)) != ACLS_OFF:
            problems.append(f"bucket {bucket}: ACLs are not disabled (ownership controls {owner})")
        if (acl := gw.acl(bucket)).foreign_grants():
            problems.append(f"bucket {bucket}: the ACL still grants outside the owner ({acl.describe()})")
    return problems


def restore_bucket(gw: S3Gateway, incident: Incident, rec: Recorder) -> list[str]:
    """Undo what the responder changed: ownership, Block Public Access, ACL, and the policy last (the
    deny statement keeps the bucket closed until everything else is back; see the module's doc).

    Each attribute goes back to its pre-state when it still holds what the responder set. When an
    operator changed it after containment, their change is kept, the responder's own part (the deny
    statement) is removed, and the report says so: an operator's change is never silently discarded.
    """
    pre = incident.pre_state
    assert isinstance(pre, S3PreState)
    bucket = pre.bucket
    report: list[str] = []
    _restore_setting(gw.ownership_controls(bucket), pre.ownership_controls, [ACLS_OFF], "ownership_controls",
                     lambda: gw.delete_ownership_controls(bucket) if pre.ownership_controls is None
                     else gw.put_ownership_controls(bucket, pre.ownership_controls),
                     bucket, rec, report)  # fmt: skip
    # What the responder can leave: all four on, or (a crash inside _put_lifting) the pre-state with one
    # setting lifted.
    set_by_responder: list[object] = [ALL_BLOCKED]
    for lifted in (BLOCK_PUBLIC_POLICY, BLOCK_PUBLIC_ACLS):
        if pre.public_access_block is not None and pre.public_access_block[lifted]:
            set_by_responder.append({**pre.public_access_block, lifted: False})
    _restore_setting(gw.public_access_block(bucket), pre.public_access_block, set_by_responder, "public_access_block",
                     lambda: gw.delete_public_access_block(bucket) if pre.public_access_block is None
                     else gw.put_public_access_block(bucket, pre.public_access_block),
                     bucket, rec, report)  # fmt: skip
    if pre.acl is not None:
        _restore_acl(gw, pre, rec, report)
    _restore_policy(gw, pre, rec, report)
    return report


def _restore_acl(gw: S3Gateway, pre: S3PreState, rec: Recorder, report: list[str]) -> None:
    assert pre.acl is not None
    bucket = pre.bucket
    current = gw.acl(bucket)
    if current == pre.acl:
        return
    if current.foreign_grants():  # the responder only ever sets owner-only: someone else granted since
        _kept(rec, report, bucket, "acl", f"its ACL was changed after containment ({current.describe()}); kept")
        return
    if gw.ownership_controls(bucket) == ACLS_OFF:  # ownership kept as an operator set it: ACLs stay off
        _kept(rec, report, bucket, "acl", "ACLs stay disabled (object ownership was set after containment), "
              f"so its ACL grants before containment ({pre.acl.describe()}) were not put back")  # fmt: skip
        return
    blocked_now = (gw.public_access_block(bucket) or {}).get(BLOCK_PUBLIC_ACLS, False)
    if not blocked_now or (pre.public_access_block or {}).get(BLOCK_PUBLIC_ACLS, False):
        put_acl(gw, bucket, pre.acl, rec)  # as found: a block the bucket had is lifted for the put only
    else:  # an operator blocked public ACLs after containment: their choice stands
        try:
            gw.put_acl(bucket, pre.acl)
        except ClientError as exc:
            if error_code(exc) != "AccessDenied":
                raise
            _kept(rec, report, bucket, "acl", "Block Public Access set after containment blocks public ACLs, so "
                  f"its public ACL grants before containment ({pre.acl.describe()}) were not put back")  # fmt: skip
            return
    rec.applied("restore_acl", bucket)


def _restore_policy(gw: S3Gateway, pre: S3PreState, rec: Recorder, report: list[str]) -> None:
    """The reserved Sid is the responder's: whatever stands under it now (its deny, recognised by content,
    or a decoy written after containment, recorded and reported as evidence) is taken out. When the rest is
    what containment left, the pre-state's exact text goes back (a decoy the owner had before containment
    included: that is the recorded pre-state); otherwise the rest is an operator's change, kept and reported."""
    bucket = pre.bucket
    current = gw.policy(bucket)
    if _same_policy(current, pre.policy):
        return
    foreign = [s for s in _statements(current) if _reserved(s) and not is_responder_deny(s, bucket)]
    for decoy in foreign:
        what = (f"a statement under the responder's reserved Sid {DENY_SID} that is not the responder's deny was "
                f"found after containment (evidence; removed): {_describe(decoy)}")  # fmt: skip
        rec.note("reserved_sid_decoy", f"bucket {bucket}: {what}")
        report.append(f"bucket {bucket}: {what}")
    without = without_deny(current)
    if _same_policy(without, without_deny(pre.policy)):
        if pre.policy is None:
            gw.delete_policy(bucket)
        else:
            put_policy(gw, bucket, pre.policy, rec)
        rec.applied("restore_policy", bucket, existed=str(pre.policy is not None).lower())
        return
    reserved = any(_reserved(s) for s in _statements(current))
    if reserved:
        if without is None:
            gw.delete_policy(bucket)
        else:
            put_policy(gw, bucket, without, rec)
        rec.applied("remove_deny_statement", bucket)
    _kept(rec, report, bucket, "policy", "its policy was changed after containment; kept that version"
          + (" without the responder's deny statement" if reserved else ""))  # fmt: skip


def _restore_setting(
    current: object, pre: object, responder_values: list[object], attribute: str, put_back: Callable[[], object],
    bucket: str, rec: Recorder, report: list[str],
) -> None:  # fmt: skip
    if current == pre:
        return
    if current in responder_values:
        put_back()
        rec.applied(f"restore_{attribute}", bucket)
    else:
        _kept(rec, report, bucket, attribute, f"{attribute} was changed after containment to {current}; kept")


def _kept(rec: Recorder, report: list[str], bucket: str, attribute: str, what: str) -> None:
    rec.skipped(KEEP_OPERATOR_CHANGE, bucket, attribute=attribute)
    report.append(f"bucket {bucket}: {what}")


def without_deny(policy: str | None) -> str | None:
    """The policy without the statements under the reserved Sid (the responder's deny, and any decoy);
    None when nothing else is left."""
    if policy is None:
        return None
    statements = _statements(policy)
    kept = [st for st in statements if not _reserved(st)]
    if not kept:
        return None
    if len(kept) == len(statements):
        return policy
    doc = json.loads(policy)
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
    if _same_policy(policy, pre.policy):
        pass
    elif any(_reserved(s) and s not in _statements(pre.policy) for s in _statements(policy)):
        mismatches.append(f"policy: a statement under the responder's reserved Sid {DENY_SID} is still in place")
    elif "policy" not in kept:
        mismatches.append(f"policy: expected {pre.policy!r}, found {policy!r}")
    pab = gw.public_access_block(pre.bucket)
    if "public_access_block" not in kept and pab != pre.public_access_block:
        mismatches.append(f"public_access_block: expected {pre.public_access_block}, found {pab}")
    owner = gw.ownership_controls(pre.bucket)
    if "ownership_controls" not in kept and owner != pre.ownership_controls:
        mismatches.append(f"ownership_controls: expected {pre.ownership_controls}, found {owner}")
    if pre.acl is not None and "acl" not in kept and (acl := gw.acl(pre.bucket)) != pre.acl:
        mismatches.append(f"acl: expected {pre.acl.describe()}, found {acl.describe()}")
    return mismatches
