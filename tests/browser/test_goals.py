"""A director sets a SMART pipeline goal for tier-1 accounts and follows its progress."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account, Opportunity
from goals.models import Goal
from metrics.engine.runner import recompute_all
from tests.goals.goal_books import playbook_book, win_rate_book

pytestmark = pytest.mark.browser

TODAY = timezone.localdate()
START = TODAY - dt.timedelta(days=30)
END = START + dt.timedelta(days=89)


@pytest.fixture
def book(alice, bob, diana):
    acme = Account.objects.create(name="Acme Robotics", domain="acme.com", tier=1, owner=alice)
    globex = Account.objects.create(name="Globex", domain="globex.com", tier=2, owner=bob)
    now = timezone.now()
    for account, amount, days_ago in [
        (acme, 120_000, 70),  # the previous period: the baseline
        (globex, 500_000, 10),  # tier 2: outside the goal
    ]:
        Opportunity.objects.create(
            account=account,
            name=f"{account.name} deal",
            amount=Decimal(amount),
            created_at=now - dt.timedelta(days=days_ago),
        )
    return {"acme": acme}


def test_a_director_sets_a_smart_pipeline_goal_and_sees_its_progress(
    page, live_server, login, screenshot, book, console_errors
):
    login(page, live_server, "diana")
    page.goto(f"{live_server.url}/metrics/goals/")
    page.get_by_role("link", name="Create the first goal").click()

    form = page.get_by_test_id("goal-form")
    smart = page.get_by_test_id("smart-check")
    expect(smart.get_by_text("Not SMART yet")).to_be_visible()
    form.get_by_label("Goal", exact=True).fill("Write three blog posts")
    expect(page.get_by_test_id("smart-measurable")).to_contain_text("reads like a task")
    form.get_by_label("Goal", exact=True).fill("Tier 1 pipeline this quarter")
    form.get_by_label("Outcome metric").select_option("pipeline_created")
    form.get_by_label("Team").select_option("sales")
    form.get_by_label("Owner").select_option(label="Diana (Director)")
    form.get_by_label("Tier 1 (1:1)").check()
    form.get_by_label("Start date").fill(START.isoformat())
    form.get_by_label("End date").fill(END.isoformat())
    form.get_by_label("Target").fill("240000")
    expect(page.get_by_test_id("baseline")).to_contain_text("$120,000")
    form.locator("input[name='milestones-0-date']").fill(
        (START + dt.timedelta(days=44)).isoformat()
    )
    form.locator("input[name='milestones-0-value']").fill("100000")
    form.get_by_role("button", name="Add milestone").click()
    form.locator("input[name='milestones-1-date']").fill(
        (START + dt.timedelta(days=74)).isoformat()
    )
    form.locator("input[name='milestones-1-value']").fill("180000")

    expect(smart.locator(".chip")).to_have_text("SMART")
    for rule in ("specific", "measurable", "attainable", "relevant", "timely"):
        expect(page.get_by_test_id(f"smart-{rule}")).to_have_class("smart-item is-ok")
    expect(page.get_by_test_id("smart-attainable")).to_contain_text("2.0x the baseline pace")
    screenshot(page, "goal_form_smart")

    form.get_by_role("button", name="Create goal").click()
    expect(page.get_by_role("heading", name="Tier 1 pipeline this quarter")).to_be_visible()
    goal = Goal.objects.get()
    assert goal.milestones.count() == 2

    # A tier-1 deal arrives; the next recompute measures it.
    Opportunity.objects.create(
        account=book["acme"],
        name="Acme expansion",
        amount=Decimal(90_000),
        created_at=timezone.now() - dt.timedelta(days=5),
    )
    recompute_all()
    page.reload()

    expect(page.get_by_test_id("goal-current")).to_have_text("$90,000")
    expect(page.get_by_test_id("goal-status")).to_be_visible()
    expect(page.get_by_test_id("burnup-chart").locator(".main-svg").first).to_be_visible()
    screenshot(page, "goal_detail")

    page.get_by_role("link", name="Goals", exact=True).first.click()
    row = page.get_by_test_id("goal-row")
    expect(row).to_contain_text("Tier 1 pipeline this quarter")
    expect(row).to_contain_text("$90,000")
    screenshot(page, "goal_list")
    assert console_errors == []


def test_a_task_like_goal_is_refused_inline_with_the_difference_explained(
    page, live_server, login, screenshot, maria, console_errors
):
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/metrics/goals/new/")
    form = page.get_by_test_id("goal-form")
    form.get_by_label("Goal", exact=True).fill("Write three blog posts")
    form.get_by_label("Target").fill("3")

    form.get_by_role("button", name="Create goal").click()

    expect(form.locator("#id_name_error")).to_contain_text("reads like a task, not a goal")
    expect(form.locator("#id_name_error")).to_contain_text("a goal is the result that work")
    expect(form.locator("#id_metric_error")).to_contain_text("choose a metric")
    expect(page.get_by_test_id("smart-timely")).to_have_class("smart-item is-error")
    screenshot(page, "goal_form_errors")
    assert not Goal.objects.exists()
    assert console_errors == []


def test_the_stricter_smart_rules_say_why_beside_the_field(
    page, live_server, login, screenshot, diana, console_errors
):
    win_rate_book()  # 70 % won in the previous period
    playbook_book()  # 8 accounts, best period on record $120,000
    login(page, live_server, "diana")
    page.goto(f"{live_server.url}/metrics/goals/new/")
    form = page.get_by_test_id("goal-form")
    form.get_by_label("Goal", exact=True).fill("Tier 1 win rate")
    form.get_by_label("Outcome metric").select_option("win_rate")
    form.get_by_label("Team").select_option("sales")
    form.get_by_label("Owner").select_option(label="Diana (Director)")
    form.get_by_label("Tier 1 (1:1)").check()
    form.get_by_label("Start date").fill(START.isoformat())
    form.get_by_label("End date").fill(END.isoformat())
    form.get_by_label("Target").fill("35")

    reason = form.locator("#id_target_check_attainable")
    expect(reason).to_contain_text("A target of 35.0% is no improvement on the baseline, 70.0%")
    expect(reason).to_have_class("field-check is-error")

    form.get_by_label("Start date").fill("2025-01-01")
    form.get_by_label("End date").fill("2025-03-31")
    expect(form.locator("#id_end_date_check_timely")).to_contain_text("a report, not a goal")
    screenshot(page, "goal_form_live_reasons")

    form.get_by_role("button", name="Create goal").click()
    expect(form.locator("#id_end_date_error")).to_contain_text("a report, not a goal")
    assert not Goal.objects.exists()

    form.get_by_label("Start date").fill(START.isoformat())
    form.get_by_label("End date").fill(END.isoformat())
    form.get_by_label("Outcome metric").select_option("pipeline_created")
    form.get_by_label("Tier 1 (1:1)").uncheck()
    form.get_by_label("Playbook").select_option(label="Eight accounts")
    form.get_by_label("Target").fill("500000000")
    warning = form.locator("#id_target_check_attainable")
    expect(warning).to_contain_text("the best equal period on record ($120,000")
    expect(warning).to_have_class("field-check is-warning is-strong")
    expect(page.get_by_test_id("smart-check").get_by_text("SMART, with warnings")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    warning.scroll_into_view_if_needed()
    screenshot(page, "goal_form_record_warning_390")
    assert console_errors == []
