"""Small shared types and helpers for the models."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

AccountId = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]
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
