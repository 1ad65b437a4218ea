"""EC2 instance containment: plan, contain, verify, restore.

Network isolation swaps the security groups of every ENI (ModifyInstanceAttribute(Groups) fails on
instances with several ENIs), ENI by ENI, in two steps by default: first a temporary all-access group,
which turns tracked flows into untracked ones, then the isolation group with no rules, which cuts them.
It fails closed: on any error while an ENI is handled, that ENI is put in the isolation group or, if that
fails too, back in its recorded groups (never left in the all-access group) before the step fails with an
error naming where each ENI ended. Termination
and stop protection are enabled, an Auto Scaling group member enters Standby, and every EBS volume is
snapshotted as evidence. Nothing is deleted or terminated.

The instance's credentials: the sessions of its role (from its instance profile) issued before containment
are revoked with the same inline deny on `aws:TokenIssueTime` as a contained role's (domain/iam.py, decided
by content, kept by restore unless lift_session_revocation), so credentials already stolen stop working.
Optionally the metadata service is turned off (disable_imds) and the instance profile disassociated
(detach_instance_profile), so the instance cannot fetch new ones. The profile, its role, the role's inline
policy names and the metadata options are recorded in the pre-state.

Restore puts back every attribute recorded in the pre-state, in reverse order, and verifies it.
"""

from __future__ import annotations

from typing import Any, Literal

from responder.adapters.aws import error_code
from responder.adapters.ec2 import Ec2Gateway, InstanceFacts
from responder.adapters.iam import IamGateway
from responder.domain import iam as iam_dom
from responder.domain.errors import ContainmentError
from responder.domain.recorder import KEEP_OPERATOR_CHANGE, Recorder, kept_attributes
from responder.models.incident import (
    ActionStatus,
    AsgState,
    Ec2Impact,
    Ec2PreState,
    EniState,
    Incident,
    MetadataState,
    Plan,
    PlannedAction,
    RestoreOptions,
)
from responder.models.preferences import Ec2Options

# MetadataOptions keys (DescribeInstances) that ModifyInstanceMetadataOptions takes, and their pre-state fields.
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceMetadataOptionsResponse.html
METADATA_FIELDS = {
    "HttpEndpoint": "http_endpoint",
    "HttpTokens": "http_tokens",
    "HttpPutResponseHopLimit": "http_put_response_hop_limit",
    "HttpProtocolIpv6": "http_protocol_ipv6",
    "InstanceMetadataTags": "instance_metadata_tags",
}

IsolationMode = Literal["two_step", "direct"]


def _metadata_state(options: dict[str, Any]) -> MetadataState | None:
    if not options:
        return None
    return MetadataState.model_validate({field: options.get(key) for key, field in METADATA_FIELDS.items()})


def _metadata_parameters(state: MetadataState) -> dict[str, Any]:
    """The recorded options as ModifyInstanceMetadataOptions parameters (those recorded only)."""
    values = state.model_dump()
    return {key: values[field] for key, field in METADATA_FIELDS.items() if values[field] is not None}


def _require_iam(iam: IamGateway | None, pre: Ec2PreState) -> IamGateway:
    if iam is None:
        raise ContainmentError(f"{pre.instance_id} has instance role {pre.instance_role}; no IAM client was given")
    return iam


def _instance_role(facts: InstanceFacts, iam: IamGateway | None) -> tuple[str | None, list[str]]:
    """The role in the instance's profile and its inline policy names; (None, []) without one."""
    if not facts.instance_profile_arn:
        return None, []
    if iam is None:
        raise ContainmentError(
            f"{facts.instance_id} has instance profile {facts.instance_profile_arn}; no IAM client was given"
        )
    roles = iam.instance_profile_roles(facts.instance_profile_arn)
    if not roles:
        return None, []
    if len(roles) > 1:
        raise ContainmentError(f"instance profile {facts.instance_profile_arn} holds several roles: {roles}")
    return roles[0], iam.inline("role", roles[0])


