"""EC2 instance containment: plan, contain, verify, restore.

Network isolation swaps the security groups of every ENI (ModifyInstanceAttribute(Groups) fails on
instances with several ENIs), ENI by ENI, in two steps by default: first a temporary all-access group,
which turns tracked flows into untracked ones, then the isolation group with no rules, which cuts them.
It fails closed: on any error while an ENI is handled, that ENI is put in the isolation group or, if that
fails too, back in its recorded groups (never left in the all-access group) before the step fails with an
error naming where each ENI ended. Termination
and stop protection are enabled, an Auto Scaling group member enters Standby, and every EBS volume is
snapshotted as evidence. Nothing is deleted or terminated.

Restore puts back every attribute recorded in the pre-state, in reverse order, and verifies it.
"""

from __future__ import annotations

from typing import Literal

from responder.adapters.aws import error_code
from responder.adapters.ec2 import Ec2Gateway, InstanceFacts
from responder.domain.errors import ContainmentError
from responder.domain.recorder import Recorder
from responder.models.incident import (
    AsgState,
    Ec2Impact,
    Ec2PreState,
    EniState,
    Incident,
    Plan,
    PlannedAction,
)
from responder.models.preferences import Ec2Options

IsolationMode = Literal["two_step", "direct"]


def capture_pre_state(gw: Ec2Gateway, facts: InstanceFacts) -> Ec2PreState:
    asg = gw.asg_membership(facts.instance_id)
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
    )


def _decrements(asg: AsgState) -> bool:
    """Standby decrements the desired capacity unless that would go below the minimum size; then the
    group launches a replacement, and after restore its desired capacity is one higher (reported)."""
    return asg.desired_capacity > asg.min_size


def _will_standby(pre: Ec2PreState, options: Ec2Options) -> bool:
    return bool(options.asg_standby and pre.asg and pre.asg.lifecycle_state == "InService")


def plan_instance(gw: Ec2Gateway, facts: InstanceFacts, options: Ec2Options, mode: IsolationMode) -> Plan:
    pre = capture_pre_state(gw, facts)
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
    gw: Ec2Gateway, incident: Incident, options: Ec2Options, mode: IsolationMode, rec: Recorder
) -> None:
    """Apply every containment step. Idempotent: a step already in effect is recorded as skipped."""
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

    if options.snapshot:
        existing = gw.snapshots_for(incident.incident_id)
        volumes = incident.impact.volumes if isinstance(incident.impact, Ec2Impact) else []
        for vol in volumes:
            snap = existing.get(vol) or gw.create_snapshot(vol, incident.incident_id, iid)
            rec.artifact("ebs_snapshot", snap, volume=vol)
            (rec.skipped if vol in existing else rec.applied)("snapshot_volume", vol, snapshot=snap)


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
            now = ",".join(gw.eni_groups(eni.eni_id)) or "no groups"
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


def verify_contained(gw: Ec2Gateway, incident: Incident, options: Ec2Options) -> list[str]:
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
    return problems


def restore_instance(gw: Ec2Gateway, incident: Incident, rec: Recorder) -> list[str]:
    """Put back every recorded attribute, in reverse order of containment. Returns a drift report.

    Groups an operator added to an ENI after containment (anything that is not a responder group) are
    kept alongside the pre-state groups and reported, never silently discarded.
    """
    pre = incident.pre_state
    assert isinstance(pre, Ec2PreState)
    iid = pre.instance_id
    report: list[str] = []

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


def verify_restored(gw: Ec2Gateway, incident: Incident) -> list[str]:
    """Every recorded attribute that does not equal its pre-state, named. Empty means restored."""
    pre = incident.pre_state
    assert isinstance(pre, Ec2PreState)
    mismatches: list[str] = []
    facts = gw.describe_instance(pre.instance_id)
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
