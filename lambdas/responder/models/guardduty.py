"""GuardDuty findings as delivered by EventBridge (`source: aws.guardduty`, `detail-type: GuardDuty Finding`).

Only the fields the responder uses are modelled; everything else is ignored. Required fields are
validated strictly so that a malformed event is rejected with the field that is wrong.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from responder.models.common import AccountId, Region

# Identifiers are checked at the edge, so that nothing hostile reaches an AWS call or a log line as a
# resource name. The patterns follow the services' own rules, and admit GuardDuty's sample findings
# (`i-99999999`, `GeneratedFindingUserName`), which triage then skips as samples.
INSTANCE_ID = r"^i-[0-9a-f]{8,17}$"
ACCESS_KEY_ID = r"^[A-Za-z0-9]{1,128}$"
PRINCIPAL_ID = r"^[A-Za-z0-9_+=,.@:-]{1,256}$"
IAM_NAME = r"^[A-Za-z0-9_+=,.@-]{1,128}$"
BUCKET_NAME = r"^[A-Za-z0-9][A-Za-z0-9.\-_]{1,253}[A-Za-z0-9]$"


class _GdModel(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", populate_by_name=True, frozen=True)


class GdSecurityGroup(_GdModel):
    group_id: str = Field(alias="groupId")
    group_name: str | None = Field(default=None, alias="groupName")


class GdNetworkInterface(_GdModel):
    network_interface_id: str | None = Field(default=None, alias="networkInterfaceId")
    vpc_id: str | None = Field(default=None, alias="vpcId")
    subnet_id: str | None = Field(default=None, alias="subnetId")
    public_ip: str | None = Field(default=None, alias="publicIp")
    private_ip_address: str | None = Field(default=None, alias="privateIpAddress")
    security_groups: list[GdSecurityGroup] = Field(default_factory=list, alias="securityGroups")


class GdTag(_GdModel):
    key: str = Field(alias="key")
    value: str = Field(default="", alias="value")


class GdInstanceProfile(_GdModel):
    arn: str | None = None
    id: str | None = None


class GdInstanceDetails(_GdModel):
    instance_id: str = Field(alias="instanceId", pattern=INSTANCE_ID)
    instance_type: str | None = Field(default=None, alias="instanceType")
    instance_state: str | None = Field(default=None, alias="instanceState")
    availability_zone: str | None = Field(default=None, alias="availabilityZone")
    network_interfaces: list[GdNetworkInterface] = Field(default_factory=list, alias="networkInterfaces")
    iam_instance_profile: GdInstanceProfile | None = Field(default=None, alias="iamInstanceProfile")
    tags: list[GdTag] = Field(default_factory=list)


class GdAccessKeyDetails(_GdModel):
    access_key_id: str | None = Field(default=None, alias="accessKeyId", pattern=ACCESS_KEY_ID)
    principal_id: str | None = Field(default=None, alias="principalId", pattern=PRINCIPAL_ID)
    user_name: str | None = Field(default=None, alias="userName", pattern=IAM_NAME)
    user_type: str | None = Field(default=None, alias="userType")


class GdS3Bucket(_GdModel):
    arn: str | None = None
    name: str = Field(pattern=BUCKET_NAME)


class GdResource(_GdModel):
    resource_type: str = Field(alias="resourceType", min_length=1, max_length=64)
    instance_details: GdInstanceDetails | None = Field(default=None, alias="instanceDetails")
    access_key_details: GdAccessKeyDetails | None = Field(default=None, alias="accessKeyDetails")
    s3_bucket_details: list[GdS3Bucket] = Field(default_factory=list, alias="s3BucketDetails")


class GdRemoteIp(_GdModel):
    ip_address_v4: str | None = Field(default=None, alias="ipAddressV4")
    ip_address_v6: str | None = Field(default=None, alias="ipAddressV6")


class GdService(_GdModel):
    archived: bool = False
    count: int = Field(default=1, ge=0)
    event_first_seen: datetime | None = Field(default=None, alias="eventFirstSeen")
    event_last_seen: datetime | None = Field(default=None, alias="eventLastSeen")
    additional_info: dict[str, Any] = Field(default_factory=dict, alias="additionalInfo")
    action: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_sample(self) -> bool:
        value = self.additional_info.get("sample")
        return value is True or (isinstance(value, str) and value.lower() == "true")

    def remote_ip(self) -> str | None:
        """The remote IP of the actor, from whichever action kind the finding carries."""
        for kind in (
            "networkConnectionAction",
            "awsApiCallAction",
            "portProbeAction",
            "kubernetesApiCallAction",
        ):
            action = self.action.get(kind)
            if not isinstance(action, dict):
                continue
            details = action.get("remoteIpDetails")
            if kind == "portProbeAction":
                probes = action.get("portProbeDetails") or []
                details = probes[0].get("remoteIpDetails") if probes and isinstance(probes[0], dict) else None
            if isinstance(details, dict):
                ip = details.get("ipAddressV4") or details.get("ipAddressV6")
                if isinstance(ip, str) and ip:
                    return ip
        return None


class GuardDutyFinding(_GdModel):
    schema_version: str | None = Field(default=None, alias="schemaVersion")
    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$")
    arn: str | None = None
    type: str = Field(min_length=3, max_length=128, pattern=r"^[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]+/[A-Za-z0-9_\-.!&]+$")
    severity: float = Field(ge=0.0, le=10.0)
    account_id: AccountId = Field(alias="accountId")
    region: Region
    title: str = Field(default="", max_length=1024)
    description: str = Field(default="", max_length=4096)
    resource: GdResource
    service: GdService = Field(default_factory=GdService)
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")

    @property
    def threat_family(self) -> str:
        """`UnauthorizedAccess:EC2/SSHBruteForce` -> `EC2`: the family GuardDuty routes on."""
        return self.type.split(":", 1)[1].split("/", 1)[0]


class EventBridgeEnvelope(BaseModel):
    """The EventBridge event around a finding."""

    model_config = ConfigDict(defer_build=True, extra="ignore", populate_by_name=True, frozen=True)

    version: str | None = None
    id: str = Field(min_length=1, max_length=128)
    detail_type: str = Field(alias="detail-type", min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=256)
    account: AccountId
    time: datetime | None = None
    region: Region
    resources: list[str] = Field(default_factory=list)


class GuardDutyEvent(EventBridgeEnvelope):
    source: Literal["aws.guardduty"]
    detail_type: Literal["GuardDuty Finding"] = Field(alias="detail-type")
    detail: GuardDutyFinding
