"""Realistic GuardDuty finding events, ready for `responder findings send`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

SUPPORTED = {
    "UnauthorizedAccess:EC2/SSHBruteForce": (
        "Instance",
        2.0,
        "198.51.100.23 is performing SSH brute force attacks against {id}.",
        "networkConnectionAction",
    ),
    "Backdoor:EC2/C&CActivity.B": (
        "Instance",
        8.0,
        "EC2 instance {id} is querying an IP that is associated with a known command and control server.",
        "networkConnectionAction",
    ),
    "CryptoCurrency:EC2/BitcoinTool.B!DNS": (
        "Instance",
        8.0,
        "EC2 instance {id} is querying a domain name that is associated with Bitcoin-related activity.",
        "dnsRequestAction",
    ),
    "Trojan:EC2/DropPoint": (
        "Instance",
        5.0,
        "EC2 instance {id} is attempting to communicate with a drop point.",
        "networkConnectionAction",
    ),
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ec2_finding(
    finding_type: str,
    *,
    instance_id: str,
    account: str = "123456789012",
    region: str = "us-east-1",
    severity: float | None = None,
    finding_id: str | None = None,
    enis: list[dict[str, Any]] | None = None,
    count: int = 1,
    remote_ip: str = "198.51.100.23",
    sample: bool = False,
    archived: bool = False,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A whole EventBridge event carrying a GuardDuty EC2 finding."""
    if finding_type not in SUPPORTED:
        raise ValueError(f"no sample for {finding_type}; choose one of: {', '.join(sorted(SUPPORTED))}")
    _, default_severity, description, action_kind = SUPPORTED[finding_type]
    fid = finding_id or uuid.uuid4().hex
    now = _now()
    action: dict[str, Any] = {"actionType": action_kind.replace("Action", "").upper()}
    if action_kind == "networkConnectionAction":
        action[action_kind] = {
            "connectionDirection": "INBOUND" if "Brute" in finding_type else "OUTBOUND",
            "remoteIpDetails": {
                "ipAddressV4": remote_ip,
                "organization": {
                    "asn": "64496",
                    "asnOrg": "EXAMPLE-NET",
                    "isp": "Example ISP",
                    "org": "Example",
                },
                "country": {"countryName": "Example"},
            },
            "remotePortDetails": {"port": 22, "portName": "SSH"},
            "localPortDetails": {"port": 22, "portName": "SSH"},
            "protocol": "TCP",
            "blocked": False,
        }
    else:
        action[action_kind] = {"domain": "pool.example-mining.test", "protocol": "UDP", "blocked": False}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "GuardDuty Finding",
        "source": "aws.guardduty",
        "account": account,
        "time": now,
        "region": region,
        "resources": [],
        "detail": {
            "schemaVersion": "2.0",
            "accountId": account,
            "region": region,
            "partition": "aws",
            "id": fid,
            "arn": f"arn:aws:guardduty:{region}:{account}:detector/12abc34d567e8fa901bc2d34e56789f0/finding/{fid}",
            "type": finding_type,
            "resource": {
                "resourceType": "Instance",
                "instanceDetails": {
                    "instanceId": instance_id,
                    "instanceType": "t3.micro",
                    "instanceState": "running",
                    "availabilityZone": f"{region}a",
                    "imageId": "ami-12c6146b",
                    "networkInterfaces": enis or [],
                    "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
                },
            },
            "service": {
                "serviceName": "guardduty",
                "detectorId": "12abc34d567e8fa901bc2d34e56789f0",
                "action": action,
                "resourceRole": "TARGET" if "Brute" in finding_type else "ACTOR",
                "additionalInfo": {"sample": True} if sample else {},
                "eventFirstSeen": now,
                "eventLastSeen": now,
                "archived": archived,
                "count": count,
            },
            "severity": severity if severity is not None else default_severity,
            "createdAt": now,
            "updatedAt": now,
            "title": description.format(id=instance_id).split(" is ")[0] + " shows suspicious activity.",
            "description": description.format(id=instance_id),
        },
    }
