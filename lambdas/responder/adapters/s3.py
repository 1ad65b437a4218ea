"""S3 calls for bucket containment: bucket policy, Block Public Access, ownership controls, bucket ACL."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from responder.adapters.aws import error_code
from responder.models.incident import AclGrant, BucketAcl

PAB_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
# Where each grantee type keeps its identity, in GetBucketAcl's answer and PutBucketAcl's request.
_GRANTEE_FIELD = {"CanonicalUser": "ID", "Group": "URI", "AmazonCustomerByEmail": "EmailAddress"}


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

    def acl(self, bucket: str) -> BucketAcl:
        resp = self._get("get_bucket_acl", bucket, ())
        grants = [
            AclGrant(
                grantee_type=g["Grantee"]["Type"],
                grantee=g["Grantee"][_GRANTEE_FIELD[g["Grantee"]["Type"]]],
                permission=g["Permission"],
            )
            for g in resp.get("Grants", [])
        ]
        grants.sort(key=lambda g: (g.grantee_type, g.grantee, g.permission))
        return BucketAcl(owner_id=resp["Owner"]["ID"], grants=grants)

    def put_acl_private(self, bucket: str) -> None:
        """The owner-only ACL (full control to the bucket owner, nothing else)."""
        self.s3.put_bucket_acl(Bucket=bucket, ACL="private")

    def put_acl(self, bucket: str, acl: BucketAcl) -> None:
        self.s3.put_bucket_acl(
            Bucket=bucket,
            AccessControlPolicy={
                "Owner": {"ID": acl.owner_id},
                "Grants": [
                    {
                        "Grantee": {"Type": g.grantee_type, _GRANTEE_FIELD[g.grantee_type]: g.grantee},
                        "Permission": g.permission,
                    }
                    for g in acl.grants
                ],
            },
        )
