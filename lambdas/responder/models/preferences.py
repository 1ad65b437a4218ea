"""Containment preferences: the rules a team stores to decide what the responder does.

A rule matches on resource type, finding-type glob, minimum severity, account and resource tags.
The matching rule with the lowest priority number wins; with no matching rule the built-in default
is `approve`.
"""

from __future__ import annotations

import fnmatch
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from responder.models.common import ResourceType
from responder.models.finding import FindingClass, Source


class Mode(StrEnum):
    AUTO = "auto"
    APPROVE = "approve"
    NOTIFY = "notify"
    IGNORE = "ignore"


class OnTimeout(StrEnum):
    EXPIRE = "expire"
    CONTAIN = "contain"


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class RuleMatch(_Strict):
    resource_types: list[ResourceType] = Field(default_factory=list, description="Empty matches any type.")
    finding_types: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    min_severity: float = Field(default=0.0, ge=0.0, le=10.0)
    max_severity: float = Field(default=10.0, ge=0.0, le=10.0)
    accounts: list[str] = Field(default_factory=list, description="Empty matches any account.")
    tags: dict[str, str] = Field(default_factory=dict, description="The resource must carry every tag.")
    sources: list[Source] = Field(
        default_factory=list,
        description="How the finding arrived. Empty matches every source except custom_action: a custom action "
        "is a person asking, and only a rule that names custom_action changes its approve default.",
    )

    finding_classes: list[FindingClass] = Field(
        default_factory=list,
        description="threat, posture or vulnerability. Empty matches threats only: control checks and "
        "vulnerabilities match only rules that name their class.",
    )

    @field_validator("finding_types")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        for glob in value:
            if not glob or len(glob) > 256:
                raise ValueError("finding type globs must be 1-256 characters")
        return value

    @model_validator(mode="after")
    def _severity_range(self) -> RuleMatch:
        if self.min_severity > self.max_severity:
            raise ValueError(f"min_severity {self.min_severity} is above max_severity {self.max_severity}")
        return self

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        for account in value:
            if not (len(account) == 12 and account.isdigit()):
                raise ValueError(f"account {account!r} is not a 12-digit AWS account id")
        return value


class Ec2Options(_Strict):
    isolation_mode: Literal["two_step", "direct"] | None = Field(
        default=None, description="Overrides the stack's isolationMode for matching incidents."
    )
    snapshot: bool = True
    asg_standby: bool = True
    termination_protection: bool = True
    revoke_role_sessions: bool = Field(
        default=True,
        description="Revoke the sessions of the instance's role issued before containment (an inline deny on "
        "aws:TokenIssueTime, as for a contained role): credentials already taken from the instance stop working.",
    )
    disable_imds: bool = Field(
        default=False,
        description="Turn the instance metadata service off (HttpEndpoint disabled): the instance can no longer "
        "fetch role credentials. Restore puts back the recorded metadata options.",
    )
    detach_instance_profile: bool = Field(
        default=False,
        description="Disassociate the instance profile: the instance has no role at all. Restore associates the "
        "recorded profile again.",
    )


class IamUserOptions(_Strict):
    deactivate_keys: Literal["finding", "all", "none"] = Field(
        default="finding", description="The key named in the finding (default), all of the user's keys, or none."
    )
    deny_all: bool = True
    revoke_sessions: bool = True


class IamRoleOptions(_Strict):
    deny_all: bool = False
    revoke_sessions: bool = True


class S3Options(_Strict):
    block_public_access: bool = True
    deny_policy: bool = True
    disable_acls: bool = True
    break_glass_arns: list[str] = Field(default_factory=list)

    @field_validator("break_glass_arns")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not arn.startswith("arn:"):
                raise ValueError(f"{arn!r} is not an ARN")
        return value


WAF_IP_SET_ARN = (
    r"^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:(regional|global)/ipset/[A-Za-z0-9_-]{1,128}/[a-f0-9-]{1,64}$"
)


