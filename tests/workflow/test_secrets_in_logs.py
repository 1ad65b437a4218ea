"""The task token, the HMAC key and access-key secrets never appear in logs or incident records."""

from __future__ import annotations

import json
import logging

from responder_cli.samples import access_key_finding, ec2_finding
from tests.support.victims import make_instance
from tests.workflow.test_containment_workflow import _approve


def test_no_secret_reaches_a_log_or_an_incident_record(responder, capfd, caplog):
    caplog.set_level(logging.INFO)  # what the functions log at: POWERTOOLS_LOG_LEVEL=INFO
    ec2 = responder.session.client("ec2")
    iam = responder.session.client("iam")
    victim = make_instance(ec2, enis=1)
    iam.create_user(UserName="leaky")
    key = iam.create_access_key(UserName="leaky")["AccessKey"]

    first = responder.start(ec2_finding("Backdoor:EC2/C&CActivity.B", instance_id=victim.instance_id))
    email = responder.wait_for_email("[APPROVAL NEEDED] Backdoor")
    incident = next(i for i in responder.incidents() if i.resource.id == victim.instance_id)
    incident = responder.wait_for_status(incident.incident_id, "PENDING_APPROVAL")
    token = responder.store.get_approval(incident.approval.approval_id).task_token
    assert _approve(responder, email)[0] == 200
    assert responder.wait(first)["status"] == "SUCCEEDED"
    second = responder.start(
        access_key_finding(
            "CredentialAccess:IAMUser/AnomalousBehavior", user="leaky", access_key_id=key["AccessKeyId"], severity=8
        )
    )
    assert responder.wait(second)["status"] == "SUCCEEDED"

    secret_arn = next(
        s["ARN"]
        for s in responder.session.client("secretsmanager").list_secrets()["SecretList"]
        if "Signing" in s["Name"]
    )
    hmac_key = responder.session.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    out, err = capfd.readouterr()
    logs = (
        out
        + err
        + "\n".join(r.getMessage() + json.dumps(getattr(r, "__dict__", {}), default=str) for r in caplog.records)
    )
    records = json.dumps([i.model_dump(mode="json") for i in responder.incidents()])
    emails = "\n".join(e.body for e in responder.emails())

    assert len(token) > 20 and len(hmac_key) >= 32
    assert "approval requested" in logs  # the logs were captured
    for secret, what in ((token, "task token"), (hmac_key, "HMAC key"), (key["SecretAccessKey"], "access-key secret")):
        assert secret not in logs, f"{what} in the logs"
        assert secret not in records, f"{what} in an incident record"
        assert secret not in emails, f"{what} in an email"
