"""Onboarding: the shipped default preferences, loaded by a custom resource when the table is empty."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from aws_cdk import CustomResource
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.function import ResponderFunction
from responder.domain.preferences import rules_from_documents

DEFAULTS = Path(__file__).resolve().parents[2] / "preferences.default.yaml"


def default_rules_json(path: Path = DEFAULTS) -> str:
    """The defaults, validated at synth time: a bad file stops the synth, naming the rule and field."""
    rules = rules_from_documents(yaml.safe_load(path.read_text()))
    return json.dumps([r.model_dump(mode="json") for r in rules], sort_keys=True)


class DefaultPreferences(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layer: lambda_.ILayerVersion,
        table: ddb.ITable,
        failures: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.loader = ResponderFunction(
            self,
            "Loader",
            handler="responder.handlers.default_preferences.handler",
            layer=layer,
            environment={"PREFERENCES_TABLE": table.table_name},
            description="load default preferences at onboarding",
        )
        self.loader.allow(["dynamodb:Scan", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"], [table.table_arn])
        self.loader.send_failures_to(failures)  # CloudFormation invokes custom resources asynchronously
        self.resource = CustomResource(
            self,
            "Defaults",
            service_token=self.loader.function.function_arn,
            resource_type="Custom::DefaultPreferences",
            properties={"Rules": default_rules_json()},
        )
