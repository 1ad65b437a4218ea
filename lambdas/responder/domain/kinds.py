"""One interface over every kind of resource the responder contains.

The workflow steps call these functions; each dispatches on the incident's resource type to the module
that knows that kind (ec2, iam, s3) and adds the WAF IP block where a preference asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from responder.adapters.ec2 import Ec2Gateway
from responder.adapters.iam import IamGateway
from responder.adapters.s3 import S3Gateway
from responder.adapters.waf import IpSetRef, WafGateway
from responder.domain import ec2, iam, s3, waf
from responder.domain.recorder import Recorder
from responder.models.common import ResourceType
from responder.models.incident import (
    Ec2PreState,
    Incident,
    Plan,
    PlannedAction,
    PreState,
    ResourceImpact,
    RestoreOptions,
)
from responder.models.preferences import Decision
from responder.models.resource import partition_for, role_arn


class Gateways(Protocol):
    """AWS adapters for the incident's account and region."""

    def ec2(self, incident: Incident) -> Ec2Gateway: ...
    def iam(self, incident: Incident) -> IamGateway: ...
    def s3(self, incident: Incident) -> S3Gateway: ...
    def waf(self, ip_set_arn: str) -> WafGateway: ...
    def account_alias(self, incident: Incident) -> str | None: ...


@dataclass(frozen=True)
class Settings:
    """Stack settings the containment steps need."""

    deny_all_policy_name: str = "ContainmentResponder-deny-all"
    exempt_principals: list[str] = field(default_factory=list)  # the responder's roles and break-glass ARNs
    member_role_name: str = "ContainmentResponderMember"
    isolation_mode: str = "two_step"

    def deny_all_arn(self, incident: Incident) -> str:
        p = partition_for(incident.resource.region)
        return f"arn:{p}:iam::{incident.resource.account}:policy/{self.deny_all_policy_name}"


class UnsupportedResource(RuntimeError):
    pass


def _finding_keys(incident: Incident) -> set[str]:
    return {f.access_key_id for f in incident.findings.values() if f.access_key_id}


def _exempt(incident: Incident, decision: Decision, settings: Settings) -> list[str]:
    """Who a contained bucket still admits: the responder's roles, the member role it acts through in the
    bucket's account (or it could not restore the policy), and the rule's break-glass principals."""
    r = incident.resource
    member = role_arn(r.account, r.region, settings.member_role_name)
    return [*settings.exempt_principals, member, *decision.actions.s3.break_glass_arns]


def _waf_gateway(gws: Gateways, incident: Incident) -> WafGateway:
    """Clients for the account and region of the incident's WAF IP set (either may differ from the resource's)."""
    assert incident.waf is not None
    return gws.waf(incident.waf.ip_set_arn)


def plan(gws: Gateways, incident: Incident, decision: Decision, settings: Settings) -> Plan:
    kind = incident.resource.type
    name = incident.resource.id
    acts = decision.actions
    if kind is ResourceType.EC2_INSTANCE:
        gw = gws.ec2(incident)
        mode = acts.ec2.isolation_mode or settings.isolation_mode
        result = ec2.plan_instance(
            gw,
            gw.describe_instance(name),
            acts.ec2,
            mode,  # type: ignore[arg-type]
            gws.iam(incident),
        )
    elif kind is ResourceType.IAM_USER:
        result = iam.plan_user(
            gws.iam(incident), name, _finding_keys(incident), acts.iam_user, settings.deny_all_arn(incident)
        )
    elif kind is ResourceType.IAM_ROLE:
        result = iam.plan_role(gws.iam(incident), name, acts.iam_role)
    elif kind is ResourceType.S3_BUCKET:
        result = s3.plan_bucket(
            gws.s3(incident),
            name,
            acts.s3,
            partition_for(incident.resource.region),
            _exempt(incident, decision, settings),
        )
    elif kind is ResourceType.IAM_ROOT:
        return Plan(
            actions=[],
            impact=ResourceImpact(
                kind="iam_root",
                details=[
                    f"The root user of account {incident.resource.account} cannot be contained by an IAM policy.",
                    "Rotate its password, remove its access keys, and check its MFA from the console.",
                ],
            ),
            pre_state=None,
        )
    else:
        raise UnsupportedResource(f"no containment for resource type {kind.value}")
    remote = next((f.remote_ip for f in incident.findings.values() if f.remote_ip), None)
    if acts.waf_ip_set_arn and remote:
        change, why = waf.plan(gws.waf(acts.waf_ip_set_arn), acts.waf_ip_set_arn, remote)
        if change is not None:
            result.waf = change
            result.actions.append(
                PlannedAction(
                    action="waf_block_ip",
                    target=change.address,
                    description=f"Add {change.address} to WAF IP set {IpSetRef.parse(change.ip_set_arn).name}"
                    + (" (already there)" if change.already_present else ""),
                )
            )
        else:
            result.impact.notes.append(f"WAF: not blocking: {why}")
    return result


def capture(gws: Gateways, incident: Incident, settings: Settings) -> PreState | None:
    """The resource's current state in pre-state form, or None when containment has already begun."""
    kind = incident.resource.type
    name = incident.resource.id
    if kind is ResourceType.EC2_INSTANCE:
        gw = gws.ec2(incident)
        facts = gw.describe_instance(name)
        return None if ec2.has_responder_groups(gw, facts) else ec2.capture_pre_state(gw, facts, gws.iam(incident))
    if kind is ResourceType.IAM_USER:
        gi = gws.iam(incident)
        pre_user = iam.capture_user(gi, name)
        begun = iam.containment_begun(
            gi, "user", name, pre_user.inline_policies, pre_user.attached_policies, settings.deny_all_arn(incident)
        )
        return None if begun else pre_user
    if kind is ResourceType.IAM_ROLE:
        gi = gws.iam(incident)
        pre_role = iam.capture_role(gi, name)
        begun = iam.containment_begun(
            gi,
            "role",
            pre_role.role_name,
            pre_role.inline_policies,
            pre_role.attached_policies,
            settings.deny_all_arn(incident),
        )
        return None if begun else pre_role
    if kind is ResourceType.S3_BUCKET:
        pre_bucket = s3.capture(gws.s3(incident), name)
        return None if s3.has_deny(pre_bucket.policy, name) else pre_bucket
    return None


