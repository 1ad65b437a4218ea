"""IAM calls for user and role containment."""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import unquote

from botocore.exceptions import ClientError

from responder.adapters.aws import error_code

Principal = Literal["user", "role"]


class PrincipalNotFound(LookupError):
    pass


class PolicyLimitExceeded(RuntimeError):
    """The principal already has as many managed policies attached as IAM allows."""


# The total size of a principal's inline policies, in characters not counting whitespace.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
INLINE_POLICY_CHARACTERS: dict[Principal, int] = {"user": 2048, "role": 10240}


class InlinePolicyLimitExceeded(RuntimeError):
    """IAM refused an inline policy: the principal's inline policies would pass their total size."""


class IamGateway:
    def __init__(self, iam: Any) -> None:
        self.iam = iam

    def _call(self, name: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.iam, name)(**kwargs)
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                target = kwargs.get("UserName") or kwargs.get("RoleName")
                raise PrincipalNotFound(f"{target} not found: {exc.response['Error'].get('Message', '')}") from exc
            raise

    def tags(self, kind: Principal, name: str) -> dict[str, str] | None:
        try:
            if kind == "user":
                tags = self._call("list_user_tags", UserName=name)["Tags"]
            else:
                tags = self._call("list_role_tags", RoleName=name)["Tags"]
        except PrincipalNotFound:
            return None
        return {t["Key"]: t.get("Value", "") for t in tags}

    def identity(self, kind: Principal, name: str) -> tuple[str, dict[str, str]] | None:
        """The principal's real ARN (with its path) and its tags, or None when it does not exist."""
        try:
            if kind == "user":
                found = self._call("get_user", UserName=name)["User"]
            else:
                found = self._call("get_role", RoleName=name)["Role"]
        except PrincipalNotFound:
            return None
        return str(found["Arn"]), {t["Key"]: t.get("Value", "") for t in found.get("Tags", [])}

    def role_arn(self, name: str) -> str:
        return str(self._call("get_role", RoleName=name)["Role"]["Arn"])

    def instance_profile_roles(self, profile_arn: str) -> list[str] | None:
        """The names of the roles in the instance profile (at most one), None when it does not exist.
        GetInstanceProfile takes the name (the ARN's last part, after its path); the answer's ARN must be
        the one asked about. https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetInstanceProfile.html"""
        name = profile_arn.rsplit("/", 1)[-1]
        try:
            profile = self.iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise
        if profile.get("Arn") != profile_arn:
            raise RuntimeError(f"instance profile {name} is {profile.get('Arn')}, not {profile_arn}")
        return sorted(str(r["RoleName"]) for r in profile.get("Roles", []))

    def access_keys(self, user: str) -> list[tuple[str, str]]:
        keys = self._call("list_access_keys", UserName=user)["AccessKeyMetadata"]
        return sorted((k["AccessKeyId"], k["Status"]) for k in keys)

    def set_key_status(self, user: str, key_id: str, status: Literal["Active", "Inactive"]) -> None:
        self._call("update_access_key", UserName=user, AccessKeyId=key_id, Status=status)

    def attached(self, kind: Principal, name: str) -> list[str]:
        op = "list_attached_user_policies" if kind == "user" else "list_attached_role_policies"
        key = {"UserName" if kind == "user" else "RoleName": name}
        arns: list[str] = []
        marker: dict[str, str] = {}
        while True:
            resp = self._call(op, **key, **marker)
            arns += [p["PolicyArn"] for p in resp["AttachedPolicies"]]
            if not resp.get("IsTruncated"):
                return sorted(arns)
            marker = {"Marker": resp["Marker"]}

    def inline(self, kind: Principal, name: str) -> list[str]:
        op = "list_user_policies" if kind == "user" else "list_role_policies"
        key = {"UserName" if kind == "user" else "RoleName": name}
        names: list[str] = []
        marker: dict[str, str] = {}
        while True:
            resp = self._call(op, **key, **marker)
            names += resp["PolicyNames"]
            if not resp.get("IsTruncated"):
                return sorted(names)
            marker = {"Marker": resp["Marker"]}

    def inline_document(self, kind: Principal, name: str, policy_name: str) -> dict[str, Any] | None:
        """The parsed document of one inline policy, None when the principal has no policy of that name."""
        try:
            if kind == "user":
                resp = self.iam.get_user_policy(UserName=name, PolicyName=policy_name)
            else:
                resp = self.iam.get_role_policy(RoleName=name, PolicyName=policy_name)
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise
        return _document(resp["PolicyDocument"])

    def managed_default_document(self, policy_arn: str) -> tuple[str, dict[str, Any]] | None:
        """The default version's ID and parsed document of a managed policy, None when it does not exist."""
        try:
            version = self.iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
            resp = self.iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise
        return str(version), _document(resp["PolicyVersion"]["Document"])

    def attach(self, kind: Principal, name: str, policy_arn: str) -> None:
        try:
            if kind == "user":
                self._call("attach_user_policy", UserName=name, PolicyArn=policy_arn)
            else:
                self._call("attach_role_policy", RoleName=name, PolicyArn=policy_arn)
        except ClientError as exc:
            if error_code(exc) == "LimitExceeded":
                raise PolicyLimitExceeded(str(exc)) from exc
            raise

    def detach(self, kind: Principal, name: str, policy_arn: str) -> None:
        if kind == "user":
            self._call("detach_user_policy", UserName=name, PolicyArn=policy_arn)
        else:
            self._call("detach_role_policy", RoleName=name, PolicyArn=policy_arn)

    def put_inline(self, kind: Principal, name: str, policy_name: str, document: str) -> None:
        try:
            if kind == "user":
                self._call("put_user_policy", UserName=name, PolicyName=policy_name, PolicyDocument=document)
            else:
                self._call("put_role_policy", RoleName=name, PolicyName=policy_name, PolicyDocument=document)
        except ClientError as exc:
            if error_code(exc) == "LimitExceeded":
                raise InlinePolicyLimitExceeded(
                    f"IAM refused inline policy {policy_name} on {kind} {name}: the {kind}'s inline policies "
                    f"would total more than {INLINE_POLICY_CHARACTERS[kind]:,} characters "
                    f"(LimitExceeded: {exc.response.get('Error', {}).get('Message', '')})"
                ) from exc
            raise

    def delete_inline(self, kind: Principal, name: str, policy_name: str) -> None:
        if kind == "user":
            self._call("delete_user_policy", UserName=name, PolicyName=policy_name)
        else:
            self._call("delete_role_policy", RoleName=name, PolicyName=policy_name)


def _document(raw: Any) -> dict[str, Any]:
    """IAM returns documents URL-encoded; boto3 usually decodes them to a dict already."""
    if isinstance(raw, dict):
        return raw
    text = str(raw)
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = json.loads(unquote(text))
    if not isinstance(parsed, dict):
        raise ValueError(f"policy document is not a JSON object: {text[:80]!r}")
    return parsed