def capture_pre_state(gw: Ec2Gateway, facts: InstanceFacts, iam: IamGateway | None = None) -> Ec2PreState:
    asg = gw.asg_membership(facts.instance_id)
    role, role_inline = _instance_role(facts, iam)
    return Ec2PreState(
        instance_id=facts.instance_id,
        vpc_id=facts.vpc_id,
        instance_state=facts.state,
        enis=[
            EniState(eni_id=e.eni_id, groups=sorted(e.groups), vpc_id=e.vpc_id, attached=e.attached) for e in facts.enis
        ],
        disable_api_termination=bool(gw.instance_flag(facts.instance_id, "disableApiTermination")),
        disable_api_stop=gw.instance_flag(facts.instance_id, "disableApiStop"),
        asg=(
            AsgState(
                name=asg.name,
                lifecycle_state=asg.lifecycle_state,
                desired_capacity=asg.desired_capacity,
                min_size=asg.min_size,
            )
            if asg
            else None
        ),
        tags=facts.tags,
        instance_profile_arn=facts.instance_profile_arn,
        instance_role=role,
        instance_role_inline_policies=role_inline,
        metadata=_metadata_state(facts.metadata_options),
    )


def _decrements(asg: AsgState) -> bool:
    """Standby decrements the desired capacity unless that would go below the minimum size; then the
    group launches a replacement, and after restore its desired capacity is one higher (reported)."""
    return asg.desired_capacity > asg.min_size


def _will_standby(pre: Ec2PreState, options: Ec2Options) -> bool:
    return bool(options.asg_standby and pre.asg and pre.asg.lifecycle_state == "InService")


def _credential_actions(pre: Ec2PreState, options: Ec2Options) -> tuple[list[PlannedAction], list[str]]:
    """The planned credential steps and what they break, in words. Nothing without an instance profile."""
    iid = pre.instance_id
    actions: list[PlannedAction] = []
    notes: list[str] = []
    if pre.instance_profile_arn is None:
        return actions, notes
    if options.disable_imds and pre.metadata is not None:
        actions.append(
            PlannedAction(
                action="disable_imds",
                target=iid,
                description=f"Turn off the instance metadata service of {iid} (HttpEndpoint disabled, was "
                f"{pre.metadata.http_endpoint or 'unknown'}) so it cannot fetch role credentials; restore puts "
                "back the recorded metadata options",
            )
        )
        notes.append(
            "Instance metadata service off: software on the instance that reads instance metadata (role "
            "credentials, region, user data) fails until restore."
        )
    if options.detach_instance_profile:
        actions.append(
            PlannedAction(
                action="detach_instance_profile",
                target=iid,
                description=f"Disassociate instance profile {pre.instance_profile_arn} from {iid}; restore "
                "associates it again",
            )
        )
        notes.append(
            f"Instance profile {pre.instance_profile_arn} detached: the instance gets no new role credentials; "
            "its own AWS calls fail once the ones it holds expire or are revoked."
        )
    if options.revoke_role_sessions and pre.instance_role:
        role = pre.instance_role
        actions.append(
            PlannedAction(
                action="revoke_sessions",
                target=role,
                description=f"Revoke every session of role {role} (the instance's role) issued before containment "
                "(inline deny on aws:TokenIssueTime), so credentials already taken from the instance stop working",
            )
        )
        refetch = (
            ""
            if options.disable_imds or options.detach_instance_profile
            else " (this instance fetches new ones from its metadata service; disable_imds or "
            "detach_instance_profile stop that)"
        )
        notes.append(
            f"Role {role}: sessions issued before containment are denied everything, on this instance and on "
            f"every other instance or service using the role: their AWS calls fail until they get new "
            f"credentials{refetch}. The revocation stays after restore unless lift_session_revocation."
        )
    elif pre.instance_role is None:
        notes.append(f"Instance profile {pre.instance_profile_arn} holds no role: no sessions to revoke.")
    return actions, notes


