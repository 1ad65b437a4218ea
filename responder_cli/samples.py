"""Realistic GuardDuty finding events, ready for `responder findings send`."""

from __future__ import annotations

import re
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


IAM_TYPES = {
    "UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom": (
        "IAMUser",
        5.0,
        "An API was invoked from a custom threat-list IP address.",
    ),
    "CredentialAccess:IAMUser/AnomalousBehavior": (
        "IAMUser",
        8.0,
        "An API commonly used to access credentials was invoked in an unusual way.",
    ),
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS": (
        "AssumedRole",
        8.0,
        "Credentials created exclusively for an EC2 instance through an instance launch role are being used from an external IP address.",
    ),
    "Policy:IAMUser/RootCredentialUsage": ("Root", 2.0, "API was invoked using root credentials."),
}
S3_TYPES = {
    "Policy:S3/BucketBlockPublicAccessDisabled": (2.0, "Amazon S3 Block Public Access was disabled for an S3 bucket."),
    "Policy:S3/BucketPublicAccessGranted": (8.0, "An IAM principal has granted public access to an S3 bucket."),
    "Exfiltration:S3/AnomalousBehavior": (8.0, "An IAM entity invoked an S3 API in a suspicious way."),
    "UnauthorizedAccess:S3/MaliciousIPCaller.Custom": (
        8.0,
        "An S3 API was invoked from an IP address on a custom threat list.",
    ),
}


def sample_types() -> list[str]:
    return sorted([*SUPPORTED, *IAM_TYPES, *S3_TYPES])


INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,17}$")
IAM_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
ACCESS_KEY_ID = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{16}$")
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")


def check_sample_args(
    finding_type: str,
    resource: str | None = None,
    *,
    severity: float | None = None,
    access_key_id: str | None = None,
    account: str = "123456789012",
) -> None:
    """ValueError naming the first argument a realistic finding could not carry (GuardDuty's documented
    severities are 1.0-8.9; 0-10 is accepted, the range Security Hub and the preferences use)."""
    if finding_type not in sample_types():
        raise ValueError(f"no sample for {finding_type}; choose one of: {', '.join(sample_types())}")
    if not ACCOUNT_ID.fullmatch(account):
        raise ValueError(f"--account {account!r} is not an AWS account id (12 digits)")
    if severity is not None and not (0.0 <= severity <= 10.0):
        raise ValueError(f"--severity {severity:g} is outside 0-10 (GuardDuty uses 1.0-8.9)")
    if resource is not None:
        if finding_type in SUPPORTED and not INSTANCE_ID.fullmatch(resource):
            raise ValueError(f"--resource {resource!r} is not an EC2 instance id (i- and 8 to 17 hex digits)")
        if finding_type in IAM_TYPES and not IAM_NAME.fullmatch(resource):
            raise ValueError(f"--resource {resource!r} is not an IAM user or role name (1-64 of A-Z a-z 0-9 +=,.@_-)")
        if finding_type in S3_TYPES and not BUCKET_NAME.fullmatch(resource):
            raise ValueError(f"--resource {resource!r} is not an S3 bucket name (3-63 of a-z 0-9 . -)")
    if access_key_id is not None:
        if finding_type in SUPPORTED:
            raise ValueError("--access-key applies to IAM and S3 findings, not to EC2 findings")
        if not ACCESS_KEY_ID.fullmatch(access_key_id):
            raise ValueError(f"--access-key {access_key_id!r} is not an access key id (AKIA or ASIA and 16 of A-Z 0-9)")