def contain(gws: Gateways, incident: Incident, decision: Decision, settings: Settings, rec: Recorder) -> None:
    kind = incident.resource.type
    acts = decision.actions
    if kind is ResourceType.EC2_INSTANCE:
        mode = acts.ec2.isolation_mode or settings.isolation_mode
        ec2.contain_instance(
            gws.ec2(incident),
            incident,
            acts.ec2,
            mode,  # type: ignore[arg-type]
            rec,
            gws.iam(incident),
        )
    elif kind is ResourceType.IAM_USER:
        iam.contain_user(
            gws.iam(incident), incident, _finding_keys(incident), acts.iam_user, settings.deny_all_arn(incident), rec
        )
    elif kind is ResourceType.IAM_ROLE:
        iam.contain_role(gws.iam(incident), incident, acts.iam_role, settings.deny_all_arn(incident), rec)
    elif kind is ResourceType.S3_BUCKET:
        s3.contain_bucket(
            gws.s3(incident),
            incident,
            acts.s3,
            partition_for(incident.resource.region),
            _exempt(incident, decision, settings),
            rec,
        )
    else:
        raise UnsupportedResource(f"no containment for resource type {kind.value}")
    if incident.waf is not None:
        waf.block(_waf_gateway(gws, incident), incident.waf, rec)


def verify(gws: Gateways, incident: Incident, decision: Decision, settings: Settings) -> list[str]:
    kind = incident.resource.type
    acts = decision.actions
    if kind is ResourceType.EC2_INSTANCE:
        problems = ec2.verify_contained(gws.ec2(incident), incident, acts.ec2, gws.iam(incident))
    elif kind is ResourceType.IAM_USER:
        problems = iam.verify_user(
            gws.iam(incident), incident, _finding_keys(incident), acts.iam_user, settings.deny_all_arn(incident)
        )
    elif kind is ResourceType.IAM_ROLE:
        problems = iam.verify_role(gws.iam(incident), incident, acts.iam_role, settings.deny_all_arn(incident))
    elif kind is ResourceType.S3_BUCKET:
        problems = s3.verify_bucket(
            gws.s3(incident),
            incident,
            acts.s3,
            partition_for(incident.resource.region),
            _exempt(incident, decision, settings),
        )
    else:
        raise UnsupportedResource(f"no containment for resource type {kind.value}")
    if incident.waf is not None and not waf.is_blocked(_waf_gateway(gws, incident), incident.waf):
        problems.append(f"{incident.waf.address} is not in the WAF IP set")
    return problems


def restore(
    gws: Gateways,
    incident: Incident,
    settings: Settings,
    options: RestoreOptions,
    waf_still_needed: bool,
    rec: Recorder,
) -> list[str]:
    kind = incident.resource.type
    report: list[str] = []
    if incident.waf is not None:
        note = waf.unblock(_waf_gateway(gws, incident), incident.waf, waf_still_needed, rec)
        if note:
            report.append(note)
    if incident.pre_state is None:
        return report
    if kind is ResourceType.EC2_INSTANCE:
        report += ec2.restore_instance(gws.ec2(incident), incident, rec, gws.iam(incident), options)
    elif kind is ResourceType.IAM_USER:
        report += iam.restore_user(gws.iam(incident), incident, settings.deny_all_arn(incident), options, rec)
    elif kind is ResourceType.IAM_ROLE:
        report += iam.restore_role(gws.iam(incident), incident, settings.deny_all_arn(incident), options, rec)
    elif kind is ResourceType.S3_BUCKET:
        report += s3.restore_bucket(gws.s3(incident), incident, rec)
    return report


def revoked_role(incident: Incident) -> str | None:
    """The role whose older sessions the incident's containment revokes (planned or applied: a contained role,
    or an instance's role), None when none. Several incidents can share one: instances of a fleet."""
    steps = [(a.action, a.target) for a in incident.plan] + [(a.action, a.target) for a in incident.actions]
    revoked = {target for action, target in steps if action == "revoke_sessions"}
    kind = incident.resource.type
    if kind is ResourceType.IAM_ROLE and incident.resource.id in revoked:
        return incident.resource.id
    pre = incident.pre_state
    if kind is ResourceType.EC2_INSTANCE and isinstance(pre, Ec2PreState) and pre.instance_role in revoked:
        return pre.instance_role
    return None


def verify_restored(gws: Gateways, incident: Incident, settings: Settings, options: RestoreOptions) -> list[str]:
    if incident.pre_state is None:
        return []
    kind = incident.resource.type
    if kind is ResourceType.EC2_INSTANCE:
        return ec2.verify_restored(gws.ec2(incident), incident, gws.iam(incident), options)
    if kind is ResourceType.IAM_USER:
        return iam.verify_user_restored(gws.iam(incident), incident, settings.deny_all_arn(incident), options)
    if kind is ResourceType.IAM_ROLE:
        return iam.verify_role_restored(gws.iam(incident), incident, settings.deny_all_arn(incident), options)
    if kind is ResourceType.S3_BUCKET:
        return s3.verify_bucket_restored(gws.s3(incident), incident)
    return []
