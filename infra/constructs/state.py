"""State: the incidents table and the preferences table."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as ddb
from constructs import Construct

from infra.nag import checkov_skip

STATUS_INDEX = "by-status"


class State(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        common: dict[str, Any] = {
            "partition_key": ddb.Attribute(name="pk", type=ddb.AttributeType.STRING),
            "billing_mode": ddb.BillingMode.PAY_PER_REQUEST,
            "encryption": ddb.TableEncryption.AWS_MANAGED,
            "point_in_time_recovery_specification": ddb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            "removal_policy": RemovalPolicy.RETAIN,
            "deletion_protection": True,
        }
        self.incidents = ddb.Table(self, "Incidents", time_to_live_attribute="ttl", **common)
        self.incidents.add_global_secondary_index(
            index_name=STATUS_INDEX,
            partition_key=ddb.Attribute(name="incident_status", type=ddb.AttributeType.STRING),
            sort_key=ddb.Attribute(name="created_at", type=ddb.AttributeType.STRING),
            projection_type=ddb.ProjectionType.ALL,
        )
        self.preferences = ddb.Table(self, "Preferences", **common)
        for table in (self.incidents, self.preferences):
            checkov_skip(table, "CKV_AWS_119", "Encrypted with the DynamoDB AWS-managed key (KMS, audited in "
                         "CloudTrail); a customer-managed key adds key-policy upkeep without a reader to exclude.")  # fmt: skip
