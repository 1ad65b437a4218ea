"""The facts a person deciding needs (issue 15, item 9): on the approval page, in the emails and on the result
and refusal pages, rendered from the incident model, untrusted values escaped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from responder.domain import facts, messages
from responder.domain.approval import LinkError, SignedLink, confirm_page
from responder.domain.approval_api import _error
from responder.models.common import ResourceType
from responder.models.incident import ApprovalRecord, FindingSummary, Incident, PlannedAction, Status
from responder.models.preferences import Decision, Mode, OnTimeout
from responder.models.resource import ResourceRef


def _incident(status: Status = Status.PENDING_APPROVAL, on_timeout: OnTimeout = OnTimeout.EXPIRE) -> Incident:
    return Incident(
        incident_id="inc-20261123T010203-abcd1234",
        status=status,
        resource=ResourceRef(
            type=ResourceType.EC2_INSTANCE, id="i-0abc12345678", account="123456789012", region="eu-west-1"
        ),
        findings={
            "f1": FindingSummary(
                id="5ab1c2d3",
                type="Backdoor:EC2/C&CActivity.B",
                severity=8.0,
                remote_ip="198.51.100.23",
                first_seen=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
                last_seen=datetime(2026, 11, 23, 1, 5, tzinfo=UTC),
                count=3,
            )
        },
        resource_tags={"Name": "payments-api-7", "team": "payments"},
        decision=Decision(mode=Mode.APPROVE, on_timeout=on_timeout, rule_id="ec2-high-approve", reason="r"),
        plan=[PlannedAction(action="isolate", target="eni-1", description="Move eni-1 to the isolation group")],
    )


@pytest.mark.parametrize(("severity", "label"), [(1.0, "Low"), (3.9, "Low"), (4.0, "Medium"), (7.0, "High"),
                                                 (8.9, "High"), (9.0, "Critical")])  # fmt: skip
def test_severity_labels_follow_guardduty(severity, label):
    assert facts.severity_label(severity) == label


def test_the_confirm_page_carries_the_facts():
    link = SignedLink("ap1", "inc-20261123T010203-abcd1234", "approve", 1_900_000_000, "sig")
    switch = SignedLink("ap1", "inc-20261123T010203-abcd1234", "reject", 1_900_000_000, "sig2")
    page = confirm_page(_incident(), link, "nonce", "2026-11-24 01:00 UTC", switch)
    assert "payments-api-7" in page and "team=payments" in page
    assert "High (8.0)" in page and "198.51.100.23" in page
    assert "first seen 2026-11-23 01:00 UTC, last seen 2026-11-23 01:05 UTC, 3 times" in page
    assert "All network traffic to and from this instance will be cut" in page
    assert "If nobody decides by 2026-11-24 01:00 UTC, the request expires and nothing is changed." in page
    assert "https://console.aws.amazon.com/guardduty/home?region=eu-west-1#/findings?search=id%3D5ab1c2d3" in page


def test_the_approval_email_says_the_effect_and_the_timeout_and_the_severity():
    body = messages.approval_request(_incident(on_timeout=OnTimeout.CONTAIN), "A", "R", "tomorrow").body
    assert "All network traffic to and from this instance will be cut" in body
    assert "contained anyway (the rule says on_timeout: contain)" in body
    assert "severity High (8.0)" in body


def test_a_notify_only_email_says_what_would_have_been_done():
    incident = _incident(Status.NOTIFIED)
    body = messages.outcome(incident).body
    assert "What containment would have done (nothing was changed):" in body and "Planned actions" not in body


def test_the_contained_email_says_who_decided():
    incident = _incident(Status.CONTAINED)
    incident.approval = ApprovalRecord(approval_id="ap1", requested_at=datetime.now(UTC),
                                       expires_at=datetime.now(UTC), decision="approved",
                                       decided_by="Alice Analyst", via="link")  # fmt: skip
    assert "Approved by Alice Analyst through the approval link." in messages.outcome(incident).body
    incident.approval = None
    assert "the preference rule ec2-high-approve says auto" in messages.outcome(incident).body


def test_refusal_pages_name_the_incident_and_the_next_step():
    page = _error(LinkError(410, "This link has expired."), "inc-20261123T010203-abcd1234").html
    assert "The link names incident inc-20261123T010203-abcd1234." in page
    assert "responder incidents show inc-20261123T010203-abcd1234" in page
    forged = _error(LinkError(403, "Bad signature."), "<script>").html
    assert "<script>" not in forged and "responder incidents show ID" in forged