def sample(
    finding_type: str,
    resource: str | None = None,
    account: str = "123456789012",
    region: str = "us-east-1",
    *,
    severity: float | None = None,
    access_key_id: str | None = None,
) -> dict[str, Any]:
    """A realistic event for any supported finding type; `resource` is the instance, user, role or bucket.
    Without `severity`, the type's usual one (EC2 C&C, crypto-mining: 8.0, high)."""
    check_sample_args(finding_type, resource, severity=severity, access_key_id=access_key_id, account=account)
    if finding_type in SUPPORTED:
        return ec2_finding(
            finding_type, instance_id=resource or "i-0123456789abcdef0", account=account, region=region,
            severity=severity,
        )  # fmt: skip
    if finding_type in IAM_TYPES:
        user_type, default_severity, description = IAM_TYPES[finding_type]
        return access_key_finding(
            finding_type, user=resource or "alice", user_type=user_type, account=account, region=region,
            severity=default_severity if severity is None else severity, description=description,
            access_key_id=access_key_id or "AKIAIOSFODNN7EXAMPLE",
        )  # fmt: skip
    default_severity, description = S3_TYPES[finding_type]
    return s3_finding(
        finding_type, bucket=resource or "example-bucket", account=account, region=region,
        severity=default_severity if severity is None else severity, description=description,
        access_key_id=access_key_id or "AKIAIOSFODNN7EXAMPLE",
    )  # fmt: skip


def _envelope(detail: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "GuardDuty Finding",
        "source": "aws.guardduty",
        "account": account,
        "time": detail["updatedAt"],
        "region": region,
        "resources": [],
        "detail": detail,
    }


def _detail(finding_type: str, account: str, region: str, severity: float, description: str, resource: dict[str, Any],
            action: dict[str, Any], finding_id: str | None = None, *, count: int = 1, sample: bool = False,
            archived: bool = False, role: str = "TARGET") -> dict[str, Any]:  # fmt: skip
    fid = finding_id or uuid.uuid4().hex
    now = _now()
    return {
        "schemaVersion": "2.0",
        "accountId": account,
        "region": region,
        "partition": "aws",
        "id": fid,
        "arn": f"arn:aws:guardduty:{region}:{account}:detector/12abc34d567e8fa901bc2d34e56789f0/finding/{fid}",
        "type": finding_type,
        "resource": resource,
        "service": {
            "serviceName": "guardduty",
            "detectorId": "12abc34d567e8fa901bc2d34e56789f0",
            "action": action,
            "resourceRole": role,
            "additionalInfo": {"sample": True} if sample else {},
            "eventFirstSeen": now,
            "eventLastSeen": now,
            "archived": archived,
            "count": count,
        },
        "severity": severity,
        "createdAt": now,
        "updatedAt": now,
        "title": description,
        "description": description,
    }


def _api_call(remote_ip: str, api: str, service: str) -> dict[str, Any]:
    return {
        "actionType": "AWS_API_CALL",
        "awsApiCallAction": {
            "api": api,
            "serviceName": service,
            "callerType": "Remote IP",
            "remoteIpDetails": {"ipAddressV4": remote_ip, "organization": {"asn": "64496", "asnOrg": "EXAMPLE-NET"}},
        },
    }