def plan_instance(
    gw: Ec2Gateway, facts: InstanceFacts, options: Ec2Options, mode: IsolationMode, iam: IamGateway | None = None
) -> Plan:
    pre = capture_pre_state(gw, facts, iam)
    target_groups, truncated = gw.target_groups_for(facts.instance_id, facts.vpc_id)
    if pre.asg is not None:
        asg_tgs = gw.asg_membership(facts.instance_id)
        for arn in asg_tgs.target_group_arns if asg_tgs else ():
            if arn not in target_groups:
                target_groups.append(arn)
    actions: list[PlannedAction] = []
    iid = facts.instance_id
    if _will_standby(pre, options):
        assert pre.asg is not None
        decrement = _decrements(pre.asg)
        actions.append(
            PlannedAction(
                action="asg_enter_standby",
                target=iid,
                description=(
                    f"Move {iid} to Standby in Auto Scaling group {pre.asg.name} so it is not replaced or terminated"
                    + (" (desired capacity decremented)" if decrement else " (the group launches a replacement)")
                ),
            )
        )
    if options.termination_protection:
        actions.append(
            PlannedAction(
                action="enable_termination_protection",
                target=iid,
                description="Enable termination protection",
            )
        )
        if pre.disable_api_stop is not None:
            actions.append(
                PlannedAction(action="enable_stop_protection", target=iid, description="Enable stop protection")
            )
    for eni in pre.enis:
        if mode == "two_step":
            actions.append(
                PlannedAction(
                    action="eni_transition_group",
                    target=eni.eni_id,
                    description=f"Swap {eni.eni_id} to the all-access transition group so tracked flows become untracked",
                )
            )
        actions.append(
            PlannedAction(
                action="eni_isolation_group",
                target=eni.eni_id,
                description=f"Swap {eni.eni_id} from {', '.join(eni.groups) or 'no groups'} to the isolation group (no rules in or out)",
            )
        )
    credential_actions, credential_notes = _credential_actions(pre, options)
    actions += credential_actions
    if options.snapshot:
        for vol in facts.volumes:
            actions.append(
                PlannedAction(action="snapshot_volume", target=vol, description=f"Snapshot {vol} as evidence")
            )
    public_ips = sorted({ip for ip in [facts.public_ip, *(e.public_ip for e in facts.enis)] if ip})
    impact = Ec2Impact(
        instance_id=iid,
        instance_type=facts.instance_type,
        instance_state=facts.state,
        vpc_id=facts.vpc_id,
        public_ips=public_ips,
        enis=pre.enis,
        asg_name=pre.asg.name if pre.asg else None,
        target_groups=target_groups,
        target_groups_truncated=truncated,
        instance_role=facts.instance_profile_arn,
        volumes=list(facts.volumes),
        isolation_mode=mode,
        notes=credential_notes,
    )
    return Plan(actions=actions, impact=impact, pre_state=pre)


def has_responder_groups(gw: Ec2Gateway, facts: InstanceFacts) -> bool:
    """Whether any ENI already carries a responder-managed group (containment had begun)."""
    return bool(gw.managed_groups({g for e in facts.enis for g in e.groups}))


def _responder_groups(gw: Ec2Gateway, incident: Incident, facts: InstanceFacts) -> set[str]:
    """The responder's groups: those the incident recorded, and any responder-tagged group on the ENIs
    (a crash can leave one attached before the incident recorded it)."""
    recorded = {a.id for a in incident.artifacts if a.kind == "security_group"}
    on_enis = {g for e in facts.enis for g in e.groups} - recorded
    return recorded | gw.managed_groups(on_enis)


