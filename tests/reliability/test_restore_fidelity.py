"""restore(contain(x)) == x on every recorded attribute, over random configurations of every kind.

Each example builds a fresh moto world holding one resource in a random configuration, contains it with
random preference options, verifies the containment, restores it with every option on, and compares the
resource's full recorded state with its pre-state. CI runs 500 examples; HYPOTHESIS_PROFILE=nightly runs
5,000 (FIDELITY_EXAMPLES overrides both).
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from responder.adapters.aws import client, reset_clients
from responder.models.common import ResourceType
from responder.models.incident import RestoreOptions
from tests.support import kinds as k
from tests.support import victims

FULL = RestoreOptions(reactivate_keys=True, lift_session_revocation=True)
FIDELITY_EXAMPLES = int(
    os.environ.get("FIDELITY_EXAMPLES", 5000 if os.environ.get("HYPOTHESIS_PROFILE") == "nightly" else 500)
)
ALLOW = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)
PAB_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _ec2(config: dict[str, Any]) -> tuple[ResourceType, str, dict[str, Any], dict[str, Any]]:
    ec2 = client("ec2", k.REGION)
    profile = victims.make_instance_profile(client("iam"))[0] if config["instance_profile"] else None
    victim = victims.make_instance(
        ec2,
        enis=config["enis"],
        groups_per_eni=config["groups"],
        termination_protection=config["termination_protection"],
        tags=config["tags"],
        instance_profile=profile,
    )
    if config["stop_protection"]:
        ec2.modify_instance_attribute(InstanceId=victim.instance_id, DisableApiStop={"Value": True})
    return ResourceType.EC2_INSTANCE, victim.instance_id, {"ec2": config["options"]}, {}


def _user(config: dict[str, Any]) -> tuple[ResourceType, str, dict[str, Any], dict[str, Any]]:
    iam = client("iam")
    iam.create_user(UserName="prop-user")
    ids = []
    for status in config["keys"]:
        key = iam.create_access_key(UserName="prop-user")["AccessKey"]["AccessKeyId"]
        iam.update_access_key(UserName="prop-user", AccessKeyId=key, Status=status)
        ids.append(key)
    for i in range(config["attached"]):
        arn = iam.create_policy(PolicyName=f"prop-managed-{i}", PolicyDocument=ALLOW)["Policy"]["Arn"]
        iam.attach_user_policy(UserName="prop-user", PolicyArn=arn)
    for i in range(config["inline"]):
        iam.put_user_policy(UserName="prop-user", PolicyName=f"inline-{i}", PolicyDocument=ALLOW)
    return ResourceType.IAM_USER, "prop-user", {"iam_user": config["options"]}, {"access_key": ids[0] if ids else None}


def _role(config: dict[str, Any]) -> tuple[ResourceType, str, dict[str, Any], dict[str, Any]]:
    iam = client("iam")
    iam.create_role(
        RoleName="prop-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    for i in range(config["inline"]):
        iam.put_role_policy(RoleName="prop-role", PolicyName=f"inline-{i}", PolicyDocument=ALLOW)
    for i in range(config["attached"]):
        arn = iam.create_policy(PolicyName=f"prop-role-managed-{i}", PolicyDocument=ALLOW)["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="prop-role", PolicyArn=arn)
    return ResourceType.IAM_ROLE, "prop-role", {"iam_role": config["options"]}, {}


def _bucket(config: dict[str, Any]) -> tuple[ResourceType, str, dict[str, Any], dict[str, Any]]:
    s3 = client("s3", k.REGION)
    s3.create_bucket(Bucket="prop-bucket")
    if config["ownership"] != "BucketOwnerEnforced":  # S3 refuses other grants once ACLs are off
        s3.put_bucket_acl(Bucket="prop-bucket", ACL=config["acl"])
    statements = [
        {"Sid": f"Reader{i}", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{k.ACCOUNT}:role/reader-{i}"},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::prop-bucket/*"}
        for i in range(config["statements"])
    ]  # fmt: skip
    if config["public_statement"]:
        statements.append(
            {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::prop-bucket/*"}
        )  # fmt: skip
    if statements:
        s3.put_bucket_policy(
            Bucket="prop-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
        )
    if config["pab"] is not None:
        s3.put_public_access_block(Bucket="prop-bucket", PublicAccessBlockConfiguration=config["pab"])
    if config["ownership"] is not None:
        s3.put_bucket_ownership_controls(
            Bucket="prop-bucket", OwnershipControls={"Rules": [{"ObjectOwnership": config["ownership"]}]}
        )
    return ResourceType.S3_BUCKET, "prop-bucket", {"s3": config["options"]}, {}


ec2_configs = st.fixed_dictionaries(
    {
        "enis": st.integers(1, 3),
        "groups": st.integers(1, 3),
        "termination_protection": st.booleans(),
        "stop_protection": st.booleans(),
        "tags": st.dictionaries(st.sampled_from(["Name", "team", "env"]), st.text("abcxyz-", max_size=8), max_size=2),
        "instance_profile": st.booleans(),
        "options": st.fixed_dictionaries(
            {
                "isolation_mode": st.sampled_from(["two_step", "direct"]),
                "snapshot": st.booleans(),
                "termination_protection": st.booleans(),
                "revoke_role_sessions": st.booleans(),
                "disable_imds": st.booleans(),
                "detach_instance_profile": st.booleans(),
            }
        ),
    }
).map(lambda c: ("ec2", c))
user_configs = st.fixed_dictionaries(
    {
        "keys": st.lists(st.sampled_from(["Active", "Inactive"]), max_size=2),
        "attached": st.integers(0, 10),
        "inline": st.integers(0, 2),
        "options": st.fixed_dictionaries(
            {
                "deactivate_keys": st.sampled_from(["finding", "all", "none"]),
                "deny_all": st.booleans(),
                "revoke_sessions": st.booleans(),
            }
        ),
    }
).map(lambda c: ("user", c))
role_configs = st.fixed_dictionaries(
    {
        "inline": st.integers(0, 2),
        "attached": st.integers(0, 10),
        "options": st.fixed_dictionaries({"deny_all": st.booleans(), "revoke_sessions": st.booleans()}),
    }
).map(lambda c: ("role", c))
bucket_configs = st.fixed_dictionaries(
    {
        "statements": st.integers(0, 4),
        "public_statement": st.booleans(),
        "acl": st.sampled_from(
            ["private", "public-read", "public-read-write", "authenticated-read", "log-delivery-write"]
        ),
        "pab": st.one_of(st.none(), st.fixed_dictionaries(dict.fromkeys(PAB_KEYS, st.booleans()))),
        "ownership": st.sampled_from([None, "BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"]),
        "options": st.fixed_dictionaries(
            {"block_public_access": st.booleans(), "deny_policy": st.booleans(), "disable_acls": st.booleans()}
        ),
    }
).map(lambda c: ("bucket", c))
BUILDERS = {"ec2": _ec2, "user": _user, "role": _role, "bucket": _bucket}


@settings(max_examples=FIDELITY_EXAMPLES)
@given(case=st.one_of(ec2_configs, user_configs, role_configs, bucket_configs))
def test_restore_of_contain_is_identity_for_every_kind(case):
    kind, config = case
    reset_clients()
    with mock_aws():
        k.create_deny_all_policy(client("iam"))
        resource_type, ident, actions, extra = BUILDERS[kind](config)
        inc = k.plan_and_record(k.incident(resource_type, ident, **extra), k.decision(**actions))
        before = inc.pre_state
        k.contain(inc)
        assert k.verify(inc) == []
        k.restore(inc, FULL)
        assert k.verify_restored(inc, FULL) == []
        assert k.current(inc) == before
    reset_clients()
