"""The drill-down lists in a real browser: a director follows a dashboard link to the deals credited
to a channel, widens the list by removing a chip, and downloads it."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Account, Opportunity
from metrics.models import AttributionCredit
from playbooks.models import Activity

pytestmark = pytest.mark.browser

DEALS = [
    # account, owner, tier, deal, amount, created, credit by channel
    ("Acme Robotics", "alice", 1, "Acme expansion", 120_000, "2026-03-04", {"email": 30_000, "webinar": 90_000}),
    ("Acme Robotics", "alice", 1, "Acme pilot", 18_500, "2026-02-11", {"webinar": 18_500}),
    ("Brightline Health", "bob", 2, "Brightline platform", 64_000, "2026-03-19", {"email": 64_000}),
    ("Cobalt Logistics", None, None, "=Cobalt renewal", 9_900, "2026-01-27", {"event": 9_900}),
]  # fmt: skip


@pytest.fixture
def pipeline(alice, bob, diana):
    owners = {"alice": alice, "bob": bob, None: None}
    for company, owner, tier, name, amount, created, credits in DEALS:
        target, _ = Account.objects.get_or_create(
            name=company,
            defaults={
                "domain": company.lower().replace(" ", "") + ".com",
                "owner": owners[owner],
                "tier": tier,
            },
        )
        created_at = dt.datetime.fromisoformat(created).replace(tzinfo=dt.UTC)
        deal = Opportunity.objects.create(
            account=target, name=name, amount=Decimal(amount), created_at=created_at
        )
        for channel, credit in credits.items():
            AttributionCredit.objects.create(
                model="time_decay",
                kind="pipeline",
                opportunity=deal,
                account=target,
                converted_at=created_at,
                channel=channel,
                weight=credit / amount,
                credit=Decimal(credit),
            )
            Activity.objects.create(
                account=target,
                channel=channel,
                kind="email_click" if channel == "email" else "webinar_attended",
                direction="inbound",
                occurred_at=created_at - dt.timedelta(days=5),
                source="import",
                external_id=f"{name}-{channel}",
            )


def test_a_director_drills_into_deals_credited_to_a_channel(
    page, live_server, login, screenshot, pipeline, console_errors
):
    login(page, live_server, "diana")
    page.goto(
        f"{live_server.url}/accounts/opportunities/"
        "?created_from=2026-01-01&created_to=2026-03-31&tier=targets"
        "&model=time_decay&kind=pipeline&channel=webinar"
    )

    expect(page.get_by_role("heading", name="Opportunities")).to_be_visible()
    chips = page.get_by_test_id("filter-chips")
    expect(chips.get_by_text("Created 2026-01-01 – 2026-03-31")).to_be_visible()
    expect(chips.get_by_text("Any target tier")).to_be_visible()
    expect(chips.get_by_text("Credited to Webinar")).to_be_visible()
    expect(chips.get_by_text("Time decay model, pipeline")).to_be_visible()
    totals = page.get_by_test_id("totals")
    expect(totals).to_contain_text("2 opportunities")
    expect(totals).to_contain_text("$138,500 total amount")
    expect(totals).to_contain_text("$108,500 credited (Time decay, pipeline)")
    table = page.get_by_test_id("opportunities-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.get_by_role("link", name="Acme Robotics").first).to_be_visible()
    screenshot(page, "drilldown_opportunities_webinar")

    # Removing the channel chip widens the list to every deal with time-decay credit.
    chips.get_by_role("link", name="Remove filter: Credited to Webinar").click()
    page.wait_for_load_state("domcontentloaded")
    expect(chips.get_by_text("Credited to Webinar")).to_have_count(0)
    expect(totals).to_contain_text("3 opportunities")
    expect(totals).to_contain_text("$202,500 total amount")
    expect(table.locator("tbody tr")).to_have_count(3)
    assert "channel=" not in page.url
    screenshot(page, "drilldown_opportunities_widened")

    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename == "opportunities.csv"
    body = download.path().read_text(encoding="utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(body)))
    assert [r["name"] for r in exported] == [
        "Brightline platform",
        "Acme expansion",
        "Acme pilot",
    ]
    assert [r["credited"] for r in exported] == ["64000.00", "120000.00", "18500.00"]

    # The activities behind the same figure, and the empty state once nothing matches.
    page.goto(f"{live_server.url}/accounts/activities/?channel=webinar&tier=targets")
    expect(page.get_by_test_id("totals")).to_contain_text("2 activities")
    expect(page.get_by_test_id("activities-table").locator("tbody tr")).to_have_count(2)
    screenshot(page, "drilldown_activities_webinar")
    page.goto(f"{live_server.url}/accounts/activities/?channel=display&tier=9")
    expect(page.get_by_text("No activities match these filters")).to_be_visible()
    expect(page.get_by_test_id("filter-problems")).to_contain_text("ignored")
    screenshot(page, "drilldown_activities_empty")
    assert console_errors == []
