"""What the functions that plan, change, verify or restore resources share: their environment and gateways."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, field_validator

from responder.adapters.gateways import AwsGateways
from responder.domain.kinds import Settings
from responder.handlers._runtime import MemberAccessEnv


class ContainmentEnv(MemberAccessEnv):
    """The environment of the functions that plan, change, verify or restore resources."""

    incidents_table: str = Field(min_length=3)
    deny_all_policy_name: str = Field(min_length=1, max_length=128)
    exempt_principals: list[str] = Field(default_factory=list)
    isolation_mode: Literal["two_step", "direct"] = "two_step"

    @field_validator("exempt_principals", mode="before")
    @classmethod
    def _json_list(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def settings(self) -> Settings:
        return Settings(
            deny_all_policy_name=self.deny_all_policy_name,
            exempt_principals=self.exempt_principals,
            isolation_mode=self.isolation_mode,
            member_role_name=self.member_role_name,
        )

    def gateways(self, function: str) -> AwsGateways:
        return AwsGateways(self.account_clients(f"containment-responder-{function}"))
