"""The default mode as `make run` starts it, in a browser: a logged activity answers at once and
the worker's recompute, not the request, changes the account's engagement score.

Runs against the `embedded_stack` fixture (tests/conftest.py): web server, Celery worker and beat
on the filesystem broker and a seeded SQLite demo, with no eager tasks anywhere.
"""

import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "demo1234"  # abm/seeding.py gives every demo user this one (README)
NOTE = "Met the CFO about the rollout; budget approved for Q3."


def quiet_account(stack) -> tuple[int, str]:
    """The least engaged account with no meeting today, so a meeting now must raise its score."""
    rows = stack.query(
        """
        SELECT a.id, a.name FROM accounts_account a
        WHERE NOT EXISTS (
            SELECT 1 FROM playbooks_activity v
            WHERE v.account_id = a.id AND v.kind = 'meeting'
              AND date(v.occurred_at) >= date('now', '-1 day'))
        ORDER BY a.engagement_score, a.id LIMIT 1
        """
    )
    assert rows, "the seeded demo has no account to log on"
    return rows[0]


def engagement_score(page) -> float:
    tile = page.locator(".kpi").filter(
        has=page.locator(".kpi-label", has_text=re.compile("^Engagement$"))
    )
    return float(tile.locator(".kpi-value").inner_text().split()[0])


def test_a_logged_meeting_answers_at_once_and_the_worker_raises_the_score(
    page, embedded_stack, login, screenshot, console_errors
):
    account_id, name = quiet_account(embedded_stack)
    login(page, embedded_stack, "marketer", DEMO_PASSWORD)
    page.goto(f"{embedded_stack.url}/accounts/{account_id}/")
    before = engagement_score(page)

    page.get_by_label("What happened").select_option("meeting")
    page.get_by_label("Notes").fill(NOTE)
    began = time.monotonic()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Log it").click()
    page.wait_for_load_state("domcontentloaded")
    round_trip = time.monotonic() - began
    timing = posted.value.request.timing
    server_ms = timing["responseStart"] - timing["requestStart"]

    # The request only writes and queues: the recompute runs later on the worker.
    assert posted.value.status == 302
    assert server_ms < 2000, f"the POST took {server_ms:.0f} ms"
    assert round_trip < 4, f"POST, redirect and account page took {round_trip:.1f} s"
    expect(page.get_by_text(f"logged on {name}")).to_be_visible()
    expect(page.get_by_test_id("activities-table").get_by_text(NOTE)).to_be_visible()
    assert engagement_score(page) == before  # not recomputed inside the request
    screenshot(page, "embedded_default_meeting_logged")

    page.goto(f"{embedded_stack.url}/metrics/marketer/")
    expect(page.get_by_role("heading", name="Playbook dashboard")).to_be_visible()
    screenshot(page, "embedded_default_marketer_dashboard")

    # The debounced run (2 s here) goes through the filesystem broker to the worker.
    deadline = time.monotonic() + 60
    page.goto(f"{embedded_stack.url}/accounts/{account_id}/")
    while engagement_score(page) == before and time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        page.reload()
    after = engagement_score(page)
    assert after > before, f"the engagement score stayed at {before} for 60 s"
    assert after - before == pytest.approx(20, abs=1)  # one meeting: 20 points, not yet decayed
    screenshot(page, "embedded_default_score_updated")
    assert console_errors == []
