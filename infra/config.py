"""Stack settings from CDK context (cdk.json or `-c key=value`), validated before anything is built."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from responder.models.common import EXTERNAL_ID, ROLE_NAME

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


# The regions the stack is meant to run in: every commercial region (partition `aws`). cfn-lint checks the
# template against each one's CloudFormation registry (tests/infra).
DEPLOY_REGIONS = (
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)


class ConfigError(ValueError):
    pass


class ResponderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stack_name: str = Field(default="ContainmentResponder", pattern=r"^[A-Za-z][A-Za-z0-9-]{0,100}$")
    notification_email: str | None = Field(default=None, pattern=EMAIL)
    approval_timeout_hours: float = Field(default=24.0, gt=0, le=168)
    protected_arns: list[str] = Field(default_factory=list)
    isolation_mode: Literal["two_step", "direct"] = "two_step"
    break_glass_arns: list[str] = Field(default_factory=list)
    # Security Hub: rules on imported (ASFF) and v2 (OCSF) findings, and the "Contain resource" custom
    # action. Creating the custom action needs Security Hub enabled in the account and region.
    security_hub: bool = True
    # API Gateway stage access logging needs the account's API Gateway CloudWatch role (an account-wide
    # setting). The stack creates it and keeps it on delete; accounts that manage that setting elsewhere
    # (a landing zone, another stack) turn this off.
    api_gateway_cloudwatch_role: bool = True
    # Many accounts: the role the responder assumes in member accounts (MemberRoleStack), and the
    # ExternalId it presents. Without an ExternalId, findings from other accounts fail with that reason.
    # Every CONTAINED resource is verified again this often (minutes); 0 turns the schedule off.
    reverify_minutes: int = Field(default=15, ge=0, le=1440)
    member_role_name: str = Field(default="ContainmentResponderMember", pattern=ROLE_NAME)
    member_external_id: str | None = Field(default=None, min_length=2, max_length=1224, pattern=EXTERNAL_ID)

    @field_validator("protected_arns", "break_glass_arns", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("protected_arns", "break_glass_arns")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not arn.startswith("arn:"):
                raise ValueError(f"{arn!r} is not an ARN (globs with * are allowed)")
        return value

    @field_validator("security_hub", "api_gateway_cloudwatch_role", mode="before")
    @classmethod
    def _bool(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return value

    @field_validator("isolation_mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> Any:
        return value.replace("-", "_") if isinstance(value, str) else value

    @property
    def approval_timeout_seconds(self) -> int:
        return max(1, round(self.approval_timeout_hours * 3600))


CONTEXT_KEYS = {
    "stackName": "stack_name",
    "notificationEmail": "notification_email",
    "approvalTimeoutHours": "approval_timeout_hours",
    "protectedArns": "protected_arns",
    "isolationMode": "isolation_mode",
    "breakGlassArns": "break_glass_arns",
    "securityHub": "security_hub",
    "apiGatewayCloudWatchRole": "api_gateway_cloudwatch_role",
    "reverifyMinutes": "reverify_minutes",
    "memberRoleName": "member_role_name",
    "memberExternalId": "member_external_id",
}


def from_context(get: Any) -> ResponderConfig:
    """Build the config from a `node.try_get_context`-like getter; errors name the context key."""
    values = {field: get(key) for key, field in CONTEXT_KEYS.items() if get(key) not in (None, "")}
    try:
        return ResponderConfig.model_validate(values)
    except ValidationError as exc:
        back = {v: k for k, v in CONTEXT_KEYS.items()}
        problems = "; ".join(f"{back.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid CDK context: {problems}") from None
