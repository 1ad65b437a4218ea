"""EC2, Auto Scaling and ELBv2 calls for instance containment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError

from responder.adapters.aws import error_code

MANAGED_TAG = "responder:managed"
PURPOSE_TAG = "responder:purpose"
INCIDENT_TAG = "responder:incident-id"
GROUP_NAMES = {"isolation": "responder-isolation", "transition": "responder-transition"}
# The transition group's rules, one range per authorization: AWS fails a whole Authorize call that
# repeats any rule the group already has (a new group already allows all egress to 0.0.0.0/0).
ALL_TRAFFIC_RANGES: dict[str, dict[str, Any]] = {
    "0.0.0.0/0": {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
    "::/0": {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
}


class InstanceNotFound(LookupError):
    pass


class TransitionRuleMissing(RuntimeError):
    """EC2 answered that a transition-group rule exists, but the group does not hold it."""


@dataclass(frozen=True)
class EniFacts:
    eni_id: str
    groups: tuple[str, ...]
    vpc_id: str | None
    attached: bool
    public_ip: str | None
    subnet_id: str | None


@dataclass(frozen=True)
class InstanceFacts:
    instance_id: str
    state: str
    instance_type: str | None
    vpc_id: str | None
    enis: tuple[EniFacts, ...]
    volumes: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)
    instance_profile_arn: str | None = None
    public_ip: str | None = None
    metadata_options: dict[str, Any] = field(default_factory=dict)  # DescribeInstances' MetadataOptions


@dataclass(frozen=True)
class ProfileAssociation:
    association_id: str
    profile_arn: str
    state: str


@dataclass(frozen=True)
class AsgFacts:
    name: str
    lifecycle_state: str
    desired_capacity: int
    min_size: int
    target_group_arns: tuple[str, ...]


class Ec2Gateway:
    def __init__(self, ec2: Any, autoscaling: Any, elbv2: Any) -> None:
        self.ec2 = ec2
        self.autoscaling = autoscaling
        self.elbv2 = elbv2

    # -- reads -----------------------------------------------------------------------------------
    def describe_instance(self, instance_id: str) -> InstanceFacts:
        try:
            resp = self.ec2.describe_instances(InstanceIds=[instance_id])
        except ClientError as exc:
            if error_code(exc) in ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"):
                raise InstanceNotFound(f"instance {instance_id} not found") from exc
            raise
        instances = [i for r in resp.get("Reservations", []) for i in r.get("Instances", [])]
        if not instances:
            raise InstanceNotFound(f"instance {instance_id} not found")
        inst = instances[0]
        enis = tuple(
            EniFacts(
                eni_id=e["NetworkInterfaceId"],
                groups=tuple(g["GroupId"] for g in e.get("Groups", [])),
                vpc_id=e.get("VpcId") or inst.get("VpcId"),
                attached=e.get("Attachment", {}).get("Status", "attached") in ("attached", "attaching"),
                public_ip=(e.get("Association") or {}).get("PublicIp"),
                subnet_id=e.get("SubnetId"),
            )
            for e in sorted(
                inst.get("NetworkInterfaces", []), key=lambda e: e.get("Attachment", {}).get("DeviceIndex", 0)
            )
        )
        volumes = tuple(
            m["Ebs"]["VolumeId"] for m in inst.get("BlockDeviceMappings", []) if "Ebs" in m and "VolumeId" in m["Ebs"]
        )
        return InstanceFacts(
            instance_id=inst["InstanceId"],
            state=inst.get("State", {}).get("Name", "unknown"),
            instance_type=inst.get("InstanceType"),
            vpc_id=inst.get("VpcId"),
            enis=enis,
            volumes=volumes,
            tags={t["Key"]: t.get("Value", "") for t in inst.get("Tags", [])},
            instance_profile_arn=(inst.get("IamInstanceProfile") or {}).get("Arn"),
            public_ip=inst.get("PublicIpAddress"),
            metadata_options=dict(inst.get("MetadataOptions") or {}),
        )

    def profile_associations(self, instance_id: str) -> list[ProfileAssociation]:
        """The instance's instance profile associations that are in effect or becoming so (associating,
        associated); disassociating and disassociated ones are left out.
        https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeIamInstanceProfileAssociations.html"""
        paginator = self.ec2.get_paginator("describe_iam_instance_profile_associations")
        pages = paginator.paginate(Filters=[{"Name": "instance-id", "Values": [instance_id]}])
        return [
            ProfileAssociation(str(a["AssociationId"]), str(a["IamInstanceProfile"]["Arn"]), str(a.get("State", "")))
            for page in pages
            for a in page.get("IamInstanceProfileAssociations", [])
            if a.get("InstanceId") == instance_id and a.get("State") in ("associating", "associated")
        ]

    def instance_flag(
        self, instance_id: str, attribute: Literal["disableApiTermination", "disableApiStop"]
    ) -> bool | None:
        """The instance attribute's value, or None where the attribute is not supported."""
        try:
            resp = self.ec2.describe_instance_attribute(InstanceId=instance_id, Attribute=attribute)
        except ClientError as exc:
            if attribute == "disableApiStop" and error_code(exc) in (
                "InvalidParameterValue",
                "UnsupportedOperation",
            ):
                return None
            raise
        key = attribute[0].upper() + attribute[1:]
        value = resp.get(key)
        if value is None:
            return None if attribute == "disableApiStop" else False
        return bool(value.get("Value", False))

    def eni_groups(self, eni_id: str) -> tuple[str, ...]:
        resp = self.ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])
        return tuple(g["GroupId"] for g in resp["NetworkInterfaces"][0].get("Groups", []))

    def asg_membership(self, instance_id: str) -> AsgFacts | None:
        resp = self.autoscaling.describe_auto_scaling_instances(InstanceIds=[instance_id])
        members = resp.get("AutoScalingInstances", [])
        if not members:
            return None
        name = members[0]["AutoScalingGroupName"]
        groups = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
        group = groups[0] if groups else {}
        return AsgFacts(
            name=name,
            lifecycle_state=members[0]["LifecycleState"],
            desired_capacity=int(group.get("DesiredCapacity", 0)),
            min_size=int(group.get("MinSize", 0)),
            target_group_arns=tuple(group.get("TargetGroupARNs", [])),
        )

    def target_groups_for(self, instance_id: str, vpc_id: str | None, limit: int = 50) -> tuple[list[str], bool]:
        """Target groups in the VPC with the instance registered. Bounded: (found, truncated)."""
        found: list[str] = []
        checked = 0
        paginator = self.elbv2.get_paginator("describe_target_groups")
        for page in paginator.paginate():
            for tg in page.get("TargetGroups", []):
                if tg.get("TargetType", "instance") != "instance" or (vpc_id and tg.get("VpcId") != vpc_id):
                    continue
                if checked >= limit:
                    return found, True
                checked += 1
                health = self.elbv2.describe_target_health(
                    TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": instance_id}]
                )
                for desc in health.get("TargetHealthDescriptions", []):
                    state = desc.get("TargetHealth", {}).get("State")
                    if desc.get("Target", {}).get("Id") == instance_id and state not in (None, "unused"):
                        found.append(tg["TargetGroupArn"])
                        break
        return found, False

    def snapshots_for(self, incident_id: str) -> dict[str, str]:
        """Evidence snapshots already taken for the incident: volume id -> snapshot id."""
        resp = self.ec2.describe_snapshots(
            OwnerIds=["self"], Filters=[{"Name": f"tag:{INCIDENT_TAG}", "Values": [incident_id]}]
        )
        return {s["VolumeId"]: s["SnapshotId"] for s in resp.get("Snapshots", [])}

    def group_rules(self, group_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        group = self.ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        return group.get("IpPermissions", []), group.get("IpPermissionsEgress", [])

    # -- writes ----------------------------------------------------------------------------------
    def set_eni_groups(self, eni_id: str, groups: list[str]) -> None:
        self.ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=groups)

    def set_instance_flag(
        self, instance_id: str, attribute: Literal["disableApiTermination", "disableApiStop"], value: bool
    ) -> None:
        key = "DisableApiTermination" if attribute == "disableApiTermination" else "DisableApiStop"
        self.ec2.modify_instance_attribute(InstanceId=instance_id, **{key: {"Value": value}})

    def set_metadata_options(self, instance_id: str, options: dict[str, Any]) -> None:
        """ModifyInstanceMetadataOptions with the given parameters (HttpEndpoint, HttpTokens,
        HttpPutResponseHopLimit, HttpProtocolIpv6, InstanceMetadataTags).
        https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceMetadataOptions.html"""
        self.ec2.modify_instance_metadata_options(InstanceId=instance_id, **options)

    def disassociate_profile(self, association_id: str) -> None:
        """https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisassociateIamInstanceProfile.html"""
        self.ec2.disassociate_iam_instance_profile(AssociationId=association_id)

    def associate_profile(self, instance_id: str, profile_arn: str) -> None:
        """Needs iam:PassRole on the profile's role as well as ec2:AssociateIamInstanceProfile.
        https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateIamInstanceProfile.html"""
        self.ec2.associate_iam_instance_profile(InstanceId=instance_id, IamInstanceProfile={"Arn": profile_arn})

    def enter_standby(self, asg_name: str, instance_id: str, decrement: bool) -> None:
        self.autoscaling.enter_standby(
            AutoScalingGroupName=asg_name, InstanceIds=[instance_id], ShouldDecrementDesiredCapacity=decrement
        )

    def exit_standby(self, asg_name: str, instance_id: str) -> None:
        self.autoscaling.exit_standby(AutoScalingGroupName=asg_name, InstanceIds=[instance_id])

    def create_snapshot(self, volume_id: str, incident_id: str, instance_id: str) -> str:
        resp = self.ec2.create_snapshot(
            VolumeId=volume_id,
            Description=f"Evidence for containment incident {incident_id} ({instance_id})",
            TagSpecifications=[
                {
                    "ResourceType": "snapshot",
                    "Tags": [
                        {"Key": MANAGED_TAG, "Value": "true"},
                        {"Key": INCIDENT_TAG, "Value": incident_id},
                        {"Key": "responder:instance-id", "Value": instance_id},
                    ],
                }
            ],
        )
        return str(resp["SnapshotId"])

    def ensure_group(self, vpc_id: str, purpose: Literal["isolation", "transition"]) -> str:
        """The responder's group of this purpose in the VPC: found by the responder's tags and its content,
        never by its name; else created.

        The isolation group has no rules in or out; the transition group allows all traffic both ways
        (which makes existing flows untracked, so the swap to the isolation group cuts them).

        Anyone who may create groups can take the name or copy the tags (ec2:CreateTags), so a group is used
        only when its tags say responder:managed=true with this purpose, it is in this VPC, and its rules are
        the responder's: for the isolation group none at all, for the transition group nothing but
        all-traffic rules to 0.0.0.0/0 and ::/0 (a missing one of these is added). A tagged group with any
        other rule is never repaired and never used (its rules are not the responder's, so neither may be
        anything else about it): a fresh group is created. When the usual name is taken (by the owner's
        group or such a rejected one), the fresh group gets the name with a unique suffix, so a planted name
        never blocks containment.
        """
        found = self._find_group(vpc_id, purpose)
        if found is None:
            group_id = self._create_group(vpc_id, purpose)
            # A new VPC security group has no inbound rules and the default allow-all outbound rule.
            ingress: list[dict[str, Any]] = []
            egress: list[dict[str, Any]] = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        else:
            group_id, ingress, egress = found
        self._enforce_rules(group_id, purpose, ingress, egress)
        return group_id

    def managed_groups(self, group_ids: set[str]) -> set[str]:
        """Those of the groups the responder manages (tagged by it), whether or not an incident recorded
        them: after a crash mid-containment the group is on the ENI but in no incident's artifacts."""
        if not group_ids:
            return set()
        resp = self.ec2.describe_security_groups(GroupIds=sorted(group_ids))
        return {
            str(g["GroupId"])
            for g in resp.get("SecurityGroups", [])
            if any(t["Key"] == MANAGED_TAG and t.get("Value") == "true" for t in g.get("Tags", []))
        }

    def _find_group(self, vpc_id: str, purpose: str) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]] | None:
        """A usable group of the responder's (see ensure_group) and its rules: the one under the usual name
        first, else the lowest id. The rules come with the description: one call."""
        paginator = self.ec2.get_paginator("describe_security_groups")
        pages = paginator.paginate(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": f"tag:{MANAGED_TAG}", "Values": ["true"]},
                {"Name": f"tag:{PURPOSE_TAG}", "Values": [purpose]},
            ]
        )
        usable = [
            group
            for page in pages
            for group in page.get("SecurityGroups", [])
            if _is_responders(group, vpc_id, purpose)
        ]
        if not usable:
            return None
        group = min(usable, key=lambda g: (g.get("GroupName") != GROUP_NAMES[purpose], str(g["GroupId"])))
        return str(group["GroupId"]), group.get("IpPermissions", []), group.get("IpPermissionsEgress", [])

    def _create_group(self, vpc_id: str, purpose: str) -> str:
        """A new group under the usual name, or, where that is taken, under the name with a unique suffix."""
        name = GROUP_NAMES[purpose]
        for _ in range(3):
            try:
                resp = self.ec2.create_security_group(
                    GroupName=name,
                    Description=f"containment responder {purpose} group (managed, do not edit)",
                    VpcId=vpc_id,
                    TagSpecifications=[
                        {
                            "ResourceType": "security-group",
                            "Tags": [
                                {"Key": MANAGED_TAG, "Value": "true"},
                                {"Key": PURPOSE_TAG, "Value": purpose},
                            ],
                        }
                    ],
                )
            except ClientError as exc:
                if error_code(exc) != "InvalidGroup.Duplicate":
                    raise
                # Taken: by the owner's group, a rejected one, or another incident's just now; the suffix
                # makes the name unique, and the tags (not the name) are how the group is found again.
                name = f"{GROUP_NAMES[purpose]}-{uuid.uuid4().hex[:12]}"
                continue
            return str(resp["GroupId"])
        raise RuntimeError(f"could not create a {purpose} group in {vpc_id}: every name tried was taken")

    def _enforce_rules(
        self, group_id: str, purpose: str, ingress: list[dict[str, Any]], egress: list[dict[str, Any]]
    ) -> None:
        if purpose == "isolation":
            if ingress:
                self.ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=_strip(ingress))
            if egress:
                self.ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=_strip(egress))
            return
        directions: list[tuple[Literal["ingress", "egress"], list[dict[str, Any]], Any]] = [
            ("ingress", ingress, self.ec2.authorize_security_group_ingress),
            ("egress", egress, self.ec2.authorize_security_group_egress),
        ]
        for direction, current, call in directions:
            for cidr in sorted(ALL_TRAFFIC_RANGES.keys() - _all_traffic_ranges(current)):
                self._authorize(call, group_id, direction, cidr)

    def _authorize(self, call: Any, group_id: str, direction: Literal["ingress", "egress"], cidr: str) -> None:
        """Authorize all traffic for one range. A Duplicate answer is believed only when the group,
        read back, holds the rule (another incident added it meanwhile); any other error fails."""
        try:
            call(GroupId=group_id, IpPermissions=[ALL_TRAFFIC_RANGES[cidr]])
            return
        except ClientError as exc:
            if error_code(exc) != "InvalidPermission.Duplicate":
                raise
        ingress, egress = self.group_rules(group_id)
        if cidr not in _all_traffic_ranges(ingress if direction == "ingress" else egress):
            raise TransitionRuleMissing(
                f"EC2 answered that {group_id} already allows all {direction} to {cidr}, but the group read back "
                "does not hold that rule"
            )


