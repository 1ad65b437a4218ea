"""The emulator refuses what AWS refuses: EC2 rule authorizations, IAM inline-policy sizes, DynamoDB item size.

Each test shows moto (with the fidelity patches) answering as AWS does, so a responder change that relies
on the lenient behaviour fails here and in the responder's own tests.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from responder.adapters.aws import client

ALL_V4 = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
ALL_V6 = {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}


def _group(ec2, ipv6: bool = False) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    if ipv6:
        ec2.associate_vpc_cidr_block(VpcId=vpc, AmazonProvidedIpv6CidrBlock=True)
    return vpc, ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc)["GroupId"]


def _egress(ec2, group: str) -> list[dict]:
    return ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissionsEgress"]


def _ranges(perms: list[dict]) -> set[str]:
    return {r["CidrIp"] for p in perms for r in p.get("IpRanges", [])} | {
        r["CidrIpv6"] for p in perms for r in p.get("Ipv6Ranges", [])
    }


# -- EC2 --------------------------------------------------------------------------------------------
def test_new_group_in_a_dual_stack_vpc_has_only_the_ipv4_egress_rule(aws):
    """A new (non-default) group's one outbound rule is 0.0.0.0/0; IPv6 egress must be authorized."""
    ec2 = client("ec2", "us-east-1")
    _, group = _group(ec2, ipv6=True)
    assert _ranges(_egress(ec2, group)) == {"0.0.0.0/0"}


@pytest.mark.parametrize(
    "permissions",
    [
        [{**ALL_V4, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}],  # the existing range first
        [{"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}], "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        [ALL_V6, ALL_V4],  # the existing rule in a later permission
    ],
)
def test_egress_authorization_repeating_a_rule_fails_whole_and_adds_nothing(aws, permissions):
    ec2 = client("ec2", "us-east-1")
    _, group = _group(ec2, ipv6=True)
    before = _egress(ec2, group)

    with pytest.raises(ClientError) as err:
        ec2.authorize_security_group_egress(GroupId=group, IpPermissions=permissions)

    assert err.value.response["Error"]["Code"] == "InvalidPermission.Duplicate"
    assert _egress(ec2, group) == before


def test_ingress_authorization_repeating_a_rule_fails_whole_and_adds_nothing(aws):
    ec2 = client("ec2", "us-east-1")
    _, group = _group(ec2)
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[ALL_V4])

    with pytest.raises(ClientError) as err:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[ALL_V6, ALL_V4])

    assert err.value.response["Error"]["Code"] == "InvalidPermission.Duplicate"
    ingress = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    assert _ranges(ingress) == {"0.0.0.0/0"}


def test_authorizing_each_range_on_its_own_succeeds(aws):
    ec2 = client("ec2", "us-east-1")
    _, group = _group(ec2, ipv6=True)
    ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[ALL_V6])
    assert _ranges(_egress(ec2, group)) == {"0.0.0.0/0", "::/0"}


# -- DynamoDB ---------------------------------------------------------------------------------------
# 400 KB, attribute names and values included.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items
ITEM_LIMIT = 400 * 1024


def _table(ddb) -> str:
    ddb.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return "items"


def test_put_item_over_400_kb_is_refused(aws):
    ddb = client("dynamodb", "us-east-1")
    table = _table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "small"}, "doc": {"S": "x" * 300_000}})

    with pytest.raises(ClientError) as err:
        ddb.put_item(TableName=table, Item={"pk": {"S": "big"}, "doc": {"S": "x" * ITEM_LIMIT}})

    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "Item size has exceeded the maximum allowed size" in err.value.response["Error"]["Message"]
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "big"}})


def test_update_item_growing_past_400_kb_is_refused_and_leaves_the_item(aws):
    ddb = client("dynamodb", "us-east-1")
    table = _table(ddb)
    ddb.put_item(TableName=table, Item={"pk": {"S": "inc"}, "doc": {"S": "x" * 300_000}})

    with pytest.raises(ClientError) as err:
        ddb.update_item(
            TableName=table,
            Key={"pk": {"S": "inc"}},
            UpdateExpression="SET more = :m",
            ExpressionAttributeValues={":m": {"S": "y" * 150_000}},
        )

    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "exceeded the maximum allowed size" in err.value.response["Error"]["Message"]
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "inc"}})["Item"]
    assert set(item) == {"pk", "doc"}


