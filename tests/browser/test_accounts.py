"""The account pages in a real browser: a rep's day, a marketer's planning, the ICP re-score."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from abm.models import Job, RunKind, RunStatus
from accounts.models import Account, Contact, JourneyStage, Opportunity, OpportunityStage
from metrics.models import EngagementScore
from playbooks.models import Activity

pytestmark = pytest.mark.browser

COMPANIES = [
    # name, industry, country, employees, tier, stage, fit, engagement, spike, owner
    ("Acme Robotics", "Manufacturing", "Germany", 4200, 1, JourneyStage.OPPORTUNITY, 92, 71.4, True, "alice"),
    ("Brightline Health", "Healthcare", "United States", 1800, 2, JourneyStage.MQA, 88, 54.0, False, "alice"),
    ("Cobalt Logistics", "Logistics", "Germany", 950, None, JourneyStage.AWARE, 76, 18.2, False, "alice"),
    ("Delta Fintech", "Software", "United Kingdom", 600, None, "", 69, 6.5, False, "bob"),
    ("Evergreen Software", "Software", "Canada", 3100, 3, JourneyStage.TARGETED, 58, 1.2, False, "bob"),
    ("Fjord Analytics", "Software", "Sweden", 240, None, "", 81, 33.0, False, None),
]  # fmt: skip
CHANNELS = [
    ("email", "email_click"),
    ("webinar", "webinar_attended"),
    ("linkedin", "linkedin_message"),
    ("phone", "call_connected"),
    ("content", "content_download"),
    ("event", "event_attended"),
]


@pytest.fixture
def book(alice, bob, maria):
    owners = {"alice": alice, "bob": bob, None: None}
    accounts = {}
    for name, industry, country, size, tier, stage, fit, eng, spike, owner in COMPANIES:
        accounts[name] = Account.objects.create(
            name=name,
            domain=name.lower().replace(" ", "") + ".com",
            industry=industry,
            country=country,
            employees=size,
            annual_revenue=Decimal(size * 180_000),
            tier=tier,
            stage=stage,
            fit_score=fit,
            engagement_score=eng,
            spike=spike,
            owner=owners[owner],
            fit_breakdown=[
                {"criterion": "industry", "weight": 3, "match": 1.0, "value": industry},
                {"criterion": "employees", "weight": 1, "match": 0.6, "value": size},
            ],
        )
    acme = accounts["Acme Robotics"]
    dana = Contact.objects.create(
        account=acme,
        first_name="Dana",
        last_name="Reyes",
        email="dana@acmerobotics.com",
        title="Chief Operating Officer",
        seniority="c_level",
        buying_role="decision_maker",
    )
    now = timezone.now()
    for week in range(20):
        for i, (channel, kind) in enumerate(CHANNELS):
            if (week + i) % 3:
                continue
            Activity.objects.create(
                account=acme,
                contact=dana if i % 2 else None,
                channel=channel,
                kind=kind,
                direction="outbound" if kind == "linkedin_message" else "inbound",
                occurred_at=now - timedelta(weeks=week, days=i % 5, hours=i),
                source="import",
                external_id=f"b-{week}-{i}",
            )
    Opportunity.objects.create(
        account=acme,
        name="Acme plant-floor rollout",
        amount=Decimal(240_000),
        stage=OpportunityStage.PROPOSAL,
        created_at=now - timedelta(weeks=6),
        source="marketing",
    )
    Opportunity.objects.create(
        account=acme,
        name="Acme pilot",
        amount=Decimal(35_000),
        stage=OpportunityStage.CLOSED_WON,
        created_at=now - timedelta(weeks=16),
        closed_at=now - timedelta(weeks=11),
    )
    EngagementScore.objects.create(
        account=acme,
        score=71.4,
        by_channel={"webinar": 30.0, "email": 21.4, "event": 20.0},
        spike=True,
        top_activities=[
            {"activity_id": 0, "kind": "webinar_attended", "channel": "webinar", "points": 9.5}
        ],
        computed_at=now,
    )
    return accounts


def row_names(page) -> list[str]:
    return page.get_by_test_id("accounts-table").locator("tbody a.cell-main").all_inner_texts()


def test_a_rep_logs_a_call_and_sees_it_on_the_timeline(
    page, live_server, login, screenshot, book, console_errors
):
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/")

    expect(page.get_by_role("heading", name="My accounts")).to_be_visible()
    assert row_names(page) == ["Acme Robotics", "Brightline Health", "Cobalt Logistics"]
    assert "Delta Fintech" not in page.content()
    screenshot(page, "accounts_rep_list")

    page.get_by_role("link", name="Acme Robotics").click()
    # Drawn once plotly has added its svg: wait_for_function evaluates a string in the page,
    # which the Content-Security-Policy (no 'unsafe-eval') refuses.
    expect(page.locator("#timeline .main-svg").first).to_be_attached()
    before = page.evaluate("document.querySelector('#timeline').data.length")
    page.get_by_label("What happened").select_option("call_connected")
    page.get_by_label("Contact", exact=True).select_option(label="Dana Reyes · Decision maker")
    page.get_by_label("Duration (minutes)").fill("25")
    page.get_by_label("Notes").fill("Dana wants the rollout plan by Friday.")
    page.get_by_role("button", name="Log it").click()
    page.wait_for_load_state("domcontentloaded")

    expect(page.get_by_text("Call – connected logged on Acme Robotics.")).to_be_visible()
    activities = page.get_by_test_id("activities-table")
    expect(activities.get_by_text("Dana wants the rollout plan by Friday.")).to_be_visible()
    # Drawn once plotly has added its svg: wait_for_function evaluates a string in the page,
    # which the Content-Security-Policy (no 'unsafe-eval') refuses.
    expect(page.locator("#timeline .main-svg").first).to_be_attached()
    traces = page.evaluate("document.querySelector('#timeline').data.map(t => t.name)")
    assert len(traces) >= before
    assert "Phone" in traces
    assert {"Opportunity created", "Closed won"} <= set(traces)
    screenshot(page, "accounts_rep_logged_a_call")
    assert console_errors == []


def test_a_quick_log_with_a_future_date_shows_the_error_inline(page, live_server, login, book):
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/{book['Acme Robotics'].pk}/")
    ahead = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")

    page.get_by_label("When").fill(ahead)
    page.get_by_role("button", name="Log it").click()

    expect(page.get_by_text("more than a day ahead")).to_be_visible()
    assert page.get_by_label("When").get_attribute("aria-invalid") == "true"


def test_a_marketer_filters_the_list_and_bulk_sets_a_tier(
    page, live_server, login, screenshot, book, console_errors
):
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/accounts/")

    page.get_by_label("Industry").select_option("Software")
    page.get_by_label("Tier", exact=True).select_option("untiered")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state("domcontentloaded")

    assert "tier=untiered" in page.url
    assert "industry=Software" in page.url
    assert row_names(page) == ["Delta Fintech", "Fjord Analytics"]

    page.get_by_label("Select every account on this page").check()
    assert page.locator("[data-selected-count]").inner_text() == "2 selected"
    page.get_by_label("New tier").select_option("2")
    screenshot(page, "accounts_marketer_bulk_selection")
    page.get_by_role("button", name="Set tier").click()
    page.wait_for_load_state("domcontentloaded")

    expect(page.get_by_text("2 accounts updated: now in Tier 2.")).to_be_visible()
    # Back on the same filter, which now matches nothing: both left "untiered".
    assert "tier=untiered" in page.url
    expect(page.get_by_text("No accounts match these filters")).to_be_visible()
    assert set(Account.objects.filter(tier=2).values_list("name", flat=True)) == {
        "Brightline Health",
        "Delta Fintech",
        "Fjord Analytics",
    }
    screenshot(page, "accounts_marketer_after_bulk_tier")
    assert console_errors == []


def test_a_marketer_promotes_from_the_tiering_assistant(
    page, live_server, login, screenshot, book, console_errors
):
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/accounts/tiering/")

    table = page.get_by_test_id("tiering-table")
    assert table.locator("a.cell-main").all_inner_texts() == [
        "Fjord Analytics",
        "Cobalt Logistics",
        "Delta Fintech",
    ]
    expect(page.get_by_test_id("tier-matrix")).to_be_visible()
    screenshot(page, "accounts_tiering")
    page.get_by_label("Select Fjord Analytics").check()
    page.get_by_label("Promote to").select_option("1")
    page.get_by_role("button", name="Promote selected").click()
    page.wait_for_load_state("domcontentloaded")

    expect(page.get_by_text("1 account updated: now in Tier 1.")).to_be_visible()
    assert "Fjord Analytics" not in table.inner_text()
    assert console_errors == []


def test_a_marketer_edits_the_icp_and_the_progress_bar_reaches_done(
    page, live_server, login, screenshot, book, console_errors, eager_tasks
):
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/accounts/icp/")

    page.get_by_label("Software").check()
    page.get_by_label("Industry weight").fill("3")
    page.get_by_label("Minimum employees").fill("500")
    page.get_by_label("Maximum employees").fill("100")
    page.get_by_role("button", name="Save and re-score").click()
    expect(page.get_by_text("The maximum must be at least the minimum employees.")).to_be_visible()
    screenshot(page, "accounts_icp_invalid")

    page.get_by_label("Maximum employees").fill("5000")
    page.get_by_label("Employees weight").fill("1")
    page.get_by_role("button", name="Save and re-score").click()
    page.wait_for_load_state("domcontentloaded")

    progress = page.get_by_test_id("run-progress")
    progress.locator("[data-run-done]").wait_for(state="visible")
    assert progress.get_attribute("data-status") == "done"
    assert progress.locator("[data-run-percent]").inner_text() == "100%"
    assert Account.objects.get(name="Delta Fintech").fit_score == 100
    screenshot(page, "accounts_icp_rescored")
    assert console_errors == []


def test_the_progress_bar_follows_a_running_job(page, live_server, login, maria, console_errors):
    run = Job.objects.create(kind=RunKind.ICP_RESCORE, status=RunStatus.QUEUED)
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/accounts/icp/?run={run.pk}")
    progress = page.get_by_test_id("run-progress")
    assert progress.get_attribute("data-status") == "queued"

    Job.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, phase="scoring 6 accounts", percent=40
    )
    expect(page.locator("[data-run-percent]")).to_have_text("40%")
    assert progress.locator("[data-run-phase]").inner_text() == "scoring 6 accounts"

    Job.objects.filter(pk=run.pk).update(status=RunStatus.DONE, percent=100, phase="done")
    progress.locator("[data-run-done]").wait_for(state="visible")
    assert progress.locator("[data-run-status]").inner_text() == "Done"
    assert console_errors == []


def test_a_rep_typing_another_reps_account_url_gets_404(page, live_server, login, book):
    theirs = book["Delta Fintech"]
    login(page, live_server, "alice")

    for path in (f"/accounts/{theirs.pk}/", f"/accounts/{theirs.pk}/timeline.json"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404, path
        assert "Delta Fintech" not in page.content()


def test_select_all_matching_reaches_beyond_the_page(
    page, live_server, login, screenshot, maria, console_errors
):
    Account.objects.bulk_create(
        Account(name=f"Prospect {i:02}", domain=f"prospect{i:02}.com", industry="Retail")
        for i in range(55)
    )
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/accounts/?industry=Retail")

    hint = page.locator("[data-select-matching]")
    assert hint.is_hidden()
    page.get_by_label("Select every account on this page").check()
    assert hint.is_visible()
    page.get_by_role("button", name="Select all 55 matching accounts").click()
    assert page.locator("[data-selected-count]").inner_text() == "All 55 matching"
    page.get_by_label("New tier").select_option("3")
    screenshot(page, "accounts_select_all_matching")
    page.get_by_role("button", name="Set tier").click()
    page.wait_for_load_state("domcontentloaded")

    expect(page.get_by_text("55 accounts updated: now in Tier 3.")).to_be_visible()
    assert Account.objects.filter(tier=3).count() == 55
    assert console_errors == []