def contain_instance(
    gw: Ec2Gateway,
    incident: Incident,
    options: Ec2Options,
    mode: IsolationMode,
    rec: Recorder,
    iam: IamGateway | None = None,
) -> None:
    """Apply every containment step. Idempotent: a step already in effect is recorded as skipped.

    The credential steps come after network isolation (a crash before it leaves the pre-state capturable
    again): the metadata service and the profile first, so that no session is issued after the revocation."""
    pre = incident.pre_state
    assert isinstance(pre, Ec2PreState)
    iid = pre.instance_id

    if _will_standby(pre, options):
        assert pre.asg is not None
        current = gw.asg_membership(iid)
        if current and current.lifecycle_state == "InService":
            decrement = _decrements(pre.asg)
            gw.enter_standby(pre.asg.name, iid, decrement)
            rec.applied("asg_enter_standby", iid, asg=pre.asg.name, decrement=str(decrement).lower())
        else:
            rec.skipped("asg_enter_standby", iid, state=current.lifecycle_state if current else "not in group")

    if options.termination_protection:
        _ensure_flag(gw, rec, iid, "disableApiTermination", "enable_termination_protection")
        if pre.disable_api_stop is not None:
            _ensure_flag(gw, rec, iid, "disableApiStop", "enable_stop_protection")

    isolation: dict[str, str] = {}
    transition: dict[str, str] = {}
    for eni in pre.enis:
        vpc = eni.vpc_id or pre.vpc_id
        if vpc is None:
            raise ContainmentError(f"{eni.eni_id} has no VPC; cannot isolate it with security groups")
        if vpc not in isolation:
            isolation[vpc] = gw.ensure_group(vpc, "isolation")
            rec.artifact("security_group", isolation[vpc], purpose="isolation", vpc=vpc)
            if mode == "two_step":
                transition[vpc] = gw.ensure_group(vpc, "transition")
                rec.artifact("security_group", transition[vpc], purpose="transition", vpc=vpc)

    groups_now = {e.eni_id: e.groups for e in gw.describe_instance(iid).enis}
    ended: list[str] = []  # where each ENI handled so far ended, in words, for the error
    for index, eni in enumerate(pre.enis):
        group = isolation[eni.vpc_id or pre.vpc_id or ""]
        if set(groups_now.get(eni.eni_id, ())) == {group}:
            rec.skipped("eni_isolation_group", eni.eni_id, group=group)
            ended.append(f"{eni.eni_id}: isolated")
            continue
        try:
            if mode == "two_step":
                step = transition[eni.vpc_id or pre.vpc_id or ""]
                gw.set_eni_groups(eni.eni_id, [step])
                rec.applied("eni_transition_group", eni.eni_id, group=step)
            gw.set_eni_groups(eni.eni_id, [group])
            rec.applied("eni_isolation_group", eni.eni_id, group=group)
            ended.append(f"{eni.eni_id}: isolated")
        except Exception as exc:
            ended.append(_fail_closed(gw, rec, eni, group))
            untouched = [f"{e.eni_id}: not yet changed" for e in pre.enis[index + 1 :]]
            raise ContainmentError(f"isolating {eni.eni_id} failed ({exc}); " + "; ".join(ended + untouched)) from exc

    refusals = iam_dom.Refusals()
    if pre.instance_profile_arn is not None:
        if options.disable_imds and pre.metadata is not None:
            _disable_imds(gw, rec, iid)
        if options.detach_instance_profile:
            _detach_profile(gw, rec, iid)
        if options.revoke_role_sessions and pre.instance_role:
            role = pre.instance_role
            gi = _require_iam(iam, pre)
            refusals.run(lambda: iam_dom.revoke_older_sessions(gi, "role", role, rec))

    if options.snapshot:
        existing = gw.snapshots_for(incident.incident_id)
        volumes = incident.impact.volumes if isinstance(incident.impact, Ec2Impact) else []
        for vol in volumes:
            snap = existing.get(vol) or gw.create_snapshot(vol, incident.incident_id, iid)
            rec.artifact("ebs_snapshot", snap, volume=vol)
            (rec.skipped if vol in existing else rec.applied)("snapshot_volume", vol, snapshot=snap)
    refusals.raise_any()


def _disable_imds(gw: Ec2Gateway, rec: Recorder, iid: str) -> None:
    if gw.describe_instance(iid).metadata_options.get("HttpEndpoint") == "disabled":
        rec.skipped("disable_imds", iid)
        return
    gw.set_metadata_options(iid, {"HttpEndpoint": "disabled"})
    rec.applied("disable_imds", iid)


def _detach_profile(gw: Ec2Gateway, rec: Recorder, iid: str) -> None:
    """Disassociate every profile association of the instance in effect (one, in practice)."""
    associations = gw.profile_associations(iid)
    if not associations:
        rec.skipped("detach_instance_profile", iid)
    for association in associations:
        gw.disassociate_profile(association.association_id)
        rec.applied(
            "detach_instance_profile", iid, association=association.association_id, profile=association.profile_arn
        )


