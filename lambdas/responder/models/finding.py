"""One finding, whichever way it arrived: GuardDuty directly, Security Hub (ASFF), Security Hub v2 (OCSF)
or a Security Hub custom action. Triage, preferences and incidents see only this."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from responder.models.common import AccountId, Region
from responder.models.resource import ResourceRef

Source = Literal["guardduty", "securityhub", "securityhub_v2", "custom_action"]
# threat: something is acting (GuardDuty); posture: a control check failed (Security Hub controls,
# Macie policy findings); vulnerability: a CVE or exposure (Inspector). Only threats are contained
# unless a rule names the class.
FindingClass = Literal["threat", "posture", "vulnerability"]


class SecurityHubRef(BaseModel):
    """What BatchUpdateFindings needs to name the finding: its Id and its ProductArn."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    finding_arn: str = Field(min_length=1, max_length=512)
    product_arn: str = Field(min_length=1, max_length=512)


class SecurityHubV2Ref(BaseModel):
    """What BatchUpdateFindingsV2 needs to name a v2 finding: `cloud.account.uid`, `finding_info.uid` and
    `metadata.product.uid` (Security Hub API Reference, OcsfFindingIdentifier)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    cloud_account_uid: str = Field(min_length=1, max_length=64)
    finding_info_uid: str = Field(min_length=1, max_length=512)
    metadata_product_uid: str = Field(min_length=1, max_length=512)


class Finding(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    source: Source
    # The underlying finding's id: for a GuardDuty finding, GuardDuty's own id, however it arrived, so
    # that the same finding delivered directly and through Security Hub is one finding.
    id: str = Field(min_length=1, max_length=512)
    type: str = Field(min_length=1, max_length=256)
    severity: float = Field(ge=0.0, le=10.0)
    account: AccountId
    region: Region
    title: str = ""
    target: ResourceRef | None = None
    no_target: str = ""  # why there is no target, when there is none
    fallback_id: str = "unknown"
    skip: str | None = None  # archived, sample, suppressed, untrusted product ...
    trusted: bool = True  # False: a product other than the AWS services' own could have written it
    securityhub_v2: SecurityHubV2Ref | None = None  # where to write back a v2 (OCSF) delivery
    # Further resources of the same kind the finding names (an S3 finding can list several buckets):
    # each is contained by an incident of its own, started by triage.
    extra_targets: list[ResourceRef] = Field(default_factory=list, max_length=100)
    finding_class: FindingClass = "threat"
    passed_check: bool = False  # a posture control that passed (Compliance.Status PASSED): nothing to act on
    count: int = 1
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    remote_ip: str | None = None
    access_key_id: str | None = None
    user_type: str | None = None
    securityhub: SecurityHubRef | None = None
    triggered_by: str | None = None  # custom action: who or what started it, where the event says
