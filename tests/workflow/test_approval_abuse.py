"""Approval-link abuse: every attempt gets a 4xx or a harmless page; the token and the workflow are untouched."""

from __future__ import annotations

import base64
import re
import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from responder_cli.samples import ec2_finding
from responder_cli.sandbox.apigw import proxy_event
from tests.support.victims import make_instance

BRUTE = "UnauthorizedAccess:EC2/SSHBruteForce"


def _pending(responder):
    ec2 = responder.session.client("ec2")
    victim = make_instance(ec2, enis=1)
    execution = responder.start(ec2_finding(BRUTE, instance_id=victim.instance_id, severity=8.0))
    email = responder.wait_for_email(f"[APPROVAL NEEDED] {BRUTE} on {victim.instance_id}")
    incident = next(i for i in responder.incidents() if i.resource.id == victim.instance_id)
    return execution, email, responder.wait_for_status(incident.incident_id, "PENDING_APPROVAL")


def _form(responder, link: str) -> dict[str, str]:
    status, page = responder.http("GET", link)
    assert status == 200, page
    return dict(re.findall(r'<input type=hidden name=(\w+) value="([^"]*)"', page))


def _with(link: str, **changes: str) -> str:
    url = urlparse(link)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    query.update(changes)
    return url._replace(query=urlencode(query)).geturl()


def _untouched(responder, incident, execution) -> None:
    assert responder.store.get(incident.incident_id).status.value == "PENDING_APPROVAL"
    assert responder.sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    approval = responder.store.get_approval(incident.approval.approval_id)
    assert approval is not None and approval.status == "PENDING"


def test_link_abuse_is_refused_and_changes_nothing(responder):
    execution, email, incident = _pending(responder)
    link = email.link("Approve")
    post = link.split("?")[0]
    fields = _form(responder, link)

    attempts = {
        "forged signature": ("GET", _with(link, sig="0" * 64), None, 403),
        "tampered incident id": ("GET", _with(link, incident="inc-20990101T000000-deadbeef"), None, 403),
        "expired link": ("GET", _with(link, exp=str(int(time.time()) - 60)), None, 403),
        "malformed expiry": ("GET", _with(link, exp="tomorrow"), None, 400),
        "POST with a forged signature": ("POST", post, {**fields, "sig": "f" * 64, "name": "Eve", "decision": "approve"}, 403),
        "POST without the form nonce": ("POST", post, {k: v for k, v in fields.items() if k != "nonce"} | {"name": "Eve", "decision": "approve"}, 403),
        "POST with another nonce": ("POST", post, {**fields, "nonce": "x" * 32, "name": "Eve", "decision": "approve"}, 403),
        "POST without a name": ("POST", post, {**fields, "name": "  ", "decision": "approve"}, 400),
        "POST with an unknown decision": ("POST", post, {**fields, "name": "Eve", "decision": "maybe"}, 400),
        "unknown approval id": ("POST", post.rsplit("/", 1)[0] + "/nope", {**fields, "name": "Eve", "decision": "approve"}, 403),
        "reject under the Approve link's signature": ("POST", post, {**fields, "name": "Eve", "decision": "reject"}, 403),
        "GET of a link whose decision was changed": ("GET", _with(link, decision="reject"), None, 403),
    }  # fmt: skip
    for label, (method, url, form, expected) in attempts.items():
        status, _ = responder.http(method, url, form)
        assert status == expected, label
        _untouched(responder, incident, execution)

    # A GET never decides, whatever it carries.
    status, _ = responder.http("GET", _with(link, decision="approve", name="Robot", nonce=fields["nonce"]))
    assert status == 200
    _untouched(responder, incident, execution)
    # A form post in another encoding is refused.
    status, _ = responder.http(
        "POST", post, {**fields, "name": "Eve", "decision": "approve"}, content_type="text/plain"
    )
    assert status == 415
    _untouched(responder, incident, execution)

    # Reject (through the Reject link), then every later attempt (replay, approve after reject) is a 409.
    reject_fields = _form(responder, email.link("Reject"))
    assert reject_fields["decision"] == "reject" and reject_fields["sig"] != fields["sig"]
    assert responder.http("POST", post, {**reject_fields, "name": "Bob"})[0] == 200
    assert responder.http("POST", post, {**fields, "name": "Bob", "decision": "approve"})[0] == 409
    assert responder.http("GET", link)[0] == 409
    assert responder.wait(execution)["status"] == "SUCCEEDED"
    assert responder.store.get(incident.incident_id).status.value == "REJECTED"


