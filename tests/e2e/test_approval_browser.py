"""The approval page in a real headless browser: Debian's Chromium, driven by Playwright."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.victims import make_instance

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


def _pending(sandbox, tmp_path, instance_id: str) -> tuple[dict, dict]:
    event_file = tmp_path / "finding.json"
    event_file.write_text(
        sandbox.cli("findings", "sample", "Backdoor:EC2/C&CActivity.B", "--resource", instance_id).stdout
    )
    sandbox.cli("findings", "send", str(event_file))
    # The approval email goes out after the incident is recorded as PENDING_APPROVAL: wait for both.
    email = sandbox.wait_email(f"[APPROVAL NEEDED] Backdoor:EC2/C&CActivity.B on {instance_id}")
    incident = sandbox.wait_incident(lambda i: i["resource"]["id"] == instance_id and i["status"] == "PENDING_APPROVAL")
    return incident, email


def test_emailed_link_opens_the_page_and_approve_contains(sandbox, browser, tmp_path):
    victim = make_instance(sandbox.client("ec2"), enis=2)
    incident, email = _pending(sandbox, tmp_path, victim.instance_id)
    page = browser.new_page()

    response = page.goto(email["links"]["approve"])

    assert response is not None and response.status == 200
    assert incident["incident_id"] in page.inner_text("#incident-id")
    assert "Backdoor:EC2/C&CActivity.B" in page.inner_text("#findings")
    actions = page.inner_text("#actions")
    for eni in victim.enis:
        assert eni in actions
    assert "isolation group" in actions and "termination protection" in actions
    assert victim.instance_id in page.inner_text("#impact")
    page.screenshot(path=str(tmp_path / "approval-page.png"), full_page=True)
    # Loading the page decided nothing.
    assert sandbox.cli_json("incidents", "show", incident["incident_id"])["status"] == "PENDING_APPROVAL"

    page.fill("#name", "Browser Analyst")
    page.click("#approve")
    page.wait_for_selector("#message")

    assert "approved by Browser Analyst" in page.inner_text("#message")
    final = sandbox.wait_incident(lambda i: i["incident_id"] == incident["incident_id"] and i["status"] == "CONTAINED")
    assert final["approval"]["decided_by"] == "Browser Analyst"
    assert final["approval"]["user_agent"] and "Chrome" in final["approval"]["user_agent"]
    # Going back and pressing the button again decides nothing.
    page.goto(email["links"]["approve"])
    assert "Already decided" in page.inner_text("h1")
    page.close()


def test_the_page_requires_a_name_before_deciding(sandbox, browser, tmp_path):
    victim = make_instance(sandbox.client("ec2"), enis=1)
    incident, email = _pending(sandbox, tmp_path, victim.instance_id)
    page = browser.new_page()
    page.goto(email["links"]["reject"])

    page.click("#reject")  # the browser refuses: the name field is required

    assert page.url.startswith(email["links"]["reject"].split("?")[0])
    assert page.locator("#decision-form").is_visible()
    assert sandbox.cli_json("incidents", "show", incident["incident_id"])["status"] == "PENDING_APPROVAL"
    page.fill("#name", "Careful Reviewer")
    page.click("#reject")
    page.wait_for_selector("#message")
    assert "rejected by Careful Reviewer" in page.inner_text("#message")
    sandbox.wait_incident(lambda i: i["incident_id"] == incident["incident_id"] and i["status"] == "REJECTED")
    page.close()
