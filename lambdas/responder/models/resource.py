"""The typed target of a containment: which resource, in which account and region."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from responder.models.common import AccountId, Region, ResourceType


def partition_for(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def role_arn(account: str, region: str, name: str) -> str:
    """An IAM role's ARN, in the partition of the region it is used from."""
    return f"arn:{partition_for(region)}:iam::{account}:role/{name}"


class ResourceRef(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    type: ResourceType
    id: str = Field(min_length=1, max_length=256)
    account: AccountId
    region: Region

    @property
    def key(self) -> str:
        """The deduplication key: one open incident per key."""
        return f"{self.account}:{self.region}:{self.type.value}:{self.id}"

    @property
    def arn(self) -> str:
        p = partition_for(self.region)
        if self.type is ResourceType.EC2_INSTANCE:
            return f"arn:{p}:ec2:{self.region}:{self.account}:instance/{self.id}"
        if self.type is ResourceType.IAM_USER:
            return f"arn:{p}:iam::{self.account}:user/{self.id}"
        if self.type is ResourceType.IAM_ROLE:
            return role_arn(self.account, self.region, self.id)
        if self.type is ResourceType.IAM_ROOT:
            return f"arn:{p}:iam::{self.account}:root"
        if self.type is ResourceType.ACCESS_KEY:
            return f"arn:{p}:iam::{self.account}:access-key/{self.id}"
        if self.type is ResourceType.S3_BUCKET:
            return f"arn:{p}:s3:::{self.id}"
        return f"unsupported:{self.account}:{self.region}:{self.id}"


@dataclass(frozen=True)
class Described:
    """What triage reads of a resource: its tags and, where the finding's ARN may lack it (an IAM path),
    its real ARN."""

    tags: dict[str, str]
    arn: str | None = None
