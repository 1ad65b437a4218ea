"""IAM containment: users (deny-all, key deactivation, older-session revocation) and roles.

The responder's deny-all managed policy is attached; where a user already has as many managed policies
as IAM allows (LimitExceeded), an inline deny-all is put instead. Older sessions are revoked with an
inline deny on `aws:TokenIssueTime` before the containment time. Keys are deactivated, never deleted.

Decided by content, never by name: the owner of a principal (possibly the attacker) can write inline
policies under the responder's reserved names too. So
- a step counts as done only when the document read back equals what the responder writes;
- a reserved name holding anything else is overwritten with the responder's document, and the foreign
  document is recorded as evidence (in the action's detail, `replaced_foreign`, and on the timeline);
- the session revocation is rewritten on every containment, to the later of the time already in the
  responder's document and now: a stale revocation from an earlier incident never makes the step skip;
- the deny-all managed policy is trusted only while its default version is exactly Deny * on *: when it
  was altered (iam:CreatePolicyVersion), it is not attached, the inline deny-all is put instead and
  verify fails naming the policy;
- verify reads every document back (the inline documents, the managed policy's default version, the
  revocation time) and fails on any difference.

Restore detaches or removes exactly what was added. Keys are reactivated only when asked (AWS's advice
on compromised keys is to leave them inactive), and the session revocation stays unless asked: it only
ever blocks sessions issued before containment. A foreign document found under a reserved name (a
decoy) is NOT put back: it may be an attacker's Allow *:*, and restoring it would hand the access back.
Restore removes the responder's document under that name and reports the decoy; its original content
stays in the incident's actions for whoever wants to put it back by hand. A stale revocation from an
earlier incident that containment moved later stays, at the later time (restore may only delete).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from responder.adapters.iam import IamGateway, InlinePolicyLimitExceeded, PolicyLimitExceeded, Principal
from responder.domain.errors import ContainmentError
from responder.domain.recorder import KEEP_OPERATOR_CHANGE, Recorder, kept_attributes
from responder.models.incident import (
    AccessKeyState,
    ActionStatus,
    IamRolePreState,
    IamUserPreState,
    Incident,
    Plan,
    PlannedAction,
    ResourceImpact,
    RestoreOptions,
)
from responder.models.preferences import IamRoleOptions, IamUserOptions

DENY_ALL_INLINE = "responder-deny-all"
REVOKE_SESSIONS = "responder-revoke-older-sessions"


def deny_all_document() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Sid": "ResponderDenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"}],
        }
    )


def revoke_document(before: datetime) -> str:
    stamp = before.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ResponderRevokeOlderSessions",
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"DateLessThan": {"aws:TokenIssueTime": stamp}},
                }
            ],
        }
    )


STAMP = "%Y-%m-%dT%H:%M:%SZ"


def _statements(doc: dict[str, Any]) -> list[Any]:
    st = doc.get("Statement")
    return st if isinstance(st, list) else [st]


def _only(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def is_deny_all(doc: dict[str, Any]) -> bool:
    """Exactly one statement, Deny of every action on every resource, with no condition."""
    statements = _statements(doc)
    if len(statements) != 1 or not isinstance(statements[0], dict):
        return False
    st = statements[0]
    return (
        set(st) <= {"Sid", "Effect", "Action", "Resource"}
        and st.get("Effect") == "Deny"
        and _only(st.get("Action")) == "*"
        and _only(st.get("Resource")) == "*"
    )


def is_responder_deny_all(doc: dict[str, Any] | None) -> bool:
    return doc is not None and doc == json.loads(deny_all_document())


def revocation_time(doc: dict[str, Any] | None) -> datetime | None:
    """The time in a document of exactly the responder's revocation shape, None for anything else."""
    if doc is None:
        return None
    try:
        stamp = _statements(doc)[0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
        when = datetime.strptime(str(stamp), STAMP).replace(tzinfo=UTC)
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return when if doc == json.loads(revoke_document(when)) else None


def containment_begun(
    gw: IamGateway, kind: Principal, name: str, inline: list[str], attached: list[str], deny_all_arn: str
) -> bool:
    """Whether the responder's own content is already on the principal: the deny-all attached, or a reserved
    inline name holding exactly the responder's document. The names alone prove nothing (the principal's
    owner can write them too); each is read back."""
    if deny_all_arn in attached:
        return True
    if DENY_ALL_INLINE in inline and is_responder_deny_all(gw.inline_document(kind, name, DENY_ALL_INLINE)):
        return True
    return REVOKE_SESSIONS in inline and revocation_time(gw.inline_document(kind, name, REVOKE_SESSIONS)) is not None


def _decoy(rec: Recorder, kind: Principal, name: str, policy: str, foreign: dict[str, Any]) -> dict[str, str]:
    rec.note(
        "decoy_policy",
        f"{kind} {name}: inline policy {policy} (a name the responder reserves) held a document the responder "
        "did not write; it was overwritten and its content recorded",
    )
    return {"replaced_foreign": "true", "foreign_document": json.dumps(foreign, sort_keys=True)}


def _decoys(incident: Incident) -> set[str]:
    """The reserved names that held foreign documents before containment overwrote them."""
    return {a.detail.get("policy", "") for a in incident.actions if a.detail.get("replaced_foreign") == "true"}


def _contained_revocation(incident: Incident) -> datetime | None:
    times = [
        a.detail["issued_before"]
        for a in incident.actions
        if a.action == "revoke_sessions" and a.detail.get("issued_before")
    ]
    return datetime.strptime(max(times), STAMP).replace(tzinfo=UTC) if times else None


def managed_deny_all_problem(gw: IamGateway, deny_all_arn: str) -> str | None:
    """Why the deny-all managed policy cannot be trusted, None when its default version is Deny * on *
    (or when it does not exist: nothing is attached then, the inline deny-all is put instead)."""
    found = gw.managed_default_document(deny_all_arn)
    if found is None or is_deny_all(found[1]):
        return None
    return (
        f"the responder's deny-all managed policy {deny_all_arn} is NOT Deny * on * (default version {found[0]}): "
        "it was altered; it is not relied on and the inline deny-all is used instead"
    )


# -- users ----------------------------------------------------------------------------------------
def capture_user(gw: IamGateway, user: str) -> IamUserPreState:
    return IamUserPreState(
        user_name=user,
        keys=[AccessKeyState(access_key_id=k, status=s) for k, s in gw.access_keys(user)],
        attached_policies=gw.attached("user", user),
        inline_policies=gw.inline("user", user),
        tags=gw.tags("user", user) or {},
    )


def keys_to_deactivate(pre: IamUserPreState, finding_keys: set[str], options: IamUserOptions) -> list[str]:
    if options.deactivate_keys == "none":
        return []
    if options.deactivate_keys == "all":
        return [k.access_key_id for k in pre.keys]
    return [k.access_key_id for k in pre.keys if k.access_key_id in finding_keys]


def plan_user(gw: IamGateway, user: str, finding_keys: set[str], options: IamUserOptions, deny_all_arn: str) -> Plan:
    pre = capture_user(gw, user)
    actions: list[PlannedAction] = []
    if options.deny_all:
        actions.append(
            PlannedAction(
                action="attach_deny_all",
                target=user,
                description=f"Attach the responder's deny-all policy to user {user} (inline deny-all if 10 policies are attached)",
            )
        )
    for key in keys_to_deactivate(pre, finding_keys, options):
        actions.append(
            PlannedAction(
                action="deactivate_key", target=key, description=f"Deactivate access key {key} (never deleted)"
            )
        )
    unknown = sorted(finding_keys - {k.access_key_id for k in pre.keys})
    if options.revoke_sessions:
        actions.append(
            PlannedAction(
                action="revoke_sessions",
                target=user,
                description=f"Revoke {user}'s temporary credentials issued before containment (inline deny on aws:TokenIssueTime)",
            )
        )
    details = [
        f"IAM user: {user}",
        f"Access keys: {', '.join(f'{k.access_key_id} ({k.status})' for k in pre.keys) or 'none'}",
        f"Managed policies attached: {len(pre.attached_policies)}; inline policies: {', '.join(pre.inline_policies) or 'none'}",
        "Everything this user's credentials do will be denied until restore.",
    ]
    if unknown:
        details.append(f"Key(s) named in the finding but not on the user (already deleted?): {', '.join(unknown)}")
    return Plan(actions=actions, impact=ResourceImpact(kind="iam_user", details=details), pre_state=pre)


def _deny_all(gw: IamGateway, kind: Principal, name: str, deny_all_arn: str, rec: Recorder) -> None:
    inline_doc = gw.inline_document(kind, name, DENY_ALL_INLINE)
    if is_responder_deny_all(inline_doc):
        rec.skipped("attach_deny_all", name, policy=DENY_ALL_INLINE)
        return
    managed_problem = managed_deny_all_problem(gw, deny_all_arn)
    if inline_doc is None and managed_problem is None:
        if deny_all_arn in gw.attached(kind, name):
            rec.skipped("attach_deny_all", name, policy=deny_all_arn)
            return
        try:
            gw.attach(kind, name, deny_all_arn)
            rec.applied("attach_deny_all", name, policy=deny_all_arn)
            return
        except PolicyLimitExceeded:
            reason = "managed policy limit reached"
    elif inline_doc is None:
        reason = str(managed_problem)
        rec.note("tampered_deny_all_policy", f"{reason}; an inline deny-all was put on {kind} {name} instead")
    else:
        reason = "a foreign document held the responder's inline deny-all name"
    evidence = {} if inline_doc is None else _decoy(rec, kind, name, DENY_ALL_INLINE, inline_doc)
    gw.put_inline(kind, name, DENY_ALL_INLINE, deny_all_document())
    rec.applied("put_inline_deny_all", name, policy=DENY_ALL_INLINE, reason=reason, **evidence)


def revoke_older_sessions(gw: IamGateway, kind: Principal, name: str, rec: Recorder) -> None:
    """Revoke sessions issued before the later of now and the time already revoked by the responder."""
    existing = gw.inline_document(kind, name, REVOKE_SESSIONS)
    previous = revocation_time(existing)
    now = datetime.now(UTC).replace(microsecond=0)
    when = max(now, previous) if previous else now
    stamp = when.strftime(STAMP)
    if previous is not None and previous >= now:
        rec.skipped("revoke_sessions", name, policy=REVOKE_SESSIONS, issued_before=stamp)
        return
    detail: dict[str, str] = {}
    if previous is not None:
        detail = {"previous_issued_before": previous.strftime(STAMP)}
    elif existing is not None:
        detail = _decoy(rec, kind, name, REVOKE_SESSIONS, existing)
    gw.put_inline(kind, name, REVOKE_SESSIONS, revoke_document(when))
    rec.applied("revoke_sessions", name, policy=REVOKE_SESSIONS, issued_before=stamp, **detail)


def _deny_all_problems(gw: IamGateway, kind: Principal, name: str, deny_all_arn: str) -> list[str]:
    problems: list[str] = []
    inline_doc = gw.inline_document(kind, name, DENY_ALL_INLINE)
    inline_ok = is_responder_deny_all(inline_doc)
    if inline_doc is not None and not inline_ok:
        problems.append(f"{kind} {name}: inline policy {DENY_ALL_INLINE} is not the responder's deny-all")
    managed_problem = managed_deny_all_problem(gw, deny_all_arn)
    if managed_problem:
        problems.append(managed_problem)
    managed_ok = managed_problem is None and deny_all_arn in gw.attached(kind, name)
    if not inline_ok and not managed_ok:
        problems.append(f"{kind} {name} has no deny-all policy")
    return problems


def revocation_problems(gw: IamGateway, kind: Principal, name: str, incident: Incident) -> list[str]:
    doc = gw.inline_document(kind, name, REVOKE_SESSIONS)
    if doc is None:
        return [f"{kind} {name} has no session revocation policy"]
    when = revocation_time(doc)
    if when is None:
        return [f"{kind} {name}: inline policy {REVOKE_SESSIONS} is not the responder's session revocation"]
    floor = _contained_revocation(incident)
    if floor is not None and when < floor:
        return [
            f"{kind} {name}: the session revocation denies sessions issued before {when.strftime(STAMP)}, "
            f"containment revoked those issued before {floor.strftime(STAMP)}"
        ]
    return []


class Refusals:
    """Inline policies IAM refused for size: the other steps still run (a refused session revocation
    must not leave the deny-all or the key deactivation undone), then the step fails with every refusal
    named. Whatever was applied is in the recorder, so restore finds it."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def run(self, step: Callable[[], None]) -> None:
        try:
            step()
        except InlinePolicyLimitExceeded as exc:
            self.messages.append(str(exc))

    def raise_any(self) -> None:
        if self.messages:
            raise ContainmentError("; ".join(self.messages) + ". The other containment steps were applied.")


def contain_user(
    gw: IamGateway,
    incident: Incident,
    finding_keys: set[str],
    options: IamUserOptions,
    deny_all_arn: str,
    rec: Recorder,
) -> None:
    pre = incident.pre_state
    assert isinstance(pre, IamUserPreState)
    user = pre.user_name
    refusals = Refusals()
    # Keys first: a deny-all IAM refuses (a full quota, throttling past retries) must not leave them active.
    current = dict(gw.access_keys(user))
    for key in keys_to_deactivate(pre, finding_keys, options):
        if current.get(key) == "Active":
            gw.set_key_status(user, key, "Inactive")
            rec.applied("deactivate_key", key, user=user)
        else:
            rec.skipped("deactivate_key", key, status=current.get(key, "missing"))
    if options.deny_all:
        refusals.run(lambda: _deny_all(gw, "user", user, deny_all_arn, rec))
    if options.revoke_sessions:
        refusals.run(lambda: revoke_older_sessions(gw, "user", user, rec))
    refusals.raise_any()


def verify_user(
    gw: IamGateway, incident: Incident, finding_keys: set[str], options: IamUserOptions, deny_all_arn: str
) -> list[str]:
    pre = incident.pre_state
    assert isinstance(pre, IamUserPreState)
    problems: list[str] = []
    user = pre.user_name
    if options.deny_all:
        problems += _deny_all_problems(gw, "user", user, deny_all_arn)
    current = dict(gw.access_keys(user))
    for key in keys_to_deactivate(pre, finding_keys, options):
        if current.get(key, "Inactive") != "Inactive":
            problems.append(f"access key {key} is still {current[key]}")
    if options.revoke_sessions:
        problems += revocation_problems(gw, "user", user, incident)
    return problems


def _restore_policies(
    gw: IamGateway, kind: Principal, name: str, pre_attached: list[str], pre_inline: list[str],
    deny_all_arn: str, options: RestoreOptions, rec: Recorder, report: list[str],
) -> None:  # fmt: skip
    """Remove what the responder added. Policies an operator attached, detached, added or deleted after
    containment are left as they are and reported, never silently reverted. `pre_inline` excludes the
    decoys (see `inline_to_restore`)."""
    attached = gw.attached(kind, name)
    if deny_all_arn in attached and deny_all_arn not in pre_attached:
        gw.detach(kind, name, deny_all_arn)
        rec.applied("detach_deny_all", name)
    inline = gw.inline(kind, name)
    if DENY_ALL_INLINE in inline and DENY_ALL_INLINE not in pre_inline:
        gw.delete_inline(kind, name, DENY_ALL_INLINE)
        rec.applied("delete_inline_deny_all", name)
    _keep_or_lift_revocation(gw, kind, name, inline, pre_inline, options, rec, report)
    ours = {deny_all_arn, DENY_ALL_INLINE, REVOKE_SESSIONS}
    for attribute, now, before in (
        ("attached_policies", attached, pre_attached),
        ("inline_policies", inline, pre_inline),
    ):
        added = sorted(set(now) - set(before) - ours)
        removed = sorted(set(before) - set(now) - ours)
        if added or removed:
            rec.skipped(
                KEEP_OPERATOR_CHANGE, name, attribute=attribute, added=",".join(added), removed=",".join(removed)
            )
            changes = [f"added {', '.join(added)}" if added else "", f"removed {', '.join(removed)}" if removed else ""]
            report.append(
                f"{kind} {name}: {attribute.replace('_', ' ')} changed after containment "
                f"({'; '.join(c for c in changes if c)}); kept as the operator left them"
            )


def _keep_or_lift_revocation(
    gw: IamGateway, kind: Principal, name: str, inline: list[str], pre_inline: list[str],
    options: RestoreOptions, rec: Recorder, report: list[str],
) -> None:  # fmt: skip
    """The responder's session revocation, where containment added it, stays (it only denies sessions
    issued before containment) unless the restore asks to lift it. One there before containment stays."""
    if REVOKE_SESSIONS in inline and REVOKE_SESSIONS not in pre_inline:
        if options.lift_session_revocation:
            gw.delete_inline(kind, name, REVOKE_SESSIONS)
            rec.applied("lift_session_revocation", name)
        else:
            report.append(
                f"{kind} {name}: session revocation kept (it only denies sessions issued before containment); "
                "restore with lift_session_revocation to remove it"
            )


def restore_session_revocation(
    gw: IamGateway, incident: Incident, kind: Principal, name: str, pre_inline: list[str],
    options: RestoreOptions, rec: Recorder,
) -> list[str]:  # fmt: skip
    """Restore of the session revocation alone (for a principal containment otherwise left unchanged, such as
    an instance's role): kept or lifted as for a contained role; a decoy under the name is not put back."""
    report: list[str] = []
    before = inline_to_restore(incident, kind, name, pre_inline, report)
    _keep_or_lift_revocation(gw, kind, name, gw.inline(kind, name), before, options, rec, report)
    return report


def session_revocation_restored_problems(
    gw: IamGateway, incident: Incident, kind: Principal, name: str, pre_inline: list[str], options: RestoreOptions
) -> list[str]:
    """Read back after `restore_session_revocation`: a revocation containment added is gone when lifting was
    asked; one there before containment (the responder's, from an earlier incident) is still there."""
    before = inline_to_restore(incident, kind, name, pre_inline, None)
    inline = gw.inline(kind, name)
    if options.lift_session_revocation and REVOKE_SESSIONS in inline and REVOKE_SESSIONS not in before:
        return [f"{kind} {name}: inline_policies: the responder's {REVOKE_SESSIONS} still in place"]
    if REVOKE_SESSIONS in before and REVOKE_SESSIONS not in inline:
        return [f"{kind} {name}: inline_policies: {REVOKE_SESSIONS}, there before containment, is gone"]
    return []


def inline_to_restore(
    incident: Incident, kind: Principal, name: str, pre_inline: list[str], report: list[str] | None
) -> list[str]:
    """The inline policies to return to: a reserved name that held a foreign document (a decoy) is not
    put back (it may grant Allow *:*); restore removes the responder's document and reports the decoy."""
    decoys = _decoys(incident) & set(pre_inline)
    if report is not None:
        for policy in sorted(decoys):
            report.append(
                f"{kind} {name}: inline policy {policy} held a document the responder did not write before "
                "containment (a decoy under the responder's reserved name); it was not put back, its content "
                "is in the incident's actions (foreign_document)"
            )
    return [p for p in pre_inline if p not in decoys]


def deactivated_by_responder(incident: Incident) -> set[str]:
    """The keys the responder deactivated: those its plan said to deactivate, less those it found already
    inactive when it contained (the plan is recorded before any change, so a crash mid-step loses none)."""
    planned = {a.target for a in incident.plan if a.action == "deactivate_key"}
    found_inactive = {
        a.target for a in incident.actions if a.action == "deactivate_key" and a.status is ActionStatus.SKIPPED
    }
    return planned - found_inactive


def restore_user(
    gw: IamGateway, incident: Incident, deny_all_arn: str, options: RestoreOptions, rec: Recorder
) -> list[str]:
    pre = incident.pre_state
    assert isinstance(pre, IamUserPreState)
    report: list[str] = []
    user = pre.user_name
    current = dict(gw.access_keys(user))
    ours = deactivated_by_responder(incident)
    kept: list[str] = []
    for key in reversed(pre.keys):
        if key.status == "Active" and current.get(key.access_key_id) == "Inactive":
            if key.access_key_id not in ours:
                rec.skipped(KEEP_OPERATOR_CHANGE, user, attribute=f"keys[{key.access_key_id}]")
                report.append(
                    f"access key {key.access_key_id} was made inactive after containment, not deactivated by the "
                    "responder; kept as the operator left it"
                )
            elif options.reactivate_keys:
                gw.set_key_status(user, key.access_key_id, "Active")
                rec.applied("reactivate_key", key.access_key_id, user=user)
            else:
                kept.append(key.access_key_id)
    if kept:
        report.append(
            f"access key(s) {', '.join(kept)} stay inactive, as AWS advises for compromised keys; "
            "restore with reactivate_keys to reactivate them"
        )
    known = {key.access_key_id for key in pre.keys}
    for key_id in sorted(known - set(current)):
        rec.skipped(KEEP_OPERATOR_CHANGE, user, attribute=f"keys[{key_id}]")
        report.append(f"access key {key_id} was deleted after containment; nothing to restore")
    for key_id in sorted(set(current) - known):
        report.append(f"access key {key_id} was created after containment ({current[key_id]}); left as it is")
    pre_inline = inline_to_restore(incident, "user", user, pre.inline_policies, report)
    _restore_policies(gw, "user", user, pre.attached_policies, pre_inline, deny_all_arn, options, rec, report)
    return report


def _verify_policies(
    gw: IamGateway, kind: Principal, name: str, pre_attached: list[str], pre_inline: list[str],
    deny_all_arn: str, options: RestoreOptions, kept: set[str],
) -> list[str]:  # fmt: skip
    mismatches: list[str] = []
    attached = gw.attached(kind, name)
    if deny_all_arn in attached and deny_all_arn not in pre_attached:
        mismatches.append(f"attached_policies: the responder's {deny_all_arn} is still attached")
    elif "attached_policies" not in kept and sorted(attached) != sorted(pre_attached):
        mismatches.append(f"attached_policies: expected {sorted(pre_attached)}, found {sorted(attached)}")
    inline = gw.inline(kind, name)
    expected = set(pre_inline)
    if not options.lift_session_revocation and REVOKE_SESSIONS in inline:
        expected.add(REVOKE_SESSIONS)  # kept on purpose, and reported
    ours = {DENY_ALL_INLINE} | ({REVOKE_SESSIONS} if options.lift_session_revocation else set())
    left = sorted((set(inline) & ours) - set(pre_inline))
    if left:
        mismatches.append(f"inline_policies: the responder's {', '.join(left)} still in place")
    elif "inline_policies" not in kept and set(inline) != expected:
        mismatches.append(f"inline_policies: expected {sorted(expected)}, found {sorted(inline)}")
    return mismatches


def verify_user_restored(gw: IamGateway, incident: Incident, deny_all_arn: str, options: RestoreOptions) -> list[str]:
    pre = incident.pre_state
    assert isinstance(pre, IamUserPreState)
    kept = kept_attributes(incident)
    pre_inline = inline_to_restore(incident, "user", pre.user_name, pre.inline_policies, None)
    mismatches = _verify_policies(
        gw, "user", pre.user_name, pre.attached_policies, pre_inline, deny_all_arn, options, kept
    )
    current = dict(gw.access_keys(pre.user_name))
    for key in pre.keys:
        now = current.get(key.access_key_id)
        if now is None:
            if f"keys[{key.access_key_id}]" not in kept:
                mismatches.append(f"keys[{key.access_key_id}]: no longer exists")
        elif now != key.status and not (
            key.status == "Active"
            and now == "Inactive"
            and (not options.reactivate_keys or key.access_key_id not in deactivated_by_responder(incident))
        ):
            mismatches.append(f"keys[{key.access_key_id}].status: expected {key.status}, found {now}")
    return mismatches


# -- roles ----------------------------------------------------------------------------------------
def capture_role(gw: IamGateway, role: str) -> IamRolePreState:
    return IamRolePreState(
        role_name=role,
        attached_policies=gw.attached("role", role),
        inline_policies=gw.inline("role", role),
        tags=gw.tags("role", role) or {},
    )


def plan_role(gw: IamGateway, role: str, options: IamRoleOptions) -> Plan:
    pre = capture_role(gw, role)
    actions: list[PlannedAction] = []
    if options.revoke_sessions:
        actions.append(
            PlannedAction(
                action="revoke_sessions",
                target=role,
                description=f"Revoke every session of role {role} issued before containment (inline deny on aws:TokenIssueTime)",
            )
        )
    if options.deny_all:
        actions.append(
            PlannedAction(
                action="attach_deny_all",
                target=role,
                description=f"Attach the responder's deny-all policy to role {role}",
            )
        )
    details = [
        f"IAM role: {role}",
        f"Managed policies attached: {len(pre.attached_policies)}; inline policies: {', '.join(pre.inline_policies) or 'none'}",
        "Sessions issued before containment lose all access; new sessions keep working"
        + (" but are denied everything." if options.deny_all else "."),
    ]
    return Plan(actions=actions, impact=ResourceImpact(kind="iam_role", details=details), pre_state=pre)


def contain_role(gw: IamGateway, incident: Incident, options: IamRoleOptions, deny_all_arn: str, rec: Recorder) -> None:
    pre = incident.pre_state
    assert isinstance(pre, IamRolePreState)
    refusals = Refusals()
    if options.revoke_sessions:
        refusals.run(lambda: revoke_older_sessions(gw, "role", pre.role_name, rec))
    if options.deny_all:
        refusals.run(lambda: _deny_all(gw, "role", pre.role_name, deny_all_arn, rec))
    refusals.raise_any()


def verify_role(gw: IamGateway, incident: Incident, options: IamRoleOptions, deny_all_arn: str) -> list[str]:
    pre = incident.pre_state
    assert isinstance(pre, IamRolePreState)
    problems: list[str] = []
    if options.revoke_sessions:
        problems += revocation_problems(gw, "role", pre.role_name, incident)
    if options.deny_all:
        problems += _deny_all_problems(gw, "role", pre.role_name, deny_all_arn)
    return problems


def restore_role(
    gw: IamGateway, incident: Incident, deny_all_arn: str, options: RestoreOptions, rec: Recorder
) -> list[str]:
    pre = incident.pre_state
    assert isinstance(pre, IamRolePreState)
    report: list[str] = []
    pre_inline = inline_to_restore(incident, "role", pre.role_name, pre.inline_policies, report)
    _restore_policies(gw, "role", pre.role_name, pre.attached_policies, pre_inline, deny_all_arn, options, rec, report)
    return report


def verify_role_restored(gw: IamGateway, incident: Incident, deny_all_arn: str, options: RestoreOptions) -> list[str]:
    pre = incident.pre_state
    assert isinstance(pre, IamRolePreState)
    pre_inline = inline_to_restore(incident, "role", pre.role_name, pre.inline_policies, None)
    return _verify_policies(
        gw, "role", pre.role_name, pre.attached_policies, pre_inline, deny_all_arn, options,
        kept_attributes(incident),
    )  # fmt: skip
