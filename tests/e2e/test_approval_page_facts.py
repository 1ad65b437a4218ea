"""What the approval page tells a person at 3 a.m., in Chromium: the instance's Name tag, a severity label, the
effect in one sentence and what happens if nobody decides; a screenshot is kept for review."""

from __future__ import annotations

import pytest

from tests.e2e.test_approval_browser import _pending, browser  # noqa: F401 (the browser fixture)
from tests.support.victims import make_instance

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_the_page_shows_the_name_tag_the_severity_label_and_the_effect(sandbox, browser, tmp_path):  # noqa: F811
    victim = make_instance(sandbox.client("ec2"), enis=1, tags={"Name": "payments-api-7", "team": "payments"})
    _incident, email = _pending(sandbox, tmp_path, victim.instance_id)
    page = browser.new_page()

    response = page.goto(email["links"]["approve"])

    assert response is not None and response.status == 200
    assert "payments-api-7" in page.inner_text("h1") and "payments-api-7" in page.inner_text("#resource-name")
    assert "team=payments" in page.inner_text("#resource-tags")
    assert page.inner_text("#findings .severity").startswith("High")
    assert "All network traffic to and from this instance will be cut" in page.inner_text("#effect")
    assert "If nobody decides by" in page.inner_text("#timeout")
    assert "guardduty/home?region=us-east-1#/findings?search=id%3D" in page.inner_html("#findings")
    page.screenshot(path=str(tmp_path / "approval-page-facts.png"), full_page=True)
    page.close()
    assert "All network traffic to and from this instance will be cut" in email["body"]


def test_enter_on_the_reject_page_rejects_and_it_offers_no_approve_button(sandbox, browser, tmp_path):  # noqa: F811
    """Issue 16: each link signs its own decision; the Reject page cannot approve, Enter included."""
    victim = make_instance(sandbox.client("ec2"), enis=1)
    incident, email = _pending(sandbox, tmp_path, victim.instance_id)
    page = browser.new_page()
    page.goto(email["links"]["reject"])

    assert page.locator("#approve").count() == 0 and page.locator("#reject").count() == 1
    assert "Approve instead" in page.inner_text("#switch")
    page.fill("#name", "Night Shift")
    page.press("#name", "Enter")
    page.wait_for_selector("#message")

    assert "rejected by Night Shift" in page.inner_text("#message")
    sandbox.wait_incident(lambda i: i["incident_id"] == incident["incident_id"] and i["status"] == "REJECTED")
    page.close()
