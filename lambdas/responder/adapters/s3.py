"""S3 calls for bucket containment: bucket policy, Block Public Access, ownership controls."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from responder.adapters.aws import error_code

PAB_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


class BucketNotFound(LookupError):
    pass


class S3Gateway:
    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def _get(self, op: str, bucket: str, missing: tuple[str, ...]) -> Any:
        try:
            return getattr(self.s3, op)(Bucket=bucket)
        except ClientError as exc:
            code = error_code(exc)
            if code == "NoSuchBucket":
                raise BucketNotFound(f"bucket {bucket} not found") from exc
            if code in missing:
                return None
            raise

    def tags(self, bucket: str) -> dict[str, str] | None:
        try:
            resp = self._get("get_bucket_tagging", bucket, ("NoSuchTagSet", "NoSuchTagSetError"))
        except BucketNotFound:
            return None
        return {t["Key"]: t["Value"] for t in (resp or {}).get("TagSet", [])}

    def policy(self, bucket: str) -> str | None:
        resp = self._get("get_bucket_policy", bucket, ("NoSuchBucketPolicy",))
        return None if resp is None else str(resp["Policy"])

    def put_policy(self, bucket: str, document: str) -> None:
        self.s3.put_bucket_policy(Bucket=bucket, Policy=document)

    def delete_policy(self, bucket: str) -> None:
        self.s3.delete_bucket_policy(Bucket=bucket)

    def public_access_block(self, bucket: str) -> dict[str, bool] | None:
        resp = self._get("get_public_access_block", bucket, ("NoSuchPublicAccessBlockConfiguration",))
        if resp is None:
            return None
        config = resp["PublicAccessBlockConfiguration"]
        return {k: bool(config.get(k, False)) for k in PAB_KEYS}

    def put_public_access_block(self, bucket: str, config: dict[str, bool]) -> None:
        self.s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=config)

    def delete_public_access_block(self, bucket: str) -> None:
        self.s3.delete_public_access_block(Bucket=bucket)

    def ownership_controls(self, bucket: str) -> list[dict[str, str]] | None:
        resp = self._get("get_bucket_ownership_controls", bucket, ("OwnershipControlsNotFoundError",))
        return None if resp is None else [dict(r) for r in resp["OwnershipControls"]["Rules"]]

    def put_ownership_controls(self, bucket: str, rules: list[dict[str, str]]) -> None:
        self.s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": rules})

    def delete_ownership_controls(self, bucket: str) -> None:
        self.s3.delete_bucket_ownership_controls(Bucket=bucket)