def _fail_closed(gw: Ec2Gateway, rec: Recorder, eni: EniState, isolation: str) -> str:
    """After any error while isolating the ENI: put it in the isolation group, or if that fails too, back
    in its recorded groups, so it is never left in the all-traffic transition group (nor, in direct mode,
    anywhere more open than it was). Returns where it ended, in words."""
    try:
        gw.set_eni_groups(eni.eni_id, [isolation])
        rec.applied("eni_isolation_group", eni.eni_id, group=isolation)
        return f"{eni.eni_id}: isolated"
    except Exception as isolate_exc:
        failed = _why(isolate_exc)
    try:
        gw.set_eni_groups(eni.eni_id, list(eni.groups))
        rec.applied("eni_restore_groups", eni.eni_id, groups=",".join(eni.groups))
        return f"{eni.eni_id}: back to its recorded groups {','.join(eni.groups)} (isolation refused: {failed})"
    except Exception as restore_exc:
        try:
            now = ",".join(sorted(gw.eni_groups(eni.eni_id))) or "no groups"  # a set: sorted, as recorded
        except Exception:
            now = "unknown (could not be read)"
        return (
            f"{eni.eni_id}: NOT isolated and not put back (isolation refused: {failed}; its recorded groups "
            f"{','.join(eni.groups)} refused: {_why(restore_exc)}); its groups now: {now}"
        )


def _why(exc: Exception) -> str:
    """The error in a word: its AWS error code, else its class name."""
    return error_code(exc) or type(exc).__name__


def _ensure_flag(
    gw: Ec2Gateway,
    rec: Recorder,
    iid: str,
    attribute: Literal["disableApiTermination", "disableApiStop"],
    action: str,
) -> None:
    if gw.instance_flag(iid, attribute):
        rec.skipped(action, iid)
        return
    gw.set_instance_flag(iid, attribute, True)
    rec.applied(action, iid)


def _credential_problems(
    gw: Ec2Gateway, incident: Incident, options: Ec2Options, facts: InstanceFacts, iam: IamGateway | None
) -> list[str]:
    """The credential steps read back: the revocation's document and time, the metadata options, and the
    absence of any profile association."""
    pre = incident.pre_state
    assert isinstance(pre, Ec2PreState)
    problems: list[str] = []
    if pre.instance_profile_arn is None:
        return problems
    if options.disable_imds and pre.metadata is not None:
        endpoint = facts.metadata_options.get("HttpEndpoint")
        if endpoint != "disabled":
            problems.append(f"the instance metadata service of {pre.instance_id} is {endpoint}, expected disabled")
    if options.detach_instance_profile:
        for association in gw.profile_associations(pre.instance_id):
            problems.append(f"instance profile {association.profile_arn} is {association.state} with {pre.instance_id}")
    if options.revoke_role_sessions and pre.instance_role:
        problems += iam_dom.revocation_problems(_require_iam(iam, pre), "role", pre.instance_role, incident)
    return problems


def verify_contained(
    gw: Ec2Gateway, incident: Incident, options: Ec2Options, iam: IamGateway | None = None
) -> list[str]:
    """Re-read the instance: every problem found, in words. Empty means isolated."""
    pre = incident.pre_state
    assert isinstance(pre, Ec2PreState)
    problems: list[str] = []
    isolation_groups = {
        a.id for a in incident.artifacts if a.kind == "security_group" and a.detail.get("purpose") == "isolation"
    }
    facts = gw.describe_instance(pre.instance_id)
    current = {e.eni_id: e for e in facts.enis}
    for eni in pre.enis:
        now = current.get(eni.eni_id)
        if now is None:
            problems.append(f"{eni.eni_id} is no longer attached to {pre.instance_id}")
            continue
        if len(now.groups) != 1 or now.groups[0] not in isolation_groups:
            problems.append(f"{eni.eni_id} has groups {list(now.groups)}, expected only the isolation group")
        else:
            ingress, egress = gw.group_rules(now.groups[0])
            if ingress or egress:
                problems.append(f"isolation group {now.groups[0]} has rules; it must have none")
    for eni_id in current.keys() - {e.eni_id for e in pre.enis}:
        problems.append(f"{eni_id} was attached after the plan and is not isolated")
    if options.termination_protection:
        if not gw.instance_flag(pre.instance_id, "disableApiTermination"):
            problems.append("termination protection is off")
        if pre.disable_api_stop is not None and not gw.instance_flag(pre.instance_id, "disableApiStop"):
            problems.append("stop protection is off")
    if _will_standby(pre, options):
        asg = gw.asg_membership(pre.instance_id)
        if asg is None or asg.lifecycle_state not in ("Standby", "EnteringStandby"):
            problems.append(f"instance is not in Standby (state {asg.lifecycle_state if asg else 'not in group'})")
    problems += _credential_problems(gw, incident, options, facts, iam)
    return problems