def access_key_finding(
    finding_type: str, *, user: str, user_type: str = "IAMUser", access_key_id: str = "AKIAIOSFODNN7EXAMPLE",
    account: str = "123456789012", region: str = "us-east-1", severity: float = 5.0, description: str = "",
    remote_ip: str = "198.51.100.23", finding_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    if user_type == "AssumedRole" and access_key_id.startswith("AKIA"):
        access_key_id = "ASIA" + access_key_id[4:]
    principal = {"IAMUser": "AIDA", "AssumedRole": "AROA", "Root": ""}.get(user_type, "AIDA") + "EXAMPLEID"
    resource = {
        "resourceType": "AccessKey",
        "accessKeyDetails": {
            "accessKeyId": access_key_id,
            "principalId": principal + (f":{user}-session" if user_type == "AssumedRole" else ""),
            "userName": "Root" if user_type == "Root" else user,
            "userType": user_type,
        },
    }
    detail = _detail(finding_type, account, region, severity, description or finding_type, resource,
                     _api_call(remote_ip, "GetSecretValue", "secretsmanager.amazonaws.com"), finding_id)  # fmt: skip
    return _envelope(detail, account, region)


# S3 findings from CloudTrail management events name the actor's access key as the resource
# (`resourceType: AccessKey`) and the bucket in `s3BucketDetails` (GuardDuty User Guide, "S3 Protection
# finding types"; GuardDuty's sample findings for Policy:S3/BucketBlockPublicAccessDisabled).
MANAGEMENT_EVENT_S3 = ("Policy:S3/", "Stealth:S3/")


def s3_finding(
    finding_type: str, *, bucket: str, account: str = "123456789012", region: str = "us-east-1", severity: float = 8.0,
    description: str = "", remote_ip: str = "198.51.100.23", finding_id: str | None = None,
    more_buckets: tuple[str, ...] = (), access_key_id: str = "AKIAIOSFODNN7EXAMPLE",
) -> dict[str, Any]:  # fmt: skip
    resource = {
        "resourceType": "AccessKey" if finding_type.startswith(MANAGEMENT_EVENT_S3) else "S3Bucket",
        "accessKeyDetails": {
            "accessKeyId": access_key_id,
            "principalId": "AIDAEXAMPLEID",
            "userName": "intruder",
            "userType": "IAMUser",
        },
        "s3BucketDetails": [
            {
                "arn": f"arn:aws:s3:::{name}",
                "name": name,
                "type": "Destination",
                "owner": {"id": "0123456789abcdef"},
                "publicAccess": {"effectivePermission": "NOT_PUBLIC"},
            }
            for name in (bucket, *more_buckets)
        ],
    }
    detail = _detail(finding_type, account, region, severity, description or finding_type, resource,
                     _api_call(remote_ip, "GetObject", "s3.amazonaws.com"), finding_id)  # fmt: skip
    return _envelope(detail, account, region)


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
    resource = {
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
    }
    text = description.format(id=instance_id)
    detail = _detail(
        finding_type,
        account,
        region,
        severity if severity is not None else default_severity,
        text,
        resource,
        action,
        finding_id,
        count=count,
        sample=sample,
        archived=archived,
        role="TARGET" if "Brute" in finding_type else "ACTOR",
    )
    detail["title"] = text.split(" is ")[0] + " shows suspicious activity."
    return _envelope(detail, account, region)


# -- Security Hub ---------------------------------------------------------------------------------
def _label(severity: float) -> str:
    return "LOW" if severity < 4 else "MEDIUM" if severity < 7 else "HIGH" if severity < 9 else "CRITICAL"


def asff_from_guardduty(event: dict[str, Any]) -> dict[str, Any]:
    """The ASFF finding Security Hub makes of a GuardDuty finding event (the fields the responder reads)."""
    d = event["detail"]
    account, region, resource = d["accountId"], d["region"], d["resource"]
    family, name = d["type"].split("/", 1)
    resources: list[dict[str, Any]] = []
    if resource.get("instanceDetails"):
        iid = resource["instanceDetails"]["instanceId"]
        resources.append({"Type": "AwsEc2Instance", "Id": f"arn:aws:ec2:{region}:{account}:instance/{iid}",
                          "Partition": "aws", "Region": region, "Details": {"AwsEc2Instance": {}}})  # fmt: skip
    for bucket in resource.get("s3BucketDetails", []):
        resources.append({"Type": "AwsS3Bucket", "Id": bucket["arn"], "Partition": "aws", "Region": region})
    key = resource.get("accessKeyDetails")
    if key:
        resources.append({
            "Type": "AwsIamAccessKey", "Id": f"AWS::IAM::AccessKey:{key['accessKeyId']}", "Partition": "aws",
            "Region": region,
            "Details": {"AwsIamAccessKey": {"AccessKeyId": key["accessKeyId"], "PrincipalId": key["principalId"],
                                            "PrincipalName": key["userName"], "PrincipalType": key["userType"]}},
        })  # fmt: skip
    action = d["service"].get("action", {})
    remote = next(
        (a.get("remoteIpDetails", {}).get("ipAddressV4") for a in action.values() if isinstance(a, dict)), None
    )
    finding: dict[str, Any] = {
        "SchemaVersion": "2018-10-08",
        "Id": d["arn"],
        "ProductArn": f"arn:aws:securityhub:{region}::product/aws/guardduty",
        "ProductName": "GuardDuty",
        "CompanyName": "Amazon",
        "GeneratorId": d["arn"].rsplit("/finding/", 1)[0],
        "AwsAccountId": account,
        "Region": region,
        "Types": [f"TTPs/{family.split(':')[0]}/{family}-{name}"],
        "FirstObservedAt": d["service"]["eventFirstSeen"],
        "LastObservedAt": d["service"]["eventLastSeen"],
        "CreatedAt": d["createdAt"],
        "UpdatedAt": d["updatedAt"],
        "Severity": {"Product": d["severity"], "Label": _label(d["severity"]), "Normalized": int(d["severity"] * 10)},
        "Title": d["title"],
        "Description": d["description"],
        "ProductFields": {
            "aws/guardduty/service/count": str(d["service"]["count"]),
            "aws/guardduty/service/archived": str(d["service"]["archived"]).lower(),
        },
        "Resources": resources,
        "Workflow": {"Status": "NEW"},
        "RecordState": "ARCHIVED" if d["service"]["archived"] else "ACTIVE",
    }
    if remote:
        finding["Network"] = {"Direction": "IN", "SourceIpV4": remote}
    return finding


def forged_asff(finding: dict[str, Any]) -> dict[str, Any]:
    """The same finding imported by someone else's product: ProductName and Types say GuardDuty, the
    ProductArn cannot."""
    account = finding["AwsAccountId"]
    return {**finding, "Id": f"forged-{uuid.uuid4().hex}",
            "ProductArn": f"arn:aws:securityhub:{finding['Region']}:{account}:product/{account}/default"}  # fmt: skip


def securityhub_event(
    findings: list[dict[str, Any]], *, custom_action_arn: str | None = None, action_name: str = "Contain resource"
) -> dict[str, Any]:
    """A `Security Hub Findings - Imported` event, or a custom-action event when an action ARN is given."""
    first = findings[0]
    detail: dict[str, Any] = {"findings": findings}
    if custom_action_arn:
        detail = {"actionName": action_name, "actionDescription": "Contain the finding's resource", **detail}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Security Hub Findings - Custom Action"
        if custom_action_arn
        else "Security Hub Findings - Imported",
        "source": "aws.securityhub",
        "account": first["AwsAccountId"],
        "time": _now(),
        "region": first["Region"],
        "resources": [custom_action_arn] if custom_action_arn else [f["ProductArn"] for f in findings[:1]],
        "detail": detail,
    }


