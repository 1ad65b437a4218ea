"""The preferences table: one item per rule, `pk` = rule id, `doc` = the rule as JSON."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from responder.models.preferences import Rule


class InvalidStoredRule(ValueError):
    pass


class PreferenceStore:
    def __init__(self, table_name: str, ddb: Any) -> None:
        self.table = table_name
        self.ddb = ddb

    def all(self) -> list[Rule]:
        rules: list[Rule] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            resp = self.ddb.scan(**kwargs)
            for item in resp.get("Items", []):
                rule_id = item.get("pk", {}).get("S", "?")
                try:
                    rules.append(Rule.model_validate_json(item["doc"]["S"]))
                except (KeyError, ValidationError) as exc:
                    # A corrupt rule must not be silently dropped: the decision would change.
                    raise InvalidStoredRule(f"stored preference rule {rule_id!r} is invalid: {exc}") from exc
            if "LastEvaluatedKey" not in resp:
                return rules
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def put(self, rule: Rule) -> None:
        self.ddb.put_item(TableName=self.table, Item={"pk": {"S": rule.id}, "doc": {"S": rule.model_dump_json()}})

    def delete(self, rule_id: str) -> bool:
        resp = self.ddb.delete_item(TableName=self.table, Key={"pk": {"S": rule_id}}, ReturnValues="ALL_OLD")
        return bool(resp.get("Attributes"))
