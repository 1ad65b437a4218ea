"""The policies a role has as deployed: read from the emulator's IAM after the stack deployed, or resolved
from a synthesized template (the MemberRoleStack, which tests never deploy into every member account)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.iam_eval import statements

MEMBER_TEMPLATE = "ContainmentResponderMemberRole.template.json"


@dataclass(frozen=True)
class RolePolicies:
    arn: str
    identity: list[Mapping[str, Any]]  # the statements of its inline and managed policies
    trust: list[Mapping[str, Any]]


def emulator_role(arn: str) -> RolePolicies:
    """A role deployed in the emulator: its inline and attached managed policies, as IAM holds them."""
    from moto.iam.models import iam_backends

    account = arn.split(":")[4]
    role = iam_backends[account]["global"].get_role_by_arn(arn)
    documents: list[Any] = list(role.policies.values())
    for policy in role.managed_policies.values():
        documents += [v.document for v in policy.versions if v.is_default]
    trust = role.assume_role_policy_document
    return RolePolicies(arn, statements(documents), statements([trust]) if trust else [])


class TemplateError(ValueError):
    """The template uses an intrinsic function this resolver does not implement."""


def resolve(value: Any, refs: Mapping[str, str], resources: Mapping[str, Any]) -> Any:
    """Resolve Ref, Fn::Join and Fn::GetAtt(…, Arn) in a template value, with the given parameter and
    pseudo-parameter values; a Ref to a managed policy is its ARN, to a role its name."""
    if isinstance(value, list):
        return [resolve(v, refs, resources) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        name = value["Ref"]
        if name in refs:
            return refs[name]
        resource = resources.get(name)
        if resource and resource["Type"] == "AWS::IAM::ManagedPolicy":
            props = resource["Properties"]
            return f"arn:{refs['AWS::Partition']}:iam::{refs['AWS::AccountId']}:policy/{props['ManagedPolicyName']}"
        if resource and resource["Type"] == "AWS::IAM::Role":
            return resource["Properties"]["RoleName"]
        raise TemplateError(f"cannot resolve Ref {name}")
    if set(value) == {"Fn::Join"}:
        sep, parts = value["Fn::Join"]
        return sep.join(str(resolve(p, refs, resources)) for p in parts)
    if set(value) == {"Fn::GetAtt"}:
        name, attribute = value["Fn::GetAtt"]
        resource = resources.get(name)
        if resource and resource["Type"] == "AWS::IAM::Role" and attribute == "Arn":
            role_name = resource["Properties"]["RoleName"]
            return f"arn:{refs['AWS::Partition']}:iam::{refs['AWS::AccountId']}:role/{role_name}"
        raise TemplateError(f"cannot resolve Fn::GetAtt {name}.{attribute}")
    if any(k.startswith("Fn::") for k in value):
        raise TemplateError(f"unsupported intrinsic in {json.dumps(value)[:200]}")
    return {k: resolve(v, refs, resources) for k, v in value.items()}


def template_role(
    template: Mapping[str, Any], logical_id: str, account: str, region: str, parameters: Mapping[str, str]
) -> RolePolicies:
    """A role of a synthesized template as it would be deployed in `account`: its trust policy, its
    AWS::IAM::Policy statements and the managed policies (of the template) attached to it."""
    resources = template["Resources"]
    refs = {"AWS::Partition": "aws", "AWS::AccountId": account, "AWS::Region": region, **parameters}
    role = resources[logical_id]
    if role["Type"] != "AWS::IAM::Role":
        raise TemplateError(f"{logical_id} is not a role")
    props = resolve(role["Properties"], refs, resources)
    documents: list[Any] = [p["PolicyDocument"] for p in props.get("Policies", [])]
    for resource in resources.values():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and {"Ref": logical_id} in resource[
            "Properties"
        ].get("Roles", []):
            documents.append(resolve(resource["Properties"]["PolicyDocument"], refs, resources))
    for arn in props.get("ManagedPolicyArns", []):
        found = [
            r
            for r in resources.values()
            if r["Type"] == "AWS::IAM::ManagedPolicy"
            and arn.endswith(f":policy/{r['Properties']['ManagedPolicyName']}")
        ]
        if not found:
            raise TemplateError(f"role {logical_id} has managed policy {arn}, which the template does not define")
        documents.append(resolve(found[0]["Properties"]["PolicyDocument"], refs, resources))
    arn = f"arn:aws:iam::{account}:role/{props['RoleName']}"
    return RolePolicies(arn, statements(documents), statements([props["AssumeRolePolicyDocument"]]))


@dataclass(frozen=True)
class MemberRoleTemplate:
    """The MemberRoleStack's role, to be resolved for any member account."""

    template: Mapping[str, Any]
    security_account: str
    external_id: str

    @classmethod
    def load(cls, assembly: Path, security_account: str, external_id: str) -> MemberRoleTemplate:
        return cls(json.loads((assembly / MEMBER_TEMPLATE).read_text()), security_account, external_id)

    @property
    def role_name(self) -> str:
        return str(self._role()[1]["Properties"]["RoleName"])

    def _role(self) -> tuple[str, Mapping[str, Any]]:
        roles = [(k, r) for k, r in self.template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
        if len(roles) != 1:
            raise TemplateError(f"the member template has {len(roles)} roles, expected one")
        return roles[0]

    def role(self, account: str, region: str = "us-east-1") -> RolePolicies:
        params = {"SecurityAccountId": self.security_account, "ExternalId": self.external_id}
        return template_role(self.template, self._role()[0], account, region, params)
