"""The emulator refuses what S3 refuses: public policies under BlockPublicPolicy, public ACLs under
BlockPublicAcls, and ACLs together with ObjectOwnership BucketOwnerEnforced.

Sources (AWS documentation):
- Blocking public access, "The meaning of public":
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
- PublicAccessBlockConfiguration (API):
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html
- Object Ownership troubleshooting (InvalidBucketAclWithObjectOwnership, AccessControlListNotSupported):
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from responder.adapters.aws import client
from responder_cli.sandbox.moto_fidelity import s3_policy_is_public

ACCOUNT = "123456789012"
BUCKET = "rules-bucket"
OBJECTS = f"arn:aws:s3:::{BUCKET}/*"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def _allow(principal, condition: dict | None = None, action: str = "s3:GetObject") -> dict:
    st = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": OBJECTS}
    if condition is not None:
        st["Condition"] = condition
    return st


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


DENY_ALL_BUT_ME = {
    "Sid": "DenyAllButMe",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{BUCKET}", OBJECTS],
    "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/me"}},
}

# Public: everyone, or everyone under a condition that does not pin a documented key to fixed values.
PUBLIC = {
    "star": _allow("*"),
    "aws-star": _allow({"AWS": "*"}),
    "aws-star-in-list": _allow({"AWS": [f"arn:aws:iam::{ACCOUNT}:root", "*"]}),
    "wildcard-vpc": _allow("*", {"StringLike": {"aws:SourceVpc": "vpc-*"}}),  # the user guide's own example
    "all-addresses": _allow("*", {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
    "all-ipv6": _allow("*", {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "::/0"]}}),
    "negated-address": _allow("*", {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
    "if-exists": _allow("*", {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-91237329"}}),
    "policy-variable": _allow("*", {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}),
    "undocumented-key": _allow("*", {"StringEquals": {"aws:UserAgent": "curl/8.0"}}),
    "not-principal": {"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                      "Action": "s3:GetObject", "Resource": OBJECTS},
    "with-a-deny": None,  # the public statement plus a deny-all: still public (built below)
}  # fmt: skip
NOT_PUBLIC = {
    "fixed-principal": _allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/reader"}),
    "service-principal": _allow({"Service": "logging.s3.amazonaws.com"}, action="s3:PutObject"),
    "fixed-vpc": _allow("*", {"StringEquals": {"aws:SourceVpc": "vpc-91237329"}}),  # the user guide's example
    "cidr": _allow("*", {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}),
    "source-arn": _allow({"Service": "cloudfront.amazonaws.com"},
                         {"ArnEquals": {"aws:SourceArn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1"}}),
    "vpce": _allow("*", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
    "source-account": _allow("*", {"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
    "source-owner": _allow("*", {"StringEquals": {"aws:SourceOwner": ACCOUNT}}),
    "org": _allow({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}),
    "principal-account": _allow("*", {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}),
    "userid": _allow("*", {"StringEquals": {"aws:userid": "AIDAEXAMPLEUSERID"}}),
    "access-point": _allow("*", {"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}}),
    "key-case-insensitive": _allow("*", {"StringEquals": {"AWS:SOURCEVPC": "vpc-91237329"}}),
    "any-value": _allow("*", {"ForAnyValue:StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}}),
    "deny-only": DENY_ALL_BUT_ME,
}  # fmt: skip


def _public_documents() -> dict[str, str]:
    docs = {name: _doc(st) for name, st in PUBLIC.items() if st is not None}
    docs["with-a-deny"] = _doc(_allow("*"), DENY_ALL_BUT_ME)
    return docs


def _bucket(pab: dict | None = None, acl: str | None = None) -> object:
    s3 = client("s3", "us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    if acl is not None:
        s3.put_bucket_acl(Bucket=BUCKET, ACL=acl)
    if pab is not None:
        s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration=pab)
    return s3


def _refused(call, code: str, status: int) -> None:
    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


@pytest.mark.parametrize("name", sorted(_public_documents()))
def test_public_policy_is_refused_under_block_public_policy(aws, name):
    document = _public_documents()[name]
    assert s3_policy_is_public(json.loads(document))
    s3 = _bucket(pab={"BlockPublicPolicy": True})

    _refused(lambda: s3.put_bucket_policy(Bucket=BUCKET, Policy=document), "AccessDenied", 403)

    _refused(lambda: s3.get_bucket_policy(Bucket=BUCKET), "NoSuchBucketPolicy", 404)


@pytest.mark.parametrize("name", sorted(NOT_PUBLIC))
def test_non_public_policy_is_accepted_under_block_public_policy(aws, name):
    document = _doc(NOT_PUBLIC[name])
    assert not s3_policy_is_public(json.loads(document))
    s3 = _bucket(
        pab=dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)
    )

    s3.put_bucket_policy(Bucket=BUCKET, Policy=document)

    assert json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"]) == json.loads(document)


@pytest.mark.parametrize(
    "pab", [None, {"BlockPublicAcls": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}]
)
def test_public_policy_is_accepted_while_block_public_policy_is_off(aws, pab):
    s3 = _bucket(pab=pab)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_doc(_allow("*")))
    assert "Principal" in s3.get_bucket_policy(Bucket=BUCKET)["Policy"]


def test_existing_public_policy_stays_when_block_public_policy_is_turned_on(aws):
    """Enabling the setting does not affect existing policies: the responder meets such buckets."""
    s3 = _bucket()
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_doc(_allow("*")))
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == _doc(_allow("*"))
    _refused(
        lambda: s3.put_bucket_policy(Bucket=BUCKET, Policy=_doc(_allow("*"), DENY_ALL_BUT_ME)), "AccessDenied", 403
    )


def test_account_level_block_public_policy_refuses_public_policies_on_every_bucket(aws):
    s3 = _bucket()
    client("s3control", "us-east-1").put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration={"BlockPublicPolicy": True}
    )

    _refused(lambda: s3.put_bucket_policy(Bucket=BUCKET, Policy=_doc(_allow("*"))), "AccessDenied", 403)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=_doc(NOT_PUBLIC["fixed-vpc"]))  # non-public still accepted


@pytest.mark.parametrize("canned", ["public-read", "public-read-write", "authenticated-read"])
def test_public_canned_acl_is_refused_under_block_public_acls(aws, canned):
    s3 = _bucket(pab={"BlockPublicAcls": True})
    _refused(lambda: s3.put_bucket_acl(Bucket=BUCKET, ACL=canned), "AccessDenied", 403)
    assert [g["Grantee"].get("URI") for g in s3.get_bucket_acl(Bucket=BUCKET)["Grants"]] == [None]


@pytest.mark.parametrize("uri", [ALL_USERS, AUTHENTICATED_USERS])
def test_public_grant_is_refused_under_block_public_acls(aws, uri):
    s3 = _bucket(pab={"BlockPublicAcls": True})
    owner = s3.get_bucket_acl(Bucket=BUCKET)["Owner"]
    policy = {
        "Owner": {"ID": owner["ID"]},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": uri}, "Permission": "READ"},
        ],
    }
    _refused(lambda: s3.put_bucket_acl(Bucket=BUCKET, AccessControlPolicy=policy), "AccessDenied", 403)


@pytest.mark.parametrize("canned", ["private", "log-delivery-write"])
def test_non_public_acl_is_accepted_under_block_public_acls(aws, canned):
    s3 = _bucket(pab={"BlockPublicAcls": True})
    s3.put_bucket_acl(Bucket=BUCKET, ACL=canned)


def test_public_acl_is_accepted_while_block_public_acls_is_off(aws):
    s3 = _bucket(pab={"BlockPublicPolicy": True})
    s3.put_bucket_acl(Bucket=BUCKET, ACL="public-read")
    assert ALL_USERS in [g["Grantee"].get("URI") for g in s3.get_bucket_acl(Bucket=BUCKET)["Grants"]]


def test_create_bucket_with_a_public_acl_is_refused_under_account_block_public_acls(aws):
    s3 = client("s3", "us-east-1")
    client("s3control", "us-east-1").put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration={"BlockPublicAcls": True}
    )
    _refused(lambda: s3.create_bucket(Bucket=BUCKET, ACL="public-read"), "AccessDenied", 403)
    assert BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]  # refused, not half-created
    s3.create_bucket(Bucket=BUCKET, ACL="private")


@pytest.mark.parametrize("acl", ["public-read", "authenticated-read", "log-delivery-write"])
def test_bucket_owner_enforced_is_refused_while_the_acl_grants_outside_the_owner(aws, acl):
    s3 = _bucket(acl=acl)
    enforce = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}

    _refused(
        lambda: s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls=enforce),
        "InvalidBucketAclWithObjectOwnership",
        400,
    )
    # the other settings leave ACLs on and are accepted; resetting the ACL to private allows enforcing
    s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_bucket_acl(Bucket=BUCKET, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=BUCKET, OwnershipControls=enforce)
    assert s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"] == enforce["Rules"]


def test_acls_are_refused_while_bucket_owner_enforced(aws):
    s3 = _bucket()
    s3.put_bucket_ownership_controls(
        Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    _refused(lambda: s3.put_bucket_acl(Bucket=BUCKET, ACL="public-read"), "AccessControlListNotSupported", 400)
    s3.put_bucket_acl(Bucket=BUCKET, ACL="private")  # an owner-only ACL is still accepted


def test_create_bucket_enforcing_ownership_with_a_foreign_acl_is_refused(aws):
    s3 = client("s3", "us-east-1")
    _refused(
        lambda: s3.create_bucket(Bucket=BUCKET, ACL="public-read", ObjectOwnership="BucketOwnerEnforced"),
        "InvalidBucketAclWithObjectOwnership",
        400,
    )
    assert s3.list_buckets()["Buckets"] == []


def test_acl_is_read_back_one_grant_per_grantee_and_permission(aws):
    """GetBucketAcl lists one grant per grantee and permission: log-delivery-write is two grants."""
    s3 = _bucket(acl="log-delivery-write")
    grants = s3.get_bucket_acl(Bucket=BUCKET)["Grants"]
    log_delivery = "http://acs.amazonaws.com/groups/s3/LogDelivery"
    assert sorted(g["Permission"] for g in grants if g["Grantee"].get("URI") == log_delivery) == ["READ_ACP", "WRITE"]
