"""The preferences table: one item per rule, `pk` = rule id, `doc` = the rule as JSON."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from responder.models.preferences import Rule

MAX_TRANSACTION_ITEMS = 100


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

    def get(self, rule_id: str) -> Rule | None:
        resp = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": rule_id}}, ConsistentRead=True)
        item = resp.get("Item")
        return Rule.model_validate_json(item["doc"]["S"]) if item else None

    def is_empty(self) -> bool:
        return not self.ddb.scan(TableName=self.table, Limit=1, ConsistentRead=True).get("Items")

    def replace_all(self, rules: list[Rule]) -> None:
        """Make the stored set exactly `rules`, in one transaction (all or nothing)."""
        ids = [r.id for r in rules]
        if len(set(ids)) != len(ids):
            raise ValueError("rule ids must be unique")
        existing = {r.id for r in self.all()}
        ops: list[dict[str, Any]] = [
            {"Put": {"TableName": self.table, "Item": {"pk": {"S": r.id}, "doc": {"S": r.model_dump_json()}}}}
            for r in rules
        ]
        ops += [{"Delete": {"TableName": self.table, "Key": {"pk": {"S": old}}}} for old in sorted(existing - set(ids))]
        if len(ops) > MAX_TRANSACTION_ITEMS:
            raise ValueError(
                f"an import changes at most {MAX_TRANSACTION_ITEMS} rules at once; this one changes {len(ops)}"
            )
        if ops:
            self.ddb.transact_write_items(TransactItems=ops)

    def load_if_empty(self, rules: list[Rule]) -> int:
        """Onboarding: store `rules` only when no rule exists yet (never overwrite a team's set)."""
        if not self.is_empty():
            return 0
        ops = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {"pk": {"S": r.id}, "doc": {"S": r.model_dump_json()}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            for r in rules
        ]
        if ops:
            self.ddb.transact_write_items(TransactItems=ops)
        return len(ops)

    def put(self, rule: Rule) -> None:
        self.ddb.put_item(TableName=self.table, Item={"pk": {"S": rule.id}, "doc": {"S": rule.model_dump_json()}})

    def delete(self, rule_id: str) -> bool:
        resp = self.ddb.delete_item(TableName=self.table, Key={"pk": {"S": rule_id}}, ReturnValues="ALL_OLD")
        return bool(resp.get("Attributes"))
