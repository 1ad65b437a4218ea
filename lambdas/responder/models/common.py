"""Small shared types and helpers for the models."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

# ASCII classes only: pydantic-core's regex (Rust) reads \d and \w as Unicode classes, and AWS identifiers
# are ASCII. The same strings serve as CloudFormation AllowedPatterns (infra/member_stack.py).
ACCOUNT_ID = r"^[0-9]{12}$"
ROLE_NAME = r"^[A-Za-z0-9_+=,.@-]{1,64}$"  # IAM role names
EXTERNAL_ID = r"^[A-Za-z0-9_+=,.@:/-]+$"  # sts:AssumeRole ExternalId characters

AccountId = Annotated[str, StringConstraints(pattern=ACCOUNT_ID)]
Region = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")]
InstanceId = Annotated[str, StringConstraints(pattern=r"^i-[0-9a-f]{8,17}$")]


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    """ISO-8601 with millisecond precision and a Z suffix, as AWS writes timestamps."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


class ResourceType(StrEnum):
    EC2_INSTANCE = "ec2_instance"
    IAM_USER = "iam_user"
    IAM_ROLE = "iam_role"
    ACCESS_KEY = "access_key"
    S3_BUCKET = "s3_bucket"
    IAM_ROOT = "iam_root"  # notify only: the root user cannot be contained by IAM policy
    OTHER = "other"  # a finding about a resource the responder does not contain (recorded as SKIPPED)


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @classmethod
    def from_score(cls, score: float) -> Severity:
        # GuardDuty: low < 4, medium < 7, high < 9, critical >= 9.
        if score < 4.0:
            return cls.LOW
        if score < 7.0:
            return cls.MEDIUM
        if score < 9.0:
            return cls.HIGH
        return cls.CRITICAL