def _responder_did(incident: Incident, action: str) -> bool:
    """Whether the step was planned (recorded before any change, so a crash mid-containment loses nothing)
    or applied. Restore then compares the resource with its pre-state: a step not reached changed nothing."""
    return any(a.action == action for a in incident.plan) or any(
        a.action == action and a.status is not ActionStatus.SKIPPED for a in incident.actions
    )


def _revoked_role(incident: Incident, pre: Ec2PreState) -> bool:
    steps = [(a.action, a.target) for a in incident.plan] + [(a.action, a.target) for a in incident.actions]
    return bool(pre.instance_role) and ("revoke_sessions", pre.instance_role) in steps


def _restore_credentials(
    gw: Ec2Gateway, incident: Incident, options: RestoreOptions, rec: Recorder, iam: IamGateway | None
) -> list[str]:
    """Undo the credential steps, in reverse order: the revocation (kept unless asked), the profile, IMDS."""
    pre = incident.pre_state
    assert isinstance(pre, Ec2PreState)
    iid = pre.instance_id
    report: list[str] = []
    if _revoked_role(incident, pre):
        assert pre.instance_role is not None
        report += iam_dom.restore_session_revocation(
            _require_iam(iam, pre), incident, "role", pre.instance_role, pre.instance_role_inline_policies,
            options, rec,
        )  # fmt: skip
    if pre.instance_profile_arn and _responder_did(incident, "detach_instance_profile"):
        now = gw.profile_associations(iid)
        if not now:
            gw.associate_profile(iid, pre.instance_profile_arn)
            rec.applied("associate_instance_profile", iid, profile=pre.instance_profile_arn)
        elif {a.profile_arn for a in now} != {pre.instance_profile_arn}:
            found = ", ".join(a.profile_arn for a in now)
            rec.skipped(KEEP_OPERATOR_CHANGE, iid, attribute="instance_profile", found=found)
            report.append(
                f"{iid}: instance profile {found} was associated after containment (it had "
                f"{pre.instance_profile_arn}); kept as the operator left it"
            )
    if pre.metadata is not None and _responder_did(incident, "disable_imds"):
        now_endpoint = gw.describe_instance(iid).metadata_options.get("HttpEndpoint")
        if now_endpoint == "disabled" and pre.metadata.http_endpoint != "disabled":
            parameters = _metadata_parameters(pre.metadata)
            gw.set_metadata_options(iid, parameters)
            rec.applied("restore_metadata_options", iid, **{k: str(v) for k, v in parameters.items()})
    return report


def restore_instance(
    gw: Ec2Gateway,
    incident: Incident,
    rec: Recorder,
    iam: IamGateway | None = None,
    options: RestoreOptions | None = None,
) -> list[str]:
    """Put back every recorded attribute, in reverse order of containment. Returns a drift report.

    Groups an operator added to an ENI after containment (anything that is not a responder group) are
    kept alongside the pre-state groups and reported, never silently discarded.
    """
    pre = incident.pre_state
    assert isinstance(pre, Ec2PreState)
    iid = pre.instance_id
    report: list[str] = _restore_credentials(gw, incident, options or RestoreOptions(), rec, iam)

    if pre.asg and pre.asg.lifecycle_state == "InService":
        current = gw.asg_membership(iid)
        if current and current.lifecycle_state == "Standby":
            gw.exit_standby(pre.asg.name, iid)
            rec.applied("asg_exit_standby", iid, asg=pre.asg.name)
        if not _decrements(pre.asg):
            after = gw.asg_membership(iid)
            if after and after.desired_capacity != pre.asg.desired_capacity:
                report.append(
                    f"asg {pre.asg.name}: desired capacity is {after.desired_capacity} (was {pre.asg.desired_capacity}); "
                    "a replacement was launched while the instance was in Standby, scale in when ready"
                )

    facts = gw.describe_instance(iid)
    responder_groups = _responder_groups(gw, incident, facts)
    current_enis = {e.eni_id: e for e in facts.enis}
    for eni in reversed(pre.enis):
        now = current_enis.get(eni.eni_id)
        if now is None:
            report.append(f"{eni.eni_id} is no longer attached to {iid}; its groups were not restored")
            continue
        extra = [g for g in now.groups if g not in responder_groups and g not in eni.groups]
        wanted = list(eni.groups) + extra
        if extra:
            report.append(f"{eni.eni_id}: kept group(s) {', '.join(extra)} added after containment")
        if set(now.groups) != set(wanted):
            gw.set_eni_groups(eni.eni_id, wanted)
            rec.applied("eni_restore_groups", eni.eni_id, groups=",".join(wanted))

    if pre.disable_api_stop is not None and gw.instance_flag(iid, "disableApiStop") != pre.disable_api_stop:
        gw.set_instance_flag(iid, "disableApiStop", pre.disable_api_stop)
        rec.applied("restore_stop_protection", iid, value=str(pre.disable_api_stop).lower())
    if bool(gw.instance_flag(iid, "disableApiTermination")) != pre.disable_api_termination:
        gw.set_instance_flag(iid, "disableApiTermination", pre.disable_api_termination)
        rec.applied("restore_termination_protection", iid, value=str(pre.disable_api_termination).lower())
    return report


