"""Intake: a Security Hub event (imported findings, v2 findings or a custom action) into one containment
execution per trusted finding. Findings from any other product are logged, counted and dropped here."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from responder.adapters.aws import client
from responder.adapters.messaging import WorkflowStarter
from responder.domain.findings import findings_of
from responder.handlers._runtime import EnvModel, count, load_env, logger, metrics, tracer
from responder.models.events import parse_event


class IntakeEnv(EnvModel):
    containment_state_machine_arn: str = Field(pattern=r"^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:.+$")


ENV = load_env(IntakeEnv)
STARTER = WorkflowStarter(client("stepfunctions"), ENV.containment_state_machine_arn)


def execution_name(event_id: str, finding_id: str) -> str:
    """The same finding in the same event always gets the same name, so a redelivered event starts
    nothing new (Step Functions answers a repeated name and input with the first execution)."""
    return "sh-" + hashlib.sha256(f"{event_id}|{finding_id}".encode()).hexdigest()[:60]


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = parse_event(event)
    started, dropped = [], []
    # ASFF and v2 (OCSF) events share the envelope: `detail.findings[]`, one execution per finding.
    raw_findings = event["detail"]["findings"]
    for finding, raw in zip(findings_of(parsed), raw_findings, strict=True):
        if not finding.trusted:
            dropped.append(finding.id)
            count("FindingsUntrusted")
            logger.warning("untrusted finding dropped", extra={"finding_id": finding.id, "reason": finding.skip})
            continue
        if finding.passed_check:
            dropped.append(finding.id)
            count("ControlChecksPassed")
            logger.info("passed control check dropped", extra={"finding_id": finding.id})
            continue
        single = {**event, "detail": {**event["detail"], "findings": [raw]}}
        STARTER.start(execution_name(parsed.event.id, finding.id), json.dumps(single))
        started.append(finding.id)
    count("SecurityHubFindingsStarted", len(started))
    logger.info("intake", extra={"started": len(started), "dropped": len(dropped), "kind": parsed.kind})
    return {"started": started, "dropped": dropped}
