"""Every role's main pages under the Content-Security-Policy in a real browser: nothing refused,
charts drawn, htmx and the API docs working; and the lock-out page after repeated failures."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import Account
from playbooks.models import Playbook, PlaybookStatus

pytestmark = pytest.mark.browser
CSP_WORDS = ("Content Security Policy", "Refused to", "unsafe-inline")


@pytest.fixture
def messages(page):
    """Console errors, page errors and any message about the policy, whatever its level."""
    found: list[str] = []

    def on_console(message):
        if message.type == "error" or any(word in message.text for word in CSP_WORDS):
            found.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


@pytest.fixture
def seeded(transactional_db):
    call_command("seed_demo", "--accounts", "60", "--seed", "9", stdout=io.StringIO())


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.status < 400, url
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")


def chart_traces(page) -> int:
    return page.evaluate("document.querySelector('[data-chart]')?.data?.length ?? 0")


def test_each_roles_pages_run_under_the_policy(
    page, live_server, login, seeded, messages, screenshot
):
    base = live_server.url
    account = Account.objects.order_by("-fit_score").first()
    playbook = (
        Playbook.objects.filter(is_starter=False)
        .exclude(status=PlaybookStatus.ARCHIVED)
        .order_by("id")
        .first()
    )

    login(page, live_server, "marketer", "demo1234")
    for path in ("/accounts/", f"/accounts/{account.pk}/", "/accounts/icp/"):
        visit(page, base + path)
    visit(page, f"{base}/metrics/marketer/")
    assert chart_traces(page) > 0
    # htmx works: adding a step swaps the step form into the builder.
    visit(page, f"{base}/playbooks/{playbook.pk}/")
    page.get_by_test_id("stage").first.get_by_test_id("add-step").click()
    expect(page.get_by_test_id("new-step-form")).to_be_visible()
    screenshot(page, "csp_playbook_builder")
    page.get_by_role("button", name="Log out").click()

    login(page, live_server, "director", "demo1234")
    visit(page, f"{base}/metrics/director/")
    assert chart_traces(page) > 0
    visit(page, f"{base}/metrics/goals/new/")
    # goal_form.js runs: the live SMART check answers once a metric is picked.
    page.get_by_label("Outcome metric", exact=True).select_option("pipeline_created")
    expect(page.get_by_test_id("smart-measurable")).not_to_have_class(re.compile("is-pending"))
    visit(page, f"{base}/settings/audit/")
    expect(page.get_by_role("heading", name=re.compile("Audit", re.I)).first).to_be_visible()
    screenshot(page, "csp_audit_trail")
    page.get_by_role("button", name="Log out").click()

    login(page, live_server, "rep1", "demo1234")
    visit(page, f"{base}/metrics/sales/")
    assert chart_traces(page) > 0
    page.get_by_role("button", name="Log out").click()

    login(page, live_server, "admin", "demo1234")
    visit(page, f"{base}/admin/accounts/account/{account.pk}/change/")
    expect(page.locator("#account_form")).to_be_visible()
    visit(page, f"{base}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Keystone ABM API")
    screenshot(page, "csp_swagger")
    assert messages == [], messages

    visit(page, f"{base}/api/redoc/")
    expect(page.locator("redoc h1").first).to_contain_text("Keystone ABM API")
    # ReDoc's bundle always tries its maker's logo from their CDN; the policy refuses it and the
    # bundle hides the image. That refusal is the policy working, so it is the one allowed.
    assert [m for m in messages if "cdn.redoc.ly" not in m] == []


def test_repeated_failures_show_the_lock_out_page(page, live_server, login, alice, screenshot):
    for _ in range(5):
        login(page, live_server, "alice", "not-the-password")
    login(page, live_server, "alice")

    expect(page.get_by_test_id("locked-out")).to_contain_text("Too many failed sign-ins")
    expect(page.get_by_test_id("locked-out")).to_contain_text("15 minutes")
    screenshot(page, "login_locked_out")
