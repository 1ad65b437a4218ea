"""Security Hub findings as EventBridge delivers them.

- ASFF (`source: aws.securityhub`): `detail-type` `Security Hub Findings - Imported` or
  `Security Hub Findings - Custom Action`; `detail.findings[]`, possibly several per event.
- OCSF (Security Hub v2): `detail-type` `Findings Imported V2`, in the same envelope as ASFF:
  `detail.findings[]`, one finding per event (AWS Security Hub User Guide, "EventBridge event formats",
  securityhub-v2-cwe-event-formats).

Only the fields the responder reads are modelled; everything else is ignored. Identifiers that reach
AWS calls are checked against the services' rules here, at the edge.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from responder.models.common import AccountId, Region
from responder.models.guardduty import EventBridgeEnvelope

# Products whose findings only the AWS service itself can write. Anyone who may call
# BatchImportFindings can set ProductName, CompanyName or Types, but not a product ARN of this form
# (`::product/aws/<service>` in ASFF, `::productv2/aws/<service>` in Security Hub v2; no account).
TRUSTED_PRODUCT = re.compile(
    r"^arn:aws(-cn|-us-gov|-iso[a-z]?)?:securityhub:[a-z0-9-]+::product(v2)?/aws/"
    r"(guardduty|inspector|macie|securityhub)$"
)
ASFF_IMPORTED = "Security Hub Findings - Imported"
ASFF_CUSTOM_ACTION = "Security Hub Findings - Custom Action"
OCSF_IMPORTED = "Findings Imported V2"


class _Asff(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", populate_by_name=True, frozen=True)


class AsffSeverity(_Asff):
    label: str | None = Field(default=None, alias="Label")
    normalized: int | None = Field(default=None, alias="Normalized", ge=0, le=100)
    product: float | None = Field(default=None, alias="Product")


class AsffWorkflow(_Asff):
    status: str | None = Field(default=None, alias="Status")


class AsffResource(_Asff):
    type: str = Field(alias="Type", min_length=1, max_length=128)
    id: str = Field(alias="Id", min_length=1, max_length=512)
    region: str | None = Field(default=None, alias="Region")
    details: dict[str, Any] = Field(default_factory=dict, alias="Details")


class AsffCompliance(_Asff):
    status: str | None = Field(default=None, alias="Status", max_length=32)


class AsffNetwork(_Asff):
    source_ip_v4: str | None = Field(default=None, alias="SourceIpV4")


class AsffFinding(_Asff):
    id: str = Field(alias="Id", min_length=1, max_length=512)
    product_arn: str = Field(alias="ProductArn", min_length=1, max_length=512)
    generator_id: str = Field(default="", alias="GeneratorId", max_length=512)
    aws_account_id: AccountId = Field(alias="AwsAccountId")
    region: Region | None = Field(default=None, alias="Region")
    types: list[str] = Field(default_factory=list, alias="Types")
    title: str = Field(default="", alias="Title", max_length=1024)
    description: str = Field(default="", alias="Description", max_length=4096)
    severity: AsffSeverity = Field(default_factory=AsffSeverity, alias="Severity")
    workflow: AsffWorkflow = Field(default_factory=AsffWorkflow, alias="Workflow")
    record_state: str | None = Field(default=None, alias="RecordState")
    compliance: AsffCompliance | None = Field(default=None, alias="Compliance")
    resources: list[AsffResource] = Field(default_factory=list, alias="Resources", max_length=32)
    product_fields: dict[str, str] = Field(default_factory=dict, alias="ProductFields")
    network: AsffNetwork | None = Field(default=None, alias="Network")
    action: dict[str, Any] = Field(default_factory=dict, alias="Action")
    first_observed_at: str | None = Field(default=None, alias="FirstObservedAt")
    last_observed_at: str | None = Field(default=None, alias="LastObservedAt")

    @property
    def trusted(self) -> bool:
        return bool(TRUSTED_PRODUCT.fullmatch(self.product_arn))  # `$` alone admits a trailing newline

    @property
    def product(self) -> str:
        """`guardduty`, `inspector`, `macie`, `securityhub`, or the product ARN's last part."""
        return self.product_arn.rsplit("/", 1)[-1]


