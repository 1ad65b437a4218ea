"""Deploy a synthesized cloud assembly into an AWS endpoint the way `cdk deploy` does.

Publishes the file assets named in the stack's asset manifest (zipping directory assets) to the
bootstrap asset bucket, then creates the stack from the template's S3 URL and waits for it. Used by the
sandbox (moto server) and by the in-process workflow tests (moto mock).
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOOTSTRAP_QUALIFIER = "hnb659fds"
BOOTSTRAP_VERSION = "30"


class DeployError(RuntimeError):
    pass


@dataclass(frozen=True)
class DeployedStack:
    name: str
    outputs: dict[str, str]
    resources: dict[str, tuple[str, str]]  # logical id -> (type, physical id)


def _zip_dir(path: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(path.rglob("*")):
            if file.is_file():
                zf.write(file, file.relative_to(path).as_posix())
    return buf.getvalue()


def _subst(text: str, account: str, region: str) -> str:
    return (
        text.replace("${AWS::AccountId}", account).replace("${AWS::Region}", region).replace("${AWS::Partition}", "aws")
    )


def bootstrap(session: Any, account: str, region: str) -> str:
    """What `cdk bootstrap` leaves behind that a deploy needs: the asset bucket and the version parameter."""
    bucket = f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}"
    s3 = session.client("s3", region_name=region)
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    session.client("ssm", region_name=region).put_parameter(
        Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version",
        Value=BOOTSTRAP_VERSION,
        Type="String",
        Overwrite=True,
    )
    return bucket


def publish_assets(session: Any, assembly: Path, stack_name: str, account: str, region: str) -> str:
    """Upload every file asset; returns the template's object key."""
    manifest = json.loads((assembly / f"{stack_name}.assets.json").read_text())
    s3 = session.client("s3", region_name=region)
    template_key = ""
    for asset in manifest.get("files", {}).values():
        source = assembly / asset["source"]["path"]
        body = _zip_dir(source) if asset["source"].get("packaging") == "zip" else source.read_bytes()
        for dest in asset["destinations"].values():
            key = _subst(dest["objectKey"], account, region)
            s3.put_object(Bucket=_subst(dest["bucketName"], account, region), Key=key, Body=body)
            if asset["source"]["path"].endswith(".template.json"):
                template_key = key
    if not template_key:
        raise DeployError("the asset manifest names no template")
    return template_key


def deploy(session: Any, assembly: Path, stack_name: str, timeout_s: float = 300) -> DeployedStack:
    region = session.region_name
    account = session.client("sts", region_name=region).get_caller_identity()["Account"]
    bucket = bootstrap(session, account, region)
    template_key = publish_assets(session, assembly, stack_name, account, region)
    cfn = session.client("cloudformation", region_name=region)
    cfn.create_stack(
        StackName=stack_name,
        TemplateURL=f"https://{bucket}.s3.{region}.amazonaws.com/{template_key}",
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    return _created(cfn, stack_name, timeout_s)


def deploy_standalone(
    session: Any, template: Path, stack_name: str, parameters: dict[str, str], timeout_s: float = 120
) -> DeployedStack:
    """Deploy a template that needs no assets (the MemberRoleStack), with parameters, as a StackSet would."""
    cfn = session.client("cloudformation")
    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=template.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    return _created(cfn, stack_name, timeout_s)


def _created(cfn: Any, stack_name: str, timeout_s: float) -> DeployedStack:
    deadline = time.monotonic() + timeout_s
    while True:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status == "CREATE_COMPLETE":
            break
        if status.endswith("FAILED") or status.startswith("ROLLBACK") or time.monotonic() > deadline:
            reason = stack.get("StackStatusReason", "")
            raise DeployError(f"stack {stack_name} did not deploy: {status} {reason}")
        time.sleep(0.2)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    resources: dict[str, tuple[str, str]] = {}
    paginator = cfn.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_name):
        for r in page["StackResourceSummaries"]:
            resources[r["LogicalResourceId"]] = (r["ResourceType"], r.get("PhysicalResourceId", ""))
    return DeployedStack(stack_name, outputs, resources)
