"""The emulator refuses what AWS refuses: EC2 rule authorizations, IAM inline-policy sizes, DynamoDB item size.

Each test shows moto (with the fidelity patches) answering as AWS does, so a responder change that relies
on the lenient behaviour fails here and in the responder's own tests.
"""

from __future__ import annotations

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
