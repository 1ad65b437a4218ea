"""Custom resource: the Security Hub "Contain resource" custom action, created through Security Hub's API.

`AWS::SecurityHub::ActionTarget` is missing from the CloudFormation registry of most regions, so the stack
creates the action with CreateActionTarget (and UpdateActionTarget, DeleteActionTarget) in every region.
The physical id is the action's ARN. An action with the same Id that the stack did not create is never
adopted: the request fails with the reason, so deleting the stack can never delete someone else's action.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from responder.adapters import cfn
from responder.adapters.aws import client, error_code
from responder.handlers._runtime import logger, metrics, tracer

# Security Hub's limits: Id up to 20 alphanumeric characters, Name up to 20 characters
# (the CreateActionTarget request reference, e.g. https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/securityhub/
# aws.sdk.kotlin.services.securityhub.model/-create-action-target-request).
ACTION_ID = r"^[A-Za-z0-9]{1,20}$"


class ActionTarget(BaseModel):
    """The custom resource's properties (CloudFormation passes every value as a string)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str = Field(alias="Id", pattern=ACTION_ID)
    name: str = Field(alias="Name", min_length=1, max_length=20)
    description: str = Field(alias="Description", min_length=1)


class ActionExists(RuntimeError):
    """A custom action with this Id exists that this stack did not create."""


def _is_action_arn(value: str | None) -> bool:
    return bool(value) and ":securityhub:" in str(value) and ":action/custom/" in str(value)


def _create(hub: Any, target: ActionTarget) -> str:
    try:
        return str(
            hub.create_action_target(Name=target.name, Description=target.description, Id=target.id)["ActionTargetArn"]
        )
    except Exception as exc:
        if error_code(exc) == "ResourceConflictException":
            raise ActionExists(
                f"a Security Hub custom action with Id {target.id!r} already exists in this account and region "
                "and was not created by this stack; delete it (or deploy once with securityHub=false if an earlier "
                "version of this stack created it) and deploy again"
            ) from exc
        raise


def apply(hub: Any, event: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """Carry out one CloudFormation request; returns (physical id, data)."""
    request = event["RequestType"]
    physical = event.get("PhysicalResourceId")
    if request == "Delete":
        if _is_action_arn(physical):
            try:
                hub.delete_action_target(ActionTargetArn=physical)
            except Exception as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    raise
        return str(physical), {}
    target = ActionTarget.model_validate(event["ResourceProperties"])
    if request == "Update" and _is_action_arn(physical):
        old = ActionTarget.model_validate(event["OldResourceProperties"])
        if old.id == target.id:
            hub.update_action_target(ActionTargetArn=physical, Name=target.name, Description=target.description)
            return str(physical), {"ActionTargetArn": str(physical)}
        # A new Id is a new action (a new ARN): CloudFormation then deletes the old one.
    elif request not in ("Create", "Update"):
        raise ValueError(f"unknown custom-resource request type {request!r}")
    arn = _create(hub, target)
    return arn, {"ActionTargetArn": arn}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    # What CloudFormation gets back if the request fails before an action exists: not an ARN, so the Delete
    # of a rollback deletes nothing.
    physical = event.get("PhysicalResourceId") or f"{event['LogicalResourceId']}-not-created"
    cfn.answer(event, physical, lambda: apply(client("securityhub"), event), logger, "security hub custom action")