class AsffDetail(_Asff):
    findings: list[AsffFinding] = Field(min_length=1, max_length=100)
    action_name: str | None = Field(default=None, alias="actionName", max_length=128)
    action_description: str | None = Field(default=None, alias="actionDescription", max_length=1024)


class SecurityHubEvent(EventBridgeEnvelope):
    source: Literal["aws.securityhub"]
    detail_type: Literal["Security Hub Findings - Imported", "Security Hub Findings - Custom Action"] = Field(
        alias="detail-type"
    )
    detail: AsffDetail

    @property
    def custom_action(self) -> bool:
        return self.detail_type == ASFF_CUSTOM_ACTION


# -- OCSF (Security Hub v2) ------------------------------------------------------------------------
class _Ocsf(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)


class OcsfProduct(_Ocsf):
    uid: str = Field(default="", max_length=512)
    name: str = Field(default="", max_length=256)


class OcsfMetadata(_Ocsf):
    product: OcsfProduct = Field(default_factory=OcsfProduct)
    uid: str | None = None


class OcsfAnalytic(_Ocsf):
    name: str | None = Field(default=None, max_length=256)


class OcsfFindingInfo(_Ocsf):
    uid: str = Field(min_length=1, max_length=512)
    analytic: OcsfAnalytic | None = None
    title: str = Field(default="", max_length=1024)
    types: list[str] = Field(default_factory=list)
    first_seen_time_dt: str | int | None = None
    last_seen_time_dt: str | int | None = None


class OcsfAccount(_Ocsf):
    uid: AccountId


class OcsfCloud(_Ocsf):
    account: OcsfAccount
    region: Region


class OcsfResource(_Ocsf):
    type: str = Field(min_length=1, max_length=128)
    uid: str = Field(min_length=1, max_length=512)
    name: str | None = Field(default=None, max_length=512)
    region: str | None = None
    data: dict[str, Any] | str | None = Field(default=None)

    def details(self, kind: str) -> dict[str, Any]:
        """The ASFF-style details of the resource (`data.<kind>`), which OCSF forms of AWS findings carry as
        an object or as a JSON string; empty when absent or unreadable."""
        data = self.data
        if isinstance(data, str):
            try:
                data = json.loads(data) if len(data) <= 16384 else None
            except ValueError:
                data = None
        found = data.get(kind) if isinstance(data, dict) else None
        return found if isinstance(found, dict) else {}


class OcsfEndpoint(_Ocsf):
    ip: str | None = None


class OcsfUser(_Ocsf):
    name: str | None = Field(default=None, max_length=512)
    type: str | None = Field(default=None, max_length=64)
    uid: str | None = Field(default=None, max_length=512)


class OcsfActor(_Ocsf):
    user: OcsfUser | None = None


class OcsfCompliance(_Ocsf):
    status: str | None = Field(default=None, max_length=32)


class OcsfFinding(_Ocsf):
    finding_info: OcsfFindingInfo
    metadata: OcsfMetadata = Field(default_factory=OcsfMetadata)
    cloud: OcsfCloud
    resources: list[OcsfResource] = Field(default_factory=list, max_length=32)
    severity_id: int | None = Field(default=None, ge=0, le=99)
    severity: str | None = None
    status: str | None = None
    src_endpoint: OcsfEndpoint | None = None
    actor: OcsfActor | None = None
    compliance: OcsfCompliance | None = None
    class_name: str | None = Field(default=None, max_length=128)

    @property
    def product(self) -> str:
        """The product's short name (`guardduty`, ...): the last part of `metadata.product.uid`. The
        product's free-text name is never used: anyone who imports findings can write it."""
        return self.metadata.product.uid.rsplit("/", 1)[-1].lower()


class OcsfDetail(_Ocsf):
    findings: list[OcsfFinding] = Field(min_length=1, max_length=100)


class OcsfEvent(EventBridgeEnvelope):
    source: Literal["aws.securityhub"]
    detail_type: Literal["Findings Imported V2"] = Field(alias="detail-type")
    detail: OcsfDetail
