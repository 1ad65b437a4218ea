"""Drive the containment steps for any resource kind directly, as the workflow's handlers do."""

from __future__ import annotations

import json

from responder.adapters.aws import client
from responder.adapters.gateways import AwsGateways
from responder.adapters.incidents import STATUS_INDEX, IncidentStore
from responder.domain import kinds
from responder.domain.recorder import Recorder
from responder.models.common import ResourceType
from responder.models.incident import FindingSummary, Incident, RestoreOptions, Status
from responder.models.preferences import Decision, Mode, OnTimeout, RuleActions
from responder.models.resource import ResourceRef

ACCOUNT = "123456789012"
REGION = "us-east-1"
SETTINGS = kinds.Settings(
    deny_all_policy_name="ContainmentResponder-deny-all",
    exempt_principals=[f"arn:aws:iam::{ACCOUNT}:role/ContainmentResponder-*"],
)
GATEWAYS = AwsGateways()
DENY_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})


def create_deny_all_policy(iam) -> str:
    return iam.create_policy(PolicyName=SETTINGS.deny_all_policy_name, PolicyDocument=DENY_ALL)["Policy"]["Arn"]


def decision(**actions) -> Decision:
    return Decision(
        mode=Mode.AUTO,
        on_timeout=OnTimeout.EXPIRE,
        rule_id="test",
        reason="test",
        actions=RuleActions.model_validate(actions),
    )


def incident(
    kind: ResourceType, ident: str, *, access_key: str | None = None, remote_ip: str | None = None
) -> Incident:
    return Incident(
        incident_id=f"inc-test-{ident[:20]}",
        status=Status.NEW,
        resource=ResourceRef(type=kind, id=ident, account=ACCOUNT, region=REGION),
        findings={
            "f1": FindingSummary(
                id="f1", type="Test:IAMUser/Test", severity=8.0, access_key_id=access_key, remote_ip=remote_ip
            )
        },
    )


def plan_and_record(inc: Incident, dec: Decision) -> Incident:
    plan = kinds.plan(GATEWAYS, inc, dec, SETTINGS)
    inc.decision = dec
    inc.plan = plan.actions
    inc.impact = plan.impact
    inc.pre_state = plan.pre_state
    inc.waf = plan.waf
    inc.status = Status.CONTAINING
    return inc


def contain(inc: Incident) -> Recorder:
    assert inc.decision is not None
    rec = Recorder()
    try:
        kinds.contain(GATEWAYS, inc, inc.decision, SETTINGS, rec)
    finally:
        rec.flush_into(inc)
    return rec


def verify(inc: Incident) -> list[str]:
    assert inc.decision is not None
    return kinds.verify(GATEWAYS, inc, inc.decision, SETTINGS)


def restore(inc: Incident, options: RestoreOptions | None = None, waf_still_needed: bool = False) -> list[str]:
    options = options or RestoreOptions()
    rec = Recorder()
    report = kinds.restore(GATEWAYS, inc, SETTINGS, options, waf_still_needed, rec)
    rec.flush_into(inc)
    return report


def verify_restored(inc: Incident, options: RestoreOptions | None = None) -> list[str]:
    return kinds.verify_restored(GATEWAYS, inc, SETTINGS, options or RestoreOptions())


def current(inc: Incident):
    """The resource's state now, in pre-state form (None when it is still contained)."""
    return kinds.capture(GATEWAYS, inc, SETTINGS)


def incident_store(table: str = "incidents") -> IncidentStore:
    """An incidents table in the emulator, shaped as the stack's (its status index included)."""
    ddb = client("dynamodb", REGION)
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "incident_status", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": STATUS_INDEX,
                "KeySchema": [
                    {"AttributeName": "incident_status", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return IncidentStore(table, ddb)
