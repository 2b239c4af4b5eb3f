"""API tokens in a real browser: create one, copy it, send an activity with it, revoke it."""

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from accounts.models import Account

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _own_throttle_cache(settings, request):
    settings.CACHES = {
        **settings.CACHES,
        "api_throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-{request.node.nodeid}",
        },
    }


@pytest.fixture
def acme(alice):
    return Account.objects.create(
        name="Acme Robotics", domain="acmerobotics.com", external_id="001A", tier=1, owner=alice
    )


def send(live_server, token: str, items: list) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{live_server.url}/api/activities/batch/",
        data=json.dumps({"activities": items}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def webinar(external_id: str) -> dict:
    return {
        "external_id": external_id,
        "account": "acmerobotics.com",
        "channel": "webinar",
        "kind": "webinar_attended",
        "occurred_at": "2025-03-04T16:00:00Z",
        "notes": "Attended the Q1 automation webinar",
    }


def test_a_rep_creates_a_token_copies_it_and_the_api_call_shows_on_the_account(
    page, live_server, login, screenshot, acme, console_errors
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    login(page, live_server, "alice")
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()
    expect(page.get_by_test_id("tokens-empty")).to_be_visible()
    screenshot(page, "tokens_empty")

    page.get_by_label("Name").fill("Web events")
    page.get_by_label("Expires after").select_option(label="30 days")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_load_state("domcontentloaded")
    new_token = page.get_by_test_id("new-token")
    expect(new_token.get_by_text("only time the token is shown")).to_be_visible()
    page.get_by_role("button", name="Copy").click()
    # The clipboard write is asynchronous: wait for the button to say so.
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    token = page.evaluate("navigator.clipboard.readText()")
    assert token == page.get_by_test_id("token-value").input_value()
    assert token.startswith("abm_")
    screenshot(page, "tokens_created")

    status, result = send(live_server, token, [webinar("wbn-2025-03-04-17")])

    assert status == 200
    assert result["items"] == [
        {"index": 0, "external_id": "wbn-2025-03-04-17", "status": "created"}
    ]
    page.goto(f"{live_server.url}/accounts/{acme.pk}/")
    activities = page.get_by_test_id("activities-table")
    expect(activities.get_by_text("Attended the Q1 automation webinar")).to_be_visible()
    expect(activities.get_by_text("Webinar attended")).to_be_visible()
    page.goto(f"{live_server.url}/settings/tokens/")
    assert token not in page.content()
    row = page.get_by_test_id("token-row")
    expect(row.get_by_text("Web events")).to_be_visible()
    expect(row.get_by_text("Active")).to_be_visible()
    assert "Never" not in row.inner_text()  # last used was just recorded
    assert console_errors == []


def test_a_revoked_token_stops_working_and_a_blank_name_is_explained(
    page, live_server, login, screenshot, acme
):
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/settings/tokens/")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_load_state("domcontentloaded")
    name = page.get_by_label("Name")
    assert name.get_attribute("aria-invalid") == "true"
    expect(page.get_by_text("This field is required.")).to_be_visible()
    screenshot(page, "tokens_form_error")

    name.fill("CRM sync")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_load_state("domcontentloaded")
    token = page.get_by_test_id("token-value").input_value()
    assert send(live_server, token, [webinar("wbn-1")])[0] == 200

    page.get_by_role("button", name="Revoke CRM sync").click()
    page.wait_for_load_state("domcontentloaded")

    expect(page.get_by_text("Revoked “CRM sync”.")).to_be_visible()
    expect(page.get_by_test_id("token-row").get_by_text("Revoked")).to_be_visible()
    status, result = send(live_server, token, [webinar("wbn-2")])
    assert status == 401
    assert result["error"]["code"] == "token_revoked"
    screenshot(page, "tokens_revoked")