def ocsf_event(finding: dict[str, Any]) -> dict[str, Any]:
    """A Security Hub v2 `Findings Imported V2` event (OCSF) for an ASFF finding's content, in the
    envelope AWS documents: `detail.findings[]` holding one finding (Security Hub User Guide, "EventBridge
    event formats"); AWS products' uids are `arn:aws:securityhub:REGION::productv2/aws/<service>`."""
    resources = [
        {"type": r["Type"], "uid": r["Id"], "region": r.get("Region"),
         "name": r.get("Details", {}).get("AwsIamAccessKey", {}).get("PrincipalName")}
        for r in finding["Resources"]
    ]  # fmt: skip
    key: dict[str, Any] = next(
        (r["Details"].get("AwsIamAccessKey", {}) for r in finding["Resources"] if "Details" in r), {}
    )
    product_uid = finding["ProductArn"].replace("::product/aws/", "::productv2/aws/")
    ocsf: dict[str, Any] = {
        "class_name": "Detection Finding",
        "class_uid": 2004,
        "finding_info": {"uid": finding["Id"], "title": finding["Title"], "types": finding["Types"]},
        "metadata": {"product": {"uid": product_uid, "name": "GuardDuty", "vendor_name": "AWS"}, "version": "1.5.0"},
        "cloud": {"account": {"uid": finding["AwsAccountId"]}, "region": finding["Region"], "provider": "AWS"},
        "resources": resources,
        "severity": finding["Severity"]["Label"].capitalize(),
        "severity_id": {"LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}[finding["Severity"]["Label"]],
        "status": "New",
        "src_endpoint": {"ip": finding.get("Network", {}).get("SourceIpV4")},
    }
    if finding.get("Compliance"):
        ocsf["compliance"] = {"status": finding["Compliance"].get("Status")}
    if key.get("PrincipalType"):
        ocsf["actor"] = {"user": {"name": key.get("PrincipalName"), "type": key["PrincipalType"]}}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Findings Imported V2",
        "source": "aws.securityhub",
        "account": finding["AwsAccountId"],
        "time": _now(),
        "region": finding["Region"],
        "resources": [],
        "detail": {"findings": [ocsf]},
    }