def _credentials_restored(
    gw: Ec2Gateway, incident: Incident, facts: InstanceFacts, options: RestoreOptions, iam: IamGateway | None
) -> list[str]:
    pre = incident.pre_state
    assert isinstance(pre, Ec2PreState)
    mismatches: list[str] = []
    if _revoked_role(incident, pre):
        assert pre.instance_role is not None
        mismatches += iam_dom.session_revocation_restored_problems(
            _require_iam(iam, pre), incident, "role", pre.instance_role, pre.instance_role_inline_policies, options
        )
    kept = kept_attributes(incident)
    if (
        pre.instance_profile_arn
        and _responder_did(incident, "detach_instance_profile")
        and "instance_profile" not in kept
    ):
        found = sorted(a.profile_arn for a in gw.profile_associations(pre.instance_id))
        if found != [pre.instance_profile_arn]:
            mismatches.append(f"instance profile: expected {pre.instance_profile_arn}, found {found or 'none'}")
    if pre.metadata is not None and _responder_did(incident, "disable_imds"):
        now = _metadata_state(facts.metadata_options) or MetadataState()
        for key, value in _metadata_parameters(pre.metadata).items():
            found_value = getattr(now, METADATA_FIELDS[key])
            if found_value != value:
                mismatches.append(f"metadata options {key}: expected {value}, found {found_value}")
    return mismatches


def verify_restored(
    gw: Ec2Gateway, incident: Incident, iam: IamGateway | None = None, options: RestoreOptions | None = None
) -> list[str]:
    """Every recorded attribute that does not equal its pre-state, named. Empty means restored."""
    pre = incident.pre_state
    assert isinstance(pre, Ec2PreState)
    mismatches: list[str] = []
    facts = gw.describe_instance(pre.instance_id)
    mismatches += _credentials_restored(gw, incident, facts, options or RestoreOptions(), iam)
    responder_groups = _responder_groups(gw, incident, facts)
    current = {e.eni_id: e for e in facts.enis}
    for eni in pre.enis:
        now = current.get(eni.eni_id)
        if now is None:
            continue  # reported by restore
        kept = set(now.groups) - set(eni.groups)
        if kept & responder_groups or not set(eni.groups) <= set(now.groups):
            mismatches.append(f"enis[{eni.eni_id}].groups: expected {eni.groups}, found {list(now.groups)}")
    term = bool(gw.instance_flag(pre.instance_id, "disableApiTermination"))
    if term != pre.disable_api_termination:
        mismatches.append(f"disable_api_termination: expected {pre.disable_api_termination}, found {term}")
    if pre.disable_api_stop is not None:
        stop = gw.instance_flag(pre.instance_id, "disableApiStop")
        if stop != pre.disable_api_stop:
            mismatches.append(f"disable_api_stop: expected {pre.disable_api_stop}, found {stop}")
    if pre.asg is not None:
        asg = gw.asg_membership(pre.instance_id)
        state = asg.lifecycle_state if asg else "not in group"
        if state != pre.asg.lifecycle_state and not (pre.asg.lifecycle_state == "InService" and state == "Pending"):
            mismatches.append(f"asg.lifecycle_state: expected {pre.asg.lifecycle_state}, found {state}")
        elif asg and asg.desired_capacity != pre.asg.desired_capacity and _decrements(pre.asg):
            mismatches.append(
                f"asg.desired_capacity: expected {pre.asg.desired_capacity}, found {asg.desired_capacity}"
            )
    return mismatches
