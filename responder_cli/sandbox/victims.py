"""Realistic victims for `responder sandbox victim` and the tests: instances, groups, users, buckets."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

AMI = "ami-12c6146b"  # one of moto's built-in images


@dataclass
class Victim:
    instance_id: str
    vpc_id: str
    subnet_id: str
    enis: list[str]
    groups: dict[str, list[str]]
    asg_name: str | None = None
    volumes: list[str] = field(default_factory=list)


def make_vpc(ec2: Any) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    zone = f"{ec2.meta.region_name}a"
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
    return vpc, subnet


def make_groups(ec2: Any, vpc: str, prefix: str, count: int) -> list[str]:
    out = []
    for i in range(count):
        name = f"{prefix}-{i}-{uuid.uuid4().hex[:6]}"
        gid = ec2.create_security_group(GroupName=name, Description=f"{prefix} {i}", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=gid,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
        out.append(gid)
    return out


def make_instance(
    ec2: Any,
    *,
    enis: int = 1,
    groups_per_eni: int = 2,
    termination_protection: bool = False,
    tags: dict[str, str] | None = None,
    vpc: tuple[str, str] | None = None,
    instance_profile: str | None = None,
) -> Victim:
    """An instance in a VPC with `enis` interfaces; `instance_profile` (an ARN) associates that profile."""
    vpc_id, subnet = vpc or make_vpc(ec2)
    primary_groups = make_groups(ec2, vpc_id, "web", groups_per_eni)
    spec: dict[str, Any] = {
        "ImageId": AMI,
        "InstanceType": "t3.micro",
        "MinCount": 1,
        "MaxCount": 1,
        "NetworkInterfaces": [{"DeviceIndex": 0, "SubnetId": subnet, "Groups": primary_groups}],
        "DisableApiTermination": termination_protection,
        "BlockDeviceMappings": [{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8}}],
    }
    if instance_profile:
        spec["IamInstanceProfile"] = {"Arn": instance_profile}
    if tags:
        spec["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    inst = ec2.run_instances(**spec)["Instances"][0]
    iid = inst["InstanceId"]
    eni_ids = [inst["NetworkInterfaces"][0]["NetworkInterfaceId"]]
    groups = {eni_ids[0]: sorted(primary_groups)}
    for index in range(1, enis):
        gids = make_groups(ec2, vpc_id, f"app{index}", groups_per_eni)
        eni = ec2.create_network_interface(SubnetId=subnet, Groups=gids)["NetworkInterface"]["NetworkInterfaceId"]
        ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=iid, DeviceIndex=index)
        eni_ids.append(eni)
        groups[eni] = sorted(gids)
    described = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    volumes = [m["Ebs"]["VolumeId"] for m in described.get("BlockDeviceMappings", []) if "Ebs" in m]
    return Victim(iid, vpc_id, subnet, eni_ids, groups, volumes=volumes)


def make_instance_profile(iam: Any, name: str = "web-app", *, path: str = "/app/") -> tuple[str, str]:
    """An instance profile holding a role of the same name, both under `path`: (profile ARN, role name)."""
    trust = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    )
    iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=trust)
    profile = iam.create_instance_profile(InstanceProfileName=name, Path=path)["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return str(profile), name


def make_asg_instance(ec2: Any, autoscaling: Any, *, desired: int = 2, min_size: int = 1) -> Victim:
    vpc_id, subnet = make_vpc(ec2)
    groups = make_groups(ec2, vpc_id, "asg", 2)
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="victim-lc", ImageId=AMI, InstanceType="t3.micro", SecurityGroups=groups
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="victim-asg",
        LaunchConfigurationName="victim-lc",
        MinSize=min_size,
        MaxSize=4,
        DesiredCapacity=desired,
        VPCZoneIdentifier=subnet,
    )
    iid = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["victim-asg"])["AutoScalingGroups"][0][
        "Instances"
    ][0]["InstanceId"]
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    eni_ids = [e["NetworkInterfaceId"] for e in inst["NetworkInterfaces"]]
    return Victim(
        iid,
        vpc_id,
        subnet,
        eni_ids,
        {e["NetworkInterfaceId"]: sorted(g["GroupId"] for g in e["Groups"]) for e in inst["NetworkInterfaces"]},
        asg_name="victim-asg",
    )


def eni_groups(ec2: Any, eni: str) -> list[str]:
    """The ENI's groups, sorted (a set in EC2; the order of the answer is not meaningful)."""
    return sorted(
        g["GroupId"]
        for g in ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["Groups"]
    )


@dataclass
class UserVictim:
    user_name: str
    access_key_id: str
    policy_name: str


def make_iam_user(iam: Any, name: str | None = None) -> UserVictim:
    """An IAM user with an active access key and an inline policy (what a deploy user typically holds)."""
    user = name or f"app-deployer-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user, Tags=[{"Key": "team", "Value": "platform"}])
    policy = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::artifacts-*/*"}]}'
    )
    iam.put_user_policy(UserName=user, PolicyName="deploy-artifacts", PolicyDocument=policy)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    return UserVictim(user, str(key), "deploy-artifacts")


def make_bucket(s3: Any, account: str, name: str | None = None) -> str:
    """A bucket with a policy letting one role of the account read it (not public)."""
    bucket = name or f"victim-data-{uuid.uuid4().hex[:8]}"
    region = s3.meta.region_name
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReportsRead",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_object(Bucket=bucket, Key="reports/2026-11.csv", Body=b"month,total\n2026-11,42\n")
    return bucket