def test_a_link_of_one_incident_cannot_decide_another(responder):
    exec_a, email_a, incident_a = _pending(responder)
    exec_b, email_b, incident_b = _pending(responder)
    fields_a = _form(responder, email_a.link("Approve"))
    post_b = email_b.link("Approve").split("?")[0]

    # A's signed fields with B's approval id: the signature covers the approval id, so it fails.
    status, _ = responder.http("POST", post_b, {**fields_a, "name": "Eve", "decision": "approve"})
    assert status == 403
    status, _ = responder.http("GET", _with(email_a.link("Approve"), incident=incident_b.incident_id))
    assert status == 403
    _untouched(responder, incident_a, exec_a)
    _untouched(responder, incident_b, exec_b)
    for email, execution in ((email_a, exec_a), (email_b, exec_b)):
        fields = _form(responder, email.link("Reject"))
        assert responder.http("POST", email.link("Reject").split("?")[0], {**fields, "name": "Ops"})[0] == 200
        responder.wait(execution)


@pytest.mark.parametrize("deliveries", [2, 5])
def test_one_finding_delivered_concurrently_gives_one_incident_and_one_containment(responder, deliveries):
    from responder.adapters.preferences import PreferenceStore
    from responder.models.preferences import Mode, Rule

    PreferenceStore(responder.stack.outputs["PreferencesTable"], responder.session.client("dynamodb")).put(
        Rule(id="auto", priority=0, mode=Mode.AUTO)
    )
    victim = make_instance(responder.session.client("ec2"), enis=2)
    event = ec2_finding("Backdoor:EC2/C&CActivity.B", instance_id=victim.instance_id)
    other = ec2_finding("Trojan:EC2/DropPoint", instance_id=victim.instance_id)  # a different finding, same moment
    executions = [responder.start(event) for _ in range(deliveries)] + [responder.start(other)]

    results = [responder.wait(e)["status"] for e in executions]

    assert results == ["SUCCEEDED"] * (deliveries + 1)
    incidents = [i for i in responder.incidents() if i.resource.id == victim.instance_id]
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.status.value == "CONTAINED"
    assert set(incident.findings) == {event["detail"]["id"], other["detail"]["id"]}
    assert incident.delivery_count == 2  # the same event counted once, however often it arrived
    swaps = [a for a in incident.actions if a.action == "eni_isolation_group" and a.status.value == "applied"]
    assert len(swaps) == 2  # one per ENI: one containment


def test_the_api_edge_refuses_what_it_does_not_serve_and_reads_base64_forms(responder):
    execution, email, incident = _pending(responder)
    link = email.link("Approve")
    post = link.split("?")[0]
    _form(responder, link)  # the page opens (a GET decides nothing)
    approval_id = post.rsplit("/", 1)[-1]

    def raw(event: object) -> tuple[int, dict[str, str], str]:
        response, errored = responder.invoke("ApprovalHandler", event)
        assert not errored, response
        return int(response["statusCode"]), response["headers"], str(response["body"])

    def event(method: str, body: str | None = None, **extra: object) -> dict[str, object]:
        base = proxy_event(
            method,
            f"/approvals/{approval_id}",
            resource="/approvals/{approval_id}",
            path_parameters={"approval_id": approval_id},
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        return base | {"body": body} | extra

    for bad in ({}, {"httpMethod": "GET"}, ["not", "an", "event"], {"resource": 5, "httpMethod": "POST"}):
        status, headers, _ = raw(bad)
        assert status == 400, bad
        assert headers["Cache-Control"] == "no-store"
    assert raw(event("PUT"))[0] == 405
    assert raw(event("DELETE"))[1]["Allow"] == "GET, POST"
    assert raw(event("GET", resource="/admin/{approval_id}"))[0] == 404
    assert raw(event("GET", pathParameters=None))[0] == 404
    assert raw(event("POST", body="%%%not-base64", isBase64Encoded=True))[0] == 400
    _untouched(responder, incident, execution)

    # A form API Gateway hands over base64-encoded is read like a plain one; the header name's case
    # does not matter.
    form = urlencode({**_form(responder, email.link("Reject")), "name": "Bob"}).encode()
    encoded = event("POST", body=base64.b64encode(form).decode(), isBase64Encoded=True)
    encoded["headers"] = {"CONTENT-TYPE": "application/x-www-form-urlencoded; charset=UTF-8"}
    status, _, page = raw(encoded)
    assert status == 200, page
    assert "rejected by Bob" in page
    assert responder.wait(execution)["status"] == "SUCCEEDED"
