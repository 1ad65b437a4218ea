"""Onboarding custom resource: load the shipped default preferences when the table is empty.

Never overwrites a team's rules; deleting the stack leaves them in place (the table is retained).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from responder.adapters import cfn
from responder.adapters.aws import client
from responder.adapters.preferences import PreferenceStore
from responder.domain.preferences import rules_from_documents
from responder.handlers._runtime import EnvModel, load_env, logger, metrics, tracer


class DefaultPreferencesEnv(EnvModel):
    preferences_table: str = Field(min_length=3)


ENV = load_env(DefaultPreferencesEnv)
PREFS = PreferenceStore(ENV.preferences_table, client("dynamodb"))


def apply(event: dict[str, Any]) -> dict[str, str]:
    if event["RequestType"] == "Delete":
        return {"Loaded": "0"}
    rules = rules_from_documents(json.loads(event["ResourceProperties"]["Rules"]))
    loaded = PREFS.load_if_empty(rules)
    return {"Loaded": str(loaded)}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    physical = event.get("PhysicalResourceId") or f"{ENV.preferences_table}-defaults"
    cfn.answer(event, physical, lambda: (None, apply(event)), logger, "default preferences")
