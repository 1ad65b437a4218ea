"""Incident, resource-claim, finding and approval records in the incidents table (DynamoDB).

Items (one table, partition key `pk`):
- `INCIDENT#<id>`: the incident; `doc` holds its JSON, `version` guards every update.
- `RESOURCE#<account:region:type:id>`: the claim an open incident holds on its resource. Created in the
  same transaction as the incident, conditionally, so two findings about one resource can never open two
  incidents (no read-then-write gap).
- `FINDING#<finding id>`: which incident a finding went to, so a re-sent finding is absorbed, even after
  its incident closed.
- `APPROVAL#<approval id>`: the pending approval with the Step Functions task token (never in the
  incident document, never in a URL or log).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from botocore.exceptions import ClientError

from responder.adapters.aws import error_code
from responder.models.incident import Incident, Status

INCIDENT = "INCIDENT#"
RESOURCE = "RESOURCE#"
FINDING = "FINDING#"
APPROVAL = "APPROVAL#"
STATUS_INDEX = "by-status"
MAX_UPDATE_ATTEMPTS = 25


class IncidentNotFound(LookupError):
    pass


class ConcurrentUpdate(RuntimeError):
    pass


@dataclass(frozen=True)
class ClaimResult:
    outcome: Literal["created", "absorbed"]
    incident_id: str


@dataclass(frozen=True)
class ApprovalItem:
    approval_id: str
    incident_id: str
    task_token: str
    nonce: str
    expires_at: int
    status: str = "PENDING"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _approval(approval_id: str, item: dict[str, Any]) -> ApprovalItem:
    return ApprovalItem(
        approval_id=approval_id,
        incident_id=item["incident_id"]["S"],
        task_token=item["task_token"]["S"],
        nonce=item["nonce"]["S"],
        expires_at=int(item["expires_at"]["N"]),
        status=item["approval_status"]["S"],
    )


class IncidentStore:
    def __init__(self, table_name: str, ddb: Any) -> None:
        self.table = table_name
        self.ddb = ddb

    # -- incidents -------------------------------------------------------------------------------
    def _incident_item(self, incident: Incident) -> dict[str, Any]:
        return {
            "pk": _s(INCIDENT + incident.incident_id),
            "incident_id": _s(incident.incident_id),
            "incident_status": _s(incident.status.value),
            "created_at": _s(incident.created_at.isoformat()),
            "resource_key": _s(incident.resource.key),
            "version": {"N": str(incident.version)},
            "doc": _s(incident.model_dump_json()),
        }

    def claim(self, incident: Incident, finding_id: str, hold_resource: bool = True) -> ClaimResult:
        """Create the incident, or absorb the finding into the incident that already owns it.

        The incident, its finding record and (when `hold_resource`) the resource claim are written in one
        transaction, each conditional on not existing.
        """
        items: list[dict[str, Any]] = []
        if hold_resource:
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            "pk": _s(RESOURCE + incident.resource.key),
                            "incident_id": _s(incident.incident_id),
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
        items.append(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {"pk": _s(FINDING + finding_id), "incident_id": _s(incident.incident_id)},
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        )
        items.append(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": self._incident_item(incident),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
        for attempt in range(MAX_UPDATE_ATTEMPTS):
            try:
                self.ddb.transact_write_items(TransactItems=items)
                return ClaimResult("created", incident.incident_id)
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons", [])
                owner = self._owner_from_reasons(reasons, hold_resource)
                if owner is not None:
                    return ClaimResult("absorbed", owner)
                if any(r.get("Code") == "TransactionConflict" for r in reasons) or not reasons:
                    time.sleep(min(0.05 * (2**attempt), 1.0))
                    continue
                raise
        raise ConcurrentUpdate(f"could not claim resource {incident.resource.key}: too many conflicts")

    @staticmethod
    def _owner_from_reasons(reasons: list[Any], hold_resource: bool) -> str | None:
        # A finding already seen wins over the resource claim: it belongs to its first incident.
        ordered = [1, 0] if hold_resource else [0]
        for index in ordered:
            if index < len(reasons) and reasons[index].get("Code") == "ConditionalCheckFailed":
                item = reasons[index].get("Item") or {}
                owner = item.get("incident_id", {}).get("S")
                if owner:
                    return str(owner)
        return None

    def record_finding(self, finding_id: str, incident_id: str) -> None:
        """Point a finding at the incident that absorbed it (first writer wins)."""
        try:
            self.ddb.put_item(
                TableName=self.table,
                Item={"pk": _s(FINDING + finding_id), "incident_id": _s(incident_id)},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def release_claim(self, resource_key: str, incident_id: str) -> None:
        try:
            self.ddb.delete_item(
                TableName=self.table,
                Key={"pk": _s(RESOURCE + resource_key)},
                ConditionExpression="incident_id = :id",
                ExpressionAttributeValues={":id": _s(incident_id)},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def claim_owner(self, resource_key: str) -> str | None:
        resp = self.ddb.get_item(TableName=self.table, Key={"pk": _s(RESOURCE + resource_key)}, ConsistentRead=True)
        item = resp.get("Item")
        return str(item["incident_id"]["S"]) if item else None

    def get(self, incident_id: str) -> Incident:
        resp = self.ddb.get_item(TableName=self.table, Key={"pk": _s(INCIDENT + incident_id)}, ConsistentRead=True)
        item = resp.get("Item")
        if not item:
            raise IncidentNotFound(f"incident {incident_id} not found")
        incident = Incident.model_validate_json(item["doc"]["S"])
        incident.version = int(item["version"]["N"])
        return incident

    def update(self, incident_id: str, mutate: Callable[[Incident], None]) -> Incident:
        """Read, apply `mutate`, and write back only if nobody wrote in between (optimistic lock).

        `mutate` may raise to abort; it is re-applied to a fresh read on a conflict.
        """
        for attempt in range(MAX_UPDATE_ATTEMPTS):
            incident = self.get(incident_id)
            previous = incident.version
            mutate(incident)
            incident.version = previous + 1
            incident.updated_at = datetime.now(incident.created_at.tzinfo)
            try:
                self.ddb.put_item(
                    TableName=self.table,
                    Item=self._incident_item(incident),
                    ConditionExpression="version = :v",
                    ExpressionAttributeValues={":v": {"N": str(previous)}},
                )
                return incident
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                time.sleep(min(0.02 * (2**attempt), 0.5))
        raise ConcurrentUpdate(f"incident {incident_id}: too many concurrent updates")

    def list(self, status: Status | None = None, limit: int = 200) -> list[Incident]:
        incidents: list[Incident] = []
        kwargs: dict[str, Any]
        if status is not None:
            kwargs = {
                "TableName": self.table,
                "IndexName": STATUS_INDEX,
                "KeyConditionExpression": "incident_status = :s",
                "ExpressionAttributeValues": {":s": _s(status.value)},
                "ScanIndexForward": False,
            }
            op = self.ddb.query
        else:
            kwargs = {
                "TableName": self.table,
                "FilterExpression": "begins_with(pk, :p)",
                "ExpressionAttributeValues": {":p": _s(INCIDENT)},
            }
            op = self.ddb.scan
        while True:
            resp = op(**kwargs)
            for item in resp.get("Items", []):
                if "doc" in item:
                    inc = Incident.model_validate_json(item["doc"]["S"])
                    inc.version = int(item["version"]["N"])
                    incidents.append(inc)
            if len(incidents) >= limit or "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        incidents.sort(key=lambda i: i.created_at, reverse=True)
        return incidents[:limit]

    # -- approvals -------------------------------------------------------------------------------
    def put_approval(self, approval: ApprovalItem) -> None:
        self.ddb.put_item(
            TableName=self.table,
            Item={
                "pk": _s(APPROVAL + approval.approval_id),
                "incident_id": _s(approval.incident_id),
                "task_token": _s(approval.task_token),
                "nonce": _s(approval.nonce),
                "expires_at": {"N": str(approval.expires_at)},
                "approval_status": _s(approval.status),
                # DynamoDB TTL removes the record (and its token) a week after it expired.
                "ttl": {"N": str(approval.expires_at + 7 * 86400)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get_approval(self, approval_id: str) -> ApprovalItem | None:
        resp = self.ddb.get_item(TableName=self.table, Key={"pk": _s(APPROVAL + approval_id)}, ConsistentRead=True)
        item = resp.get("Item")
        return _approval(approval_id, item) if item else None

    def decide_approval(self, approval_id: str, decision: str, now_epoch: int) -> ApprovalItem | None:
        """Move a pending, unexpired approval to `decision`, once. None when it was not pending."""
        try:
            resp = self.ddb.update_item(
                TableName=self.table,
                Key={"pk": _s(APPROVAL + approval_id)},
                UpdateExpression="SET approval_status = :d, decided_epoch = :now",
                ConditionExpression="attribute_exists(pk) AND approval_status = :p AND expires_at > :now",
                ExpressionAttributeValues={
                    ":d": _s(decision),
                    ":p": _s("PENDING"),
                    ":now": {"N": str(now_epoch)},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise
        return _approval(approval_id, resp["Attributes"])

    def expire_approval(self, incident: Incident) -> None:
        """Make a still-pending approval unusable (the workflow stopped waiting for it)."""
        if incident.approval is None:
            return
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key={"pk": _s(APPROVAL + incident.approval.approval_id)},
                UpdateExpression="SET approval_status = :e",
                ConditionExpression="approval_status = :p",
                ExpressionAttributeValues={":e": _s("EXPIRED"), ":p": _s("PENDING")},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
