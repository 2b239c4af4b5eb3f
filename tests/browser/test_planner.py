"""A director plans $2M won from tiers 1-2 for the next two quarters, edits a rate and sees the
plan move, saves it, makes its goals and follows plan vs actual on the dashboard (issue #18)."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from goals.models import Goal, Plan
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(transactional_db):
    call_command("seed_demo", "--accounts", "80", "--seed", "5", stdout=io.StringIO())


def test_a_director_plans_saves_makes_goals_and_tracks_the_plan(
    page, live_server, login, seeded, console_errors, screenshot
):
    login(page, live_server, "director", "demo1234")
    page.goto(f"{live_server.url}/metrics/plans/")
    expect(page.get_by_test_id("plan-empty")).to_contain_text("Start with a target")

    form = page.get_by_test_id("plan-form")
    form.get_by_label("Target ($)").fill("2000000")
    form.get_by_label("Tier 1 (1:1)").check()
    form.get_by_label("Tier 2 (1:few)").check()
    waterfall = page.get_by_test_id("plan-waterfall")
    expect(waterfall).to_be_visible()
    page.wait_for_load_state("networkidle")  # the answer for both tiers, not tier 1's alone
    expect(page.get_by_test_id("plan-budget")).to_contain_text("$")
    expect(page.get_by_test_id("plan-months")).to_be_visible()
    # What each outcome costs on each channel, engaged accounts included.
    costs = page.get_by_test_id("plan-costs")
    expect(costs).to_contain_text("Per engaged account")
    engaged = costs.locator("[data-testid$='-engaged']").filter(has_text="$")
    expect(engaged.first).to_be_visible()
    targets = page.get_by_test_id("need-targeted-value")
    before = targets.inner_text()
    screenshot(page, "planner_1280")

    # A lower win rate needs more of every earlier stage.
    rate = page.get_by_label("Opportunity → won (%)")
    measured = float(rate.input_value())
    rate.fill(f"{measured / 2:.1f}")
    expect(targets).not_to_have_text(before)
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("overridden")).to_contain_text("conversion")

    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "planner_390")
    page.set_viewport_size({"width": 1280, "height": 800})

    form.get_by_label("Plan name").fill("H1 tiers 1-2 revenue")
    form.get_by_role("button", name="Save plan").click()
    expect(page.get_by_role("heading", name="H1 tiers 1-2 revenue")).to_be_visible()
    plan = Plan.objects.get()
    assert plan.assumptions["conversion"]["opportunity_won"] == pytest.approx(
        round(measured / 2, 1) / 100
    )
    expect(page.get_by_test_id("saved-assumptions")).to_contain_text(f"{measured / 2:.1f}%")
    screenshot(page, "plan_detail_1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "plan_detail_390")
    page.set_viewport_size({"width": 1280, "height": 800})

    # The plan's channel budgets proposed to the playbooks that spent on those channels, set once.
    budgets = page.get_by_test_id("proposed-budgets")
    expect(budgets.get_by_test_id("budget-total")).to_contain_text("$")
    page.get_by_role("button", name="Set these budgets").click()
    expect(page.get_by_text("Budgets set from")).to_be_visible()
    page.get_by_role("button", name="Set these budgets").click()
    expect(page.get_by_text("nothing changed")).to_be_visible()

    page.get_by_role("button", name="Create goals").click()
    expect(page).to_have_url(re.compile(r"/metrics/goals/\d+/$"))
    assert Goal.objects.count() == 4
    parent = Goal.objects.get(parent=None)
    assert parent.metric == "revenue_won"
    expect(page.get_by_role("heading", name=parent.name)).to_be_visible()

    page.goto(f"{live_server.url}/metrics/plans/{plan.pk}/")
    page.get_by_role("link", name="Plan vs actual").click()
    panel = page.get_by_test_id("panel-plan_vs_actual")
    expect(panel).to_contain_text("H1 tiers 1-2 revenue")
    expect(panel.get_by_test_id("pva-engaged")).to_be_visible()
    panel.scroll_into_view_if_needed()
    screenshot(page, "plan_vs_actual_1280")
    panel.screenshot(path=str(SCREENSHOTS / "plan_vs_actual_panel.png"))
    assert console_errors == [], console_errors