def test_transaction_putting_an_item_over_400_kb_is_refused(aws):
    ddb = client("dynamodb", "us-east-1")
    table = _table(ddb)
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": {"pk": {"S": "t"}, "doc": {"S": "x" * ITEM_LIMIT}}}}]
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"


# -- WAF --------------------------------------------------------------------------------------------
def test_update_ip_set_without_a_description_clears_it(aws):
    wafv2 = client("wafv2", "us-east-1")
    summary = wafv2.create_ip_set(
        Name="s", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[], Description="SOC blocklist"
    )["Summary"]
    token = wafv2.get_ip_set(Name="s", Scope="REGIONAL", Id=summary["Id"])["LockToken"]

    wafv2.update_ip_set(Name="s", Scope="REGIONAL", Id=summary["Id"], Addresses=["192.0.2.1/32"], LockToken=token)

    assert not wafv2.get_ip_set(Name="s", Scope="REGIONAL", Id=summary["Id"])["IPSet"].get("Description")


# -- IAM --------------------------------------------------------------------------------------------
def _policy(characters: int) -> str:
    """A valid policy document of exactly `characters` non-whitespace characters (padded in the Sid)."""
    base = {"Version": "2012-10-17", "Statement": [{"Sid": "", "Effect": "Deny", "Action": "*", "Resource": "*"}]}
    empty = len(json.dumps(base, separators=(",", ":")))
    base["Statement"][0]["Sid"] = "P" * (characters - empty)
    document = json.dumps(base, indent=2)  # whitespace does not count
    assert sum(1 for ch in document if not ch.isspace()) == characters
    return document


@pytest.mark.parametrize(("kind", "limit"), [("user", 2048), ("role", 10240)])
def test_inline_policies_past_the_principals_total_are_refused(aws, kind, limit):
    iam = client("iam", "us-east-1")
    if kind == "user":
        iam.create_user(UserName="p")
        put = lambda name, doc: iam.put_user_policy(UserName="p", PolicyName=name, PolicyDocument=doc)  # noqa: E731
    else:
        iam.create_role(RoleName="p", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
        put = lambda name, doc: iam.put_role_policy(RoleName="p", PolicyName=name, PolicyDocument=doc)  # noqa: E731
    put("first", _policy(limit - 200))
    put("second", _policy(200))  # exactly the total: allowed
    put("second", _policy(150))  # replacing a policy counts its new size only

    with pytest.raises(ClientError) as err:
        put("third", _policy(100))

    assert err.value.response["Error"]["Code"] == "LimitExceeded"
    assert str(limit) in err.value.response["Error"]["Message"]
    listed = iam.list_user_policies(UserName="p") if kind == "user" else iam.list_role_policies(RoleName="p")
    assert sorted(listed["PolicyNames"]) == ["first", "second"]


# -- SNS --------------------------------------------------------------------------------------------
# Publish: "Subjects must be ASCII text that begins with a letter, number, or punctuation mark; must not
# include line breaks or control characters; and must be less than 100 characters long."
# https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
@pytest.mark.parametrize(
    "subject",
    ["[CONTAINED] caf\u00e9-bucket", "[CONTAINED] \u6771\u4eac", "line\nbreak", "tab\there", " leading space"],
    ids=["latin-1", "cjk", "newline", "control", "leading-space"],
)
def test_publish_refuses_a_subject_aws_refuses(aws, subject):
    sns = client("sns", "us-east-1")
    topic = sns.create_topic(Name="t")["TopicArn"]
    with pytest.raises(ClientError) as err:
        sns.publish(TopicArn=topic, Subject=subject, Message="m")
    assert err.value.response["Error"]["Code"] == "InvalidParameter"


def test_publish_accepts_an_ascii_subject(aws):
    sns = client("sns", "us-east-1")
    topic = sns.create_topic(Name="t")["TopicArn"]
    assert sns.publish(TopicArn=topic, Subject="[CONTAINED] i-0abc (caf\\u00e9)", Message="m")["MessageId"]


def test_the_notifier_sends_any_subject_as_ascii_aws_accepts(aws):
    from responder.adapters.messaging import Notifier

    sns = client("sns", "us-east-1")
    topic = sns.create_topic(Name="t")["TopicArn"]
    notifier = Notifier(topic, sns)
    assert notifier.send("[CONTAINED] caf\u00e9-\u6771\u4eac \u202e\tx", "body")
    assert notifier.send("\u00e9" * 300, "body")
