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

DEMO_PASSWORD = "demo1234"  # demo/seeding.py gives every demo user this one (README)
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
    # While the run is queued or running the dashboard says so, and reloads itself when it ends.
    status = page.locator("#metrics-status")
    expect(status).to_contain_text(re.compile("Queued|Updating figures"))
    screenshot(page, "embedded_default_marketer_dashboard")
    expect(status).to_contain_text("Figures updated", timeout=60_000)

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


PLAYBOOK = "Embedded tier 1 push"


def _add_day_zero_step(page, stage_index: int) -> None:
    page.get_by_test_id("stage").nth(stage_index).get_by_test_id("add-step").click()
    form = page.get_by_test_id("new-step-form")
    expect(form).to_be_visible()
    form.get_by_label("Channel").select_option("email")
    form.get_by_label("Day", exact=True).fill("0")
    form.get_by_label("Done by").select_option("marketing")
    form.get_by_label("Subject").fill(f"Stage {stage_index + 1} note to {{{{ account.name }}}}")
    form.get_by_label("Body").fill("Hi {{ contact.first_name }}, a short note from us.")
    form.get_by_role("button", name="Add step").click()
    expect(page.get_by_test_id("new-step-form")).to_have_count(0)


def test_enrolled_accounts_get_their_tasks_from_the_worker_with_no_other_step(
    page, embedded_stack, login, screenshot, console_errors
):
    login(page, embedded_stack, "marketer", DEMO_PASSWORD)
    page.goto(f"{embedded_stack.url}/playbooks/new/")
    page.get_by_label("Name").fill(PLAYBOOK)
    page.get_by_label("Objective").fill("Open executive conversations at our strategic accounts.")
    page.get_by_label("Tier 1 (1:1)").check()
    page.get_by_role("button", name="Create playbook").click()
    expect(page.get_by_role("heading", name=PLAYBOOK, level=1)).to_be_visible()
    # A day-0 step in every stage: whatever stage an account enters, something is due at once.
    stages = page.get_by_test_id("stage").count()
    for index in range(stages):
        _add_day_zero_step(page, index)
    expect(page.get_by_test_id("readiness")).to_contain_text("Ready to activate")
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_test_id("playbook-status")).to_have_text("Active")

    page.get_by_role("link", name=re.compile("^Enrolments")).click()
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"^Enrol \d+ matching account")).click()
    began = time.monotonic()
    expect(page.get_by_test_id("enrolment").first).to_be_visible()
    (playbook_id,) = embedded_stack.query(
        "SELECT id FROM playbooks_playbook WHERE name = ?", (PLAYBOOK,)
    )[0]
    (active,) = embedded_stack.query(
        "SELECT count(*) FROM playbooks_enrolment WHERE playbook_id = ? AND status = 'active'",
        (playbook_id,),
    )[0]
    assert active > 0, "the demo has tier 1 accounts to enrol"
    # The worker, not the request, creates the tasks; the page says when they are there.
    progress = page.get_by_test_id("run-progress")
    expect(progress).to_have_attribute("data-status", "done", timeout=60_000)
    expect(progress).to_contain_text("Open My tasks")
    count_tasks = """SELECT count(*), count(DISTINCT t.enrolment_id) FROM playbooks_task t
        JOIN playbooks_enrolment e ON e.id = t.enrolment_id WHERE e.playbook_id = ?"""
    embedded_stack.wait_for(
        lambda: embedded_stack.query(count_tasks, (playbook_id,))[0][1] == active,
        60,
        "a task for every enrolled account",
        every=0.5,
    )
    tasks = embedded_stack.query(count_tasks, (playbook_id,))[0]
    screenshot(page, "embedded_default_enrolled")

    page.goto(f"{embedded_stack.url}/playbooks/tasks/?playbook={playbook_id}")
    expect(page.get_by_test_id("task")).to_have_count(min(tasks[0], 50))
    expect(page.get_by_test_id("task").first).to_contain_text("note to")
    print(f"enrol -> tasks visible: {time.monotonic() - began:.1f} s")  # noqa: T201
    screenshot(page, "embedded_default_my_tasks")
    assert console_errors == []
