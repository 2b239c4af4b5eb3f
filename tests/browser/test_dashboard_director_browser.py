"""The director's ROI dashboard in a real browser: charts drawn with data, filters in the URL,
a bar click drilling down to the deals behind it, and a CSV download."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
CHARTS = ("by_channel", "by_playbook", "models", "funnel", "follow_up", "holdout")


@pytest.fixture
def seeded(transactional_db):
    # The command seeds and records its metrics run, as `make run` does.
    call_command("seed_demo", "--accounts", "80", "--seed", "5", stdout=io.StringIO())


def _traces(page, chart: str) -> int:
    return page.evaluate(f"document.getElementById('{chart}').data?.length ?? 0")


def test_director_reads_roi_filters_drills_down_and_exports(
    page, live_server, login, seeded, console_errors, screenshot
):
    login(page, live_server, "director", "demo1234")
    page.goto(f"{live_server.url}/metrics/")

    expect(page).to_have_url(re.compile(r"/metrics/director/$"))
    expect(page.get_by_role("heading", name="ROI dashboard")).to_be_visible()
    expect(page.get_by_test_id("data-as-of")).to_contain_text("Figures updated")
    for chart in CHARTS:
        expect(page.locator(f"#{chart} .main-svg").first).to_be_attached()
        assert _traces(page, chart) > 0, chart
    assert _traces(page, "models") == 8
    screenshot(page, "dashboard_director")
    pipeline = page.get_by_test_id("kpi-pipeline-value").inner_text()

    page.get_by_label("Tier", exact=True).select_option("1")
    page.get_by_label("Attribution model", exact=True).select_option("first_touch")
    page.get_by_test_id("apply-filters").click()

    expect(page).to_have_url(re.compile(r"tier=1.*model=first_touch|model=first_touch.*tier=1"))
    expect(page.get_by_test_id("kpi-pipeline-value")).not_to_have_text(pipeline)
    expect(page.get_by_label("Tier", exact=True)).to_have_value("1")

    with page.expect_download() as download:
        page.get_by_test_id("export-by_channel").click()
    assert download.value.suggested_filename == "roi-by_channel.csv"
    assert "Channel,Attributed pipeline" in open(download.value.path(), encoding="utf-8-sig").read()

    # Click the first pipeline bar: the deals credited to that channel under First touch.
    # Plotly's drag layer takes the pointer, so click where the bar is drawn.
    credited = page.evaluate("document.getElementById('by_channel').data[0].y[0]")
    bar = page.locator("#by_channel .point path").first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r"/accounts/opportunities/\?"))
    assert "model=first_touch" in page.url
    assert "tier=1" in page.url
    assert "channel=" in page.url
    expect(page.get_by_role("heading", name=re.compile("Opportunities"))).to_be_visible()
    # The list's credited total is the bar's value.
    expect(page.locator("main")).to_contain_text(f"${round(credited):,} credited")
    screenshot(page, "dashboard_director_drilldown")
    assert console_errors == []
