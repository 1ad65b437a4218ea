"""AWS calls per containment, counted with a botocore event hook, against the minimum each action needs."""

from __future__ import annotations

import collections
import os
from typing import Any

import boto3
from moto import mock_aws

from responder.adapters import aws as aws_adapter
from responder.models.common import ResourceType


def _counting() -> collections.Counter[str]:
    counter: collections.Counter[str] = collections.Counter()
    original = aws_adapter.client

    def counted(service: str, region: str | None = None, session: Any = None) -> Any:
        c = original(service, region, session)
        if not getattr(c, "_bench_hooked", False):
            c.meta.events.register("before-call", lambda model, **_: counter.update([f"{service}:{model.name}"]))
            c._bench_hooked = True
        return c

    aws_adapter.client = counted  # type: ignore[assignment]
    return counter


def measure() -> list[dict[str, Any]]:
    """Contain one resource of each kind in an in-process emulator and count every AWS call."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from responder_cli.sandbox import moto_fidelity

    moto_fidelity.apply()
    rows: list[dict[str, Any]] = []
    with mock_aws():
        aws_adapter.reset_clients()
        counter = _counting()
        from tests.support import kinds as k
        from tests.support.victims import make_instance

        session = boto3.Session(region_name="us-east-1")
        ec2 = session.client("ec2")
        iam = session.client("iam")
        s3 = session.client("s3")
        k.create_deny_all_policy(iam)

        cases: list[tuple[str, Any, Any, int, str]] = []
        victim = make_instance(ec2, enis=2)
        # Minimum for two-step isolation of 2 ENIs with termination and stop protection and 1 snapshot:
        # 1 describe of the instance, 2 group look-ups and 2 creations per VPC (first time), 4 ENI swaps,
        # 2 attribute reads and 2 attribute writes, 1 snapshot look-up, 1 snapshot.
        cases.append(("ec2_instance (2 ENIs, two-step)", ResourceType.EC2_INSTANCE, victim.instance_id, 15, "EC2"))
        iam.create_user(UserName="bench-user")
        key = iam.create_access_key(UserName="bench-user")["AccessKey"]["AccessKeyId"]
        # Minimum: read attached, inline and keys (3), attach, deactivate, put the revocation (3).
        cases.append(("iam_user (1 key)", ResourceType.IAM_USER, "bench-user", 6, key))
        iam.create_role(RoleName="bench-role", AssumeRolePolicyDocument="{}")
        cases.append(("iam_role", ResourceType.IAM_ROLE, "bench-role", 2, ""))
        s3.create_bucket(Bucket="bench-bucket")
        # Minimum: read and write policy, Block Public Access and ownership controls (6), and read the ACL
        # (S3 refuses BucketOwnerEnforced while it grants outside the owner; this one is owner-only) (7).
        cases.append(("s3_bucket", ResourceType.S3_BUCKET, "bench-bucket", 7, ""))

        for label, kind, ident, minimum, extra in cases:
            inc = k.incident(kind, ident, access_key=extra if kind is ResourceType.IAM_USER else None)
            k.plan_and_record(inc, k.decision())
            counter.clear()
            k.contain(inc)
            contain_calls = dict(counter)
            counter.clear()
            k.verify(inc)
            verify_calls = sum(counter.values())
            total = sum(contain_calls.values())
            repeated = {op: n for op, n in contain_calls.items() if "Describe" in op and n > 1}
            rows.append(
                {
                    "kind": label,
                    "contain_calls": total,
                    "minimum": minimum,
                    "ratio": round(total / minimum, 2),
                    "verify_calls": verify_calls,
                    "repeated_describes": repeated,
                    "by_operation": contain_calls,
                }
            )
        aws_adapter.reset_clients()
    return rows
