"""The product shell in a real browser: sign-in, role navigation, scoping, sign-out."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from abm.models import Job, RunKind, RunStatus
from accounts.models import Account, Contact, JourneyStage, Opportunity, OpportunityStage
from goals.choices import GoalMetric, GoalTeam
from goals.models import Goal
from playbooks.models import Activity, Enrolment, Playbook, Stage, Step, Task

pytestmark = pytest.mark.browser

NAV = {
    "alice": ["Accounts", "Tasks", "Goals", "Dashboards"],
    "maria": [
        "Accounts",
        "Playbooks",
        "Tasks",
        "Goals",
        "Plans",
        "Dashboards",
        "Touch rules",
        "Import",
    ],
    "diana": ["Accounts", "Playbooks", "Goals", "Plans", "Dashboards", "Touch rules"],
    "root": [
        "Accounts",
        "Playbooks",
        "Tasks",
        "Goals",
        "Plans",
        "Dashboards",
        "Touch rules",
        "Import",
    ],
}
ROLE_LABEL = {"alice": "Sales rep", "maria": "Marketer", "diana": "Director", "root": "Admin"}

COMPANIES = [
    # name, industry, country, employees, tier, stage, fit, engagement, spike
    ("Acme Robotics", "Manufacturing", "US", 4200, 1, JourneyStage.OPPORTUNITY, 92, 71.4, True),
    ("Brightline Health", "Healthcare", "US", 1800, 1, JourneyStage.MQA, 88, 54.0, False),
    ("Cobalt Logistics", "Logistics", "DE", 950, 2, JourneyStage.ENGAGED, 76, 18.2, False),
    ("Delta Fintech", "Financial services", "GB", 600, 2, JourneyStage.AWARE, 69, 6.5, False),
    ("Evergreen Energy", "Energy", "CA", 3100, 3, JourneyStage.TARGETED, 58, 1.2, False),
    ("Fjord Analytics", "Software", "NO", 240, 1, JourneyStage.CUSTOMER, 81, 33.0, False),
]


def _company(owner, row) -> Account:
    name, industry, country, employees, tier, stage, fit, engagement, spike = row
    return Account.objects.create(
        name=name,
        domain=name.lower().replace(" ", "") + ".com",
        industry=industry,
        country=country,
        employees=employees,
        annual_revenue=Decimal(employees * 210_000),
        tier=tier,
        stage=stage,
        fit_score=fit,
        engagement_score=engagement,
        spike=spike,
        owner=owner,
    )


@pytest.fixture
def book(alice, bob, maria, diana, root):
    """A small but realistic plan: alice owns four accounts, bob two, with data on Acme."""
    now = timezone.now()
    accounts = [_company(alice, row) for row in COMPANIES[:4]]
    accounts += [_company(bob, row) for row in COMPANIES[4:]]
    acme = accounts[0]
    people = [
        ("Dana", "Reyes", "Chief Operating Officer", "c_level", "decision_maker"),
        ("Sam", "Okafor", "VP Engineering", "vp", "champion"),
        ("Lee", "Park", "Automation Manager", "manager", "user"),
    ]
    contacts = [
        Contact.objects.create(
            account=acme,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}@acmerobotics.com",
            title=title,
            seniority=seniority,
            buying_role=role,
        )
        for first, last, title, seniority, role in people
    ]
    Opportunity.objects.create(
        account=acme,
        name="Acme plant-floor rollout",
        amount=Decimal(240_000),
        stage=OpportunityStage.PROPOSAL,
        created_at=now - timedelta(days=40),
        source="marketing",
    )
    Opportunity.objects.create(
        account=acme,
        name="Acme pilot",
        amount=Decimal(35_000),
        stage=OpportunityStage.CLOSED_WON,
        created_at=now - timedelta(days=200),
        closed_at=now - timedelta(days=150),
    )
    Opportunity.objects.create(
        account=accounts[5],
        name="Fjord renewal",
        amount=Decimal(80_000),
        stage=OpportunityStage.CLOSED_WON,
        created_at=now - timedelta(days=90),
        closed_at=now - timedelta(days=20),
    )
    kinds = [
        ("email", "email_open", "inbound", contacts[0]),
        ("webinar", "webinar_attended", "inbound", contacts[1]),
        ("event", "meeting", "inbound", contacts[0]),
        ("linkedin", "linkedin_message", "outbound", contacts[2]),
        ("content", "content_download", "inbound", contacts[1]),
    ]
    for i, (channel, kind, direction, contact) in enumerate(kinds):
        Activity.objects.create(
            account=acme,
            contact=contact,
            channel=channel,
            kind=kind,
            direction=direction,
            occurred_at=now - timedelta(days=i * 3 + 1, hours=i),
            cost=Decimal(450) if channel == "event" else Decimal(0),
            source="import",
            external_id=f"demo-{i}",
        )
    playbook = Playbook.objects.create(
        name="Tier 1 manufacturing",
        objective="Open pipeline at strategic accounts",
        owner=maria,
        status="active",
        budget=Decimal(60_000),
    )
    Playbook.objects.create(name="Fintech nurture", owner=maria, status="draft")
    stage = Stage.objects.create(playbook=playbook, order=1, name="Nurture", exit_stage="mqa")
    steps = [
        Step.objects.create(stage=stage, order=n, channel=c, day_offset=d, owner_role="sales")
        for n, (c, d) in enumerate([("phone", 0), ("email", 3), ("linkedin", 10)])
    ]
    for account, step, days, subject in [
        (acme, steps[0], -2, "Call Dana about the rollout proposal"),
        (accounts[1], steps[1], 2, "Send the Brightline case study"),
        (accounts[2], steps[2], 12, "Connect with Cobalt's VP Ops"),
        (accounts[4], steps[0], 1, "Call Evergreen's CFO"),
    ]:
        enrolment = Enrolment.objects.create(account=account, playbook=playbook, enrolled_at=now)
        Task.objects.create(
            enrolment=enrolment,
            step=step,
            account=account,
            assignee=account.owner,
            channel=step.channel,
            owner_role="sales",
            subject=subject,
            due_at=now + timedelta(days=days),
        )
    today = timezone.localdate()
    Goal.objects.create(
        name="Q3 sourced pipeline",
        team=GoalTeam.MARKETING,
        owner=maria,
        metric=GoalMetric.PIPELINE_CREATED,
        target=Decimal(1_500_000),
        current_value=Decimal(1_120_000),
        status="on_track",
        start_date=today - timedelta(days=60),
        end_date=today + timedelta(days=30),
    )
    Goal.objects.create(
        name="Tier 1 win rate",
        team=GoalTeam.SALES,
        owner=alice,
        metric=GoalMetric.WIN_RATE,
        target=Decimal("0.35"),
        current_value=Decimal("0.22"),
        status="at_risk",
        start_date=today - timedelta(days=60),
        end_date=today + timedelta(days=30),
    )
    Job.objects.create(
        kind=RunKind.FULL, status=RunStatus.DONE, percent=100, finished_at=now - timedelta(hours=2)
    )
    return {"accounts": accounts, "acme": acme, "evergreen": accounts[4]}


def nav_labels(page) -> list[str]:
    return [label.strip() for label in page.locator("nav.primary-nav a").all_inner_texts()]


@pytest.mark.parametrize("username", ["alice", "maria", "diana", "root"])
def test_each_role_sees_exactly_its_nav_items(page, live_server, login, book, username):
    login(page, live_server, username)

    assert nav_labels(page) == NAV[username]
    assert ROLE_LABEL[username] in page.get_by_test_id("user-identity").inner_text()
    for link in page.locator("nav.primary-nav a").evaluate_all("els => els.map(e => e.href)"):
        response = page.goto(link)
        assert response.status == 200, link
        assert page.locator("nav.primary-nav a.active").count() == 1


def test_rep_sees_only_their_accounts_and_gets_404_for_others(
    page, live_server, login, screenshot, book
):
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/")

    rows = page.get_by_test_id("accounts-table").locator("tbody tr")
    names = rows.locator("a.cell-main").all_inner_texts()
    assert names == ["Acme Robotics", "Brightline Health", "Cobalt Logistics", "Delta Fintech"]
    expect(page.get_by_role("heading", name="My accounts")).to_be_visible()
    screenshot(page, "rep_account_list")

    page.get_by_role("link", name="Acme Robotics").click()
    expect(page.get_by_role("heading", name="Acme Robotics", level=1)).to_be_visible()
    expect(page.get_by_test_id("contacts-table").get_by_text("Dana Reyes")).to_be_visible()
    expect(page.get_by_test_id("opportunities-table").get_by_text("$240,000")).to_be_visible()
    screenshot(page, "rep_account_detail")

    response = page.goto(f"{live_server.url}/accounts/{book['evergreen'].pk}/")
    assert response.status == 404
    assert "Evergreen" not in page.content()


def test_logout_returns_to_sign_in(page, live_server, login, book):
    login(page, live_server, "maria")

    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{live_server.url}/accounts/")
    assert page.url.startswith(f"{live_server.url}/login/")


def test_wrong_password_shows_an_error(page, live_server, login, alice):
    login(page, live_server, "alice", "not-the-password")

    error = page.get_by_test_id("login-error")
    assert "correct username and password" in error.inner_text()
    assert page.get_by_label("Username").input_value() == "alice"


def test_login_page_lists_demo_logins_in_debug(page, live_server, settings, db):
    settings.DEBUG = True

    page.goto(f"{live_server.url}/login/")

    assert "demo1234" in page.get_by_test_id("demo-logins").inner_text()


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("maria", "/accounts/"),
        ("maria", "/accounts/import/"),
        ("maria", "/playbooks/"),
        ("maria", "/metrics/goals/"),
        ("diana", "/metrics/"),
        ("diana", "/playbooks/tasks/"),
        ("alice", "/playbooks/tasks/"),
        ("alice", "/metrics/"),
    ],
)
def test_pages_render(page, live_server, login, book, username, path):
    login(page, live_server, username)

    response = page.goto(f"{live_server.url}{path}")

    assert response.status == 200
    assert page.locator("h1").count() == 1


def test_empty_pages_say_what_to_do(page, live_server, login, screenshot, maria):
    login(page, live_server, "maria")

    for path in ["/accounts/", "/playbooks/", "/metrics/"]:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator(".empty-state .btn-primary")).to_be_visible()
        screenshot(page, "empty" + path.replace("/", "_").rstrip("_"))


@pytest.mark.parametrize(
    "path", ["/accounts/", "/accounts/{acme}/", "/metrics/", "/playbooks/tasks/"]
)
def test_pages_fit_a_narrow_screen(page, live_server, login, screenshot, book, path):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "alice")

    page.goto(live_server.url + path.format(acme=book["acme"].pk))

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