def _is_responders(group: dict[str, Any], vpc_id: str, purpose: str) -> bool:
    """Whether the group, as described, is one the responder may use as its group of this purpose."""
    tags = {t["Key"]: t.get("Value") for t in group.get("Tags", [])}
    if tags.get(MANAGED_TAG) != "true" or tags.get(PURPOSE_TAG) != purpose or group.get("VpcId") != vpc_id:
        return False
    rules = [*group.get("IpPermissions", []), *group.get("IpPermissionsEgress", [])]
    if purpose == "isolation":
        return not rules
    return all(_is_transition_rule(rule) for rule in rules)


def _is_transition_rule(rule: dict[str, Any]) -> bool:
    """An all-protocols rule to 0.0.0.0/0 and/or ::/0 and nothing else (no ports, groups or prefix lists)."""
    if rule.get("IpProtocol") != "-1" or rule.get("UserIdGroupPairs") or rule.get("PrefixListIds"):
        return False
    v4 = [r.get("CidrIp") for r in rule.get("IpRanges", [])]
    v6 = [r.get("CidrIpv6") for r in rule.get("Ipv6Ranges", [])]
    return bool(v4 or v6) and set(v4) <= {"0.0.0.0/0"} and set(v6) <= {"::/0"}


def _all_traffic_ranges(perms: list[dict[str, Any]]) -> set[str]:
    """The ranges that an all-protocols rule allows, IPv4 and IPv6."""
    ranges: set[str] = set()
    for p in perms:
        if p.get("IpProtocol") == "-1":
            ranges |= {r["CidrIp"] for r in p.get("IpRanges", []) if "CidrIp" in r}
            ranges |= {r["CidrIpv6"] for r in p.get("Ipv6Ranges", []) if "CidrIpv6" in r}
    return ranges


def _strip(perms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keep = ("IpProtocol", "FromPort", "ToPort", "IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs")
    return [{k: v for k, v in p.items() if k in keep and v not in (None, [])} for p in perms]
