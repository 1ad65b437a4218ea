"""One realistic victim of each resource kind, planned and recorded, ready to contain.

Every scenario carries every action its kind has: an instance with two ENIs; a user with two keys, a
managed and an inline policy, and a WAF block of the caller's address; a role with deny-all; a public
bucket (its own statements, one of them a public Allow, a public-read ACL, Block Public Access off and
object ownership set).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from responder.adapters.aws import client
from responder.models.common import ResourceType
from responder.models.incident import Incident
from tests.support import kinds as k
from tests.support import victims

ALLOW = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)
ATTACKER_IP = "198.51.100.23"


def _waf_ip_set() -> str:
    wafv2 = client("wafv2", k.REGION)
    return wafv2.create_ip_set(Name="blocklist", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[])["Summary"][
        "ARN"
    ]


def ec2_instance() -> Incident:
    victim = victims.make_instance(client("ec2", k.REGION), enis=2, groups_per_eni=2)
    return k.plan_and_record(k.incident(ResourceType.EC2_INSTANCE, victim.instance_id), k.decision())


def ec2_instance_credentials() -> Incident:
    """An instance with an instance profile, contained with every credential step on."""
    profile, _role = victims.make_instance_profile(client("iam"))
    victim = victims.make_instance(client("ec2", k.REGION), enis=1, groups_per_eni=1, instance_profile=profile)
    return k.plan_and_record(
        k.incident(ResourceType.EC2_INSTANCE, victim.instance_id),
        k.decision(ec2={"snapshot": False, "disable_imds": True, "detach_instance_profile": True}),
    )


def iam_user() -> Incident:
    iam = client("iam")
    k.create_deny_all_policy(iam)
    iam.create_user(UserName="build-bot")
    keys = [iam.create_access_key(UserName="build-bot")["AccessKey"]["AccessKeyId"] for _ in range(2)]
    arn = iam.create_policy(PolicyName="build-bot-read", PolicyDocument=ALLOW)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="build-bot", PolicyArn=arn)
    iam.put_user_policy(UserName="build-bot", PolicyName="inline-read", PolicyDocument=ALLOW)
    return k.plan_and_record(
        k.incident(ResourceType.IAM_USER, "build-bot", access_key=keys[0], remote_ip=ATTACKER_IP),
        k.decision(iam_user={"deactivate_keys": "all"}, waf_ip_set_arn=_waf_ip_set()),
    )


def iam_role() -> Incident:
    iam = client("iam")
    k.create_deny_all_policy(iam)
    iam.create_role(
        RoleName="app-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    iam.put_role_policy(RoleName="app-role", PolicyName="app", PolicyDocument=ALLOW)
    return k.plan_and_record(k.incident(ResourceType.IAM_ROLE, "app-role"), k.decision(iam_role={"deny_all": True}))


def s3_bucket() -> Incident:
    s3 = client("s3", k.REGION)
    s3.create_bucket(Bucket="data-lake", ACL="public-read")
    statements = [
        {"Sid": f"Reader{i}", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{k.ACCOUNT}:root"},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data-lake/*"}
        for i in range(2)
    ] + [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
          "Resource": "arn:aws:s3:::data-lake/public/*"}]  # fmt: skip
    s3.put_bucket_policy(Bucket="data-lake", Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    s3.put_public_access_block(
        Bucket="data-lake",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket="data-lake", OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    )
    return k.plan_and_record(k.incident(ResourceType.S3_BUCKET, "data-lake"), k.decision())


SCENARIOS: dict[str, Callable[[], Incident]] = {
    "ec2_instance": ec2_instance,
    "ec2_instance_credentials": ec2_instance_credentials,
    "iam_user": iam_user,
    "iam_role": iam_role,
    "s3_bucket": s3_bucket,
}