class RuleActions(_Strict):
    ec2: Ec2Options = Field(default_factory=Ec2Options)
    iam_user: IamUserOptions = Field(default_factory=IamUserOptions)
    iam_role: IamRoleOptions = Field(default_factory=IamRoleOptions)
    s3: S3Options = Field(default_factory=S3Options)
    waf_ip_set_arn: str | None = Field(default=None, pattern=WAF_IP_SET_ARN)
    on_drift: Literal["notify", "recontain"] = Field(
        default="notify",
        description="When the scheduled re-verification finds a contained resource reopened: email and alarm "
        "(notify), or also apply containment again and verify it (recontain).",
    )
    securityhub_workflow: bool = Field(
        default=False,
        description="Set the Security Hub finding's workflow status: NOTIFIED when approval is requested, "
        "RESOLVED when contained. A note is written on every state change either way.",
    )


class Rule(_Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    priority: int = Field(ge=0, le=100_000)
    match: RuleMatch = Field(default_factory=RuleMatch)
    mode: Mode
    on_timeout: OnTimeout = OnTimeout.EXPIRE
    dry_run: bool = False
    actions: RuleActions = Field(default_factory=RuleActions)
    notes: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _tags_never_lower_the_response(self) -> Rule:
        # Whoever controls a resource can write its tags (ec2:CreateTags, iam:TagUser, s3:PutBucketTagging):
        # a rule keyed on tags must not give the resource a weaker response than it would get without them.
        if self.match.tags and (self.mode in (Mode.NOTIFY, Mode.IGNORE) or self.dry_run):
            raise ValueError(
                "match.tags: a rule matched by resource tags may only contain (mode auto or approve, no dry_run); "
                "whoever controls the resource can write its tags. Key quieter rules on accounts, resource "
                "types, finding types or severity, or protect the resource with the protectedArns context"
            )
        return self

    def matches(self, facts: MatchFacts) -> tuple[bool, str]:
        """Whether the rule matches, and why (or why not) in words for `explain`."""
        m = self.match
        if facts.source == "custom_action" and "custom_action" not in m.sources:
            return False, "a custom action matches only rules that name custom_action in sources"
        if m.sources and facts.source not in m.sources:
            return False, f"source {facts.source} not in {m.sources}"
        # A custom action is a person asking: it is matched whatever the finding's class.
        if facts.source != "custom_action" and facts.finding_class not in (m.finding_classes or ["threat"]):
            if not m.finding_classes:
                return False, f"a {facts.finding_class} finding matches only rules that name it in finding_classes"
            return False, f"finding class {facts.finding_class} not in {m.finding_classes}"
        if m.resource_types and facts.resource_type not in m.resource_types:
            return (
                False,
                f"resource type {facts.resource_type.value} not in {[t.value for t in m.resource_types]}",
            )
        if not any(fnmatch.fnmatchcase(facts.finding_type, g) for g in m.finding_types):
            return False, f"finding type {facts.finding_type} matches none of {m.finding_types}"
        if facts.severity < m.min_severity:
            return False, f"severity {facts.severity} below {m.min_severity}"
        if facts.severity > m.max_severity:
            return False, f"severity {facts.severity} above {m.max_severity}"
        if m.accounts and facts.account not in m.accounts:
            return False, f"account {facts.account} not in {m.accounts}"
        for key, value in m.tags.items():
            if facts.tags.get(key) != value:
                return False, f"tag {key}={value} not on the resource"
        return True, "all conditions match"


class MatchFacts(BaseModel):
    """What a rule is matched against."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    resource_type: ResourceType
    finding_type: str
    severity: float
    account: str
    tags: dict[str, str] = Field(default_factory=dict)
    source: str = "guardduty"
    finding_class: str = "threat"


DEFAULT_RULE_ID = "builtin-default"


class Decision(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    mode: Mode
    on_timeout: OnTimeout
    rule_id: str
    dry_run: bool = False
    reason: str
    actions: RuleActions = Field(default_factory=RuleActions)
