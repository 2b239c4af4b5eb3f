"""The marketer's playbook dashboard and the sales dashboard in a real browser: charts drawn with
data, a filter changing a figure, drill-downs landing on the matching list, a CSV download, and a
rep seeing only their own accounts."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from abm.models import User
from accounts.models import Account
from playbooks.models import Task
from playbooks.task_completion import task_complete, task_skip
from playbooks.tasking import run_playbooks

pytestmark = pytest.mark.browser
MARKETER_CHARTS = ("stages", "trend", "tasks", "money", "roi", "holdout")
SALES_CHARTS = ("stages", "channels")


@pytest.fixture
def seeded(transactional_db):
    # The command seeds and records its metrics run, as `make run` does; the playbook runner then
    # creates the tasks that have come due, and the owners work through some of them.
    call_command("seed_demo", "--accounts", "80", "--seed", "5", stdout=io.StringIO())
    run_playbooks()
    # A few: each completion asks for a metrics run.
    tasks = list(Task.objects.filter(status="open").select_related("assignee").order_by("pk")[:6])
    for task in tasks[:3]:
        task_complete(task=task, by=task.assignee)
    for task in tasks[3:5]:
        task_skip(task=task, by=task.assignee)


def _traces(page, chart: str) -> int:
    return page.evaluate(f"document.getElementById('{chart}').data?.length ?? 0")


def _click_first_bar(page, chart: str, index: int = 0) -> None:
    # Plotly's drag layer takes the pointer, so click where the bar is drawn.
    bar = page.locator(f"#{chart} .point path").nth(index)
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_marketer_reads_playbooks_filters_drills_down_and_exports(
    page, live_server, login, seeded, console_errors, screenshot
):
    login(page, live_server, "marketer", "demo1234")
    page.goto(f"{live_server.url}/metrics/")

    expect(page).to_have_url(re.compile(r"/metrics/marketer/$"))
    expect(page.get_by_role("heading", name="Playbook dashboard")).to_be_visible()
    for chart in MARKETER_CHARTS:
        expect(page.locator(f"#{chart} .main-svg").first).to_be_attached()
        assert _traces(page, chart) > 0, chart
    screenshot(page, "dashboard_marketer")
    enrolled = page.get_by_test_id("kpi-enrolled-value").inner_text()

    playbook = page.get_by_label("Playbook", exact=True)
    choice = playbook.locator("option").nth(1)
    name = choice.inner_text()
    playbook.select_option(choice.get_attribute("value"))
    page.get_by_test_id("apply-filters").click()

    expect(page).to_have_url(re.compile(r"playbook=\d+"))
    expect(page.get_by_test_id("kpi-enrolled-value")).not_to_have_text(enrolled)
    expect(page.locator(".lede")).to_contain_text(name)
    screenshot(page, "dashboard_marketer_one_playbook")

    with page.expect_download() as download:
        page.get_by_test_id("export-by_playbook").click()
    assert download.value.suggested_filename == "playbooks-by_playbook.csv"
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert "Playbook,Attributed pipeline" in text
    assert name in text

    # A stage bar opens the playbook's enrolments.
    _click_first_bar(page, "stages")
    page.wait_for_url(re.compile(r"/playbooks/\d+/enrolments/"))
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    page.go_back()

    # A table row opens the deals credited to the playbook under the chosen model.
    page.get_by_test_id("table-by_playbook").get_by_role("link", name=name).click()
    page.wait_for_url(re.compile(r"/accounts/opportunities/\?"))
    assert "playbook=" in page.url
    assert "model=" in page.url
    expect(page.get_by_role("heading", name=re.compile("Opportunities"))).to_be_visible()
    assert console_errors == []


def test_a_rep_sees_only_their_accounts_and_drills_into_their_pipeline(
    page, live_server, login, seeded, console_errors, screenshot
):
    rep = User.objects.get(username="rep1")
    theirs = set(Account.objects.filter(owner=rep).values_list("name", flat=True))
    others = set(Account.objects.exclude(owner=rep).values_list("name", flat=True))
    login(page, live_server, "rep1", "demo1234")
    page.goto(f"{live_server.url}/metrics/")

    expect(page).to_have_url(re.compile(r"/metrics/sales/$"))
    expect(page.get_by_role("heading", name="My accounts", exact=True)).to_be_visible()
    expect(page.get_by_label("Owner", exact=True)).to_have_count(0)
    rows = page.get_by_test_id("priority-row")
    expect(rows.first).to_be_visible()
    names = {row.locator("a.cell-main").inner_text() for row in rows.all()}
    assert names
    assert names <= theirs
    body = page.locator("main").inner_text()
    assert not [name for name in others if name in body]
    for chart in SALES_CHARTS:
        expect(page.locator(f"#{chart} .main-svg").first).to_be_visible()
        assert _traces(page, chart) > 0, chart
    screenshot(page, "dashboard_sales_rep")

    # The first account opens on its timeline.
    first = rows.first.locator("a.cell-main")
    account = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/accounts/\d+/#timeline$"))
    expect(page.get_by_role("heading", name=account)).to_be_visible()
    page.go_back()

    # A pipeline-by-stage bar lists the open deals at that stage (the tallest: a stage without
    # open deals draws a bar of no height, nothing to click).
    values = page.evaluate("document.getElementById('stages').data[0].y")
    tallest = max(range(len(values)), key=lambda i: values[i])
    stage = page.evaluate(f"document.getElementById('stages').data[0].x[{tallest}]")
    amount = values[tallest]
    _click_first_bar(page, "stages", tallest)
    page.wait_for_url(re.compile(r"/accounts/opportunities/\?.*stage="))
    expect(page.get_by_role("heading", name=re.compile("Opportunities"))).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"Stage: {stage}")
    # The list's total is the bar's value.
    expect(page.locator("main")).to_contain_text(f"${round(amount):,} total amount")
    screenshot(page, "dashboard_sales_drilldown")
    assert console_errors == []
