"""Walk every URL of the site and the API as each role and look for another rep's data.

Bob (a rep) owns one of everything, each with id 4242 and the marker "bobsecret" in its text, so
any `<pk>` in any route points at his object. Alice (another rep) requests every route with GET
and POST, with and without filters naming Bob; nothing she gets back may mention him, nothing may
fail with a 5xx, and none of his objects may change. Anonymous visitors get the login page or a
401. Bob's own requests find his marker, which proves the walker would see a leak.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from abm.models import Job, RunKind
from abm.tokens import token_create
from accounts.models import Account, Contact, Lead, Opportunity
from goals.models import Goal
from ingestion.models import ImportJob
from metrics.models import AttributionCredit
from playbooks.models import Activity, Enrolment, Playbook, Stage, Step, Task

PK = 4242
MARKER = "bobsecret"
PUBLIC = {"/login/", "/health/", "/api/schema/", "/api/docs/", "/api/redoc/"}
# Routes a logged-in rep must find missing (404) or forbidden (403) for Bob's objects.
EXPECTED_FOR_ALICE = {
    f"/accounts/{PK}/": 404,
    f"/accounts/{PK}/timeline.json": 404,
    f"/accounts/{PK}/contacts.csv": 404,
    f"/accounts/{PK}/opportunities.csv": 404,
    f"/metrics/goals/{PK}/": 404,
    f"/accounts/import/{PK}/": 403,
    f"/api/accounts/{PK}/": 404,
    f"/api/contacts/{PK}/": 404,
    f"/api/opportunities/{PK}/": 404,
    f"/api/leads/{PK}/": 404,
    f"/api/tasks/{PK}/": 404,
    f"/api/activities/{PK}/": 404,
    f"/api/goals/{PK}/": 404,
    f"/api/enrolments/{PK}/": 404,
    f"/api/metrics/attribution/opportunities/{PK}/": 404,
}


def _routes(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def _path(route: str) -> str:
    """A concrete path with every parameter set to Bob's id."""
    path = re.sub(r"\(\?P<\w+>[^)]*\)", str(PK), route)
    path = re.sub(r"<(?:\w+:)?\w+>", str(PK), path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def site_paths() -> list[str]:
    paths = {_path(route) for route in _routes()}
    return sorted(p for p in paths if not p.startswith("/admin/") and "(" not in p)


@pytest.fixture
def bobs_world(alice, bob, maria):
    now = timezone.now()
    account = Account.objects.create(
        pk=PK, name="Bobsecret Holdings", domain="bobsecret.com", owner=bob, tier=1
    )
    contact = Contact.objects.create(
        pk=PK, account=account, first_name="Bobsecret", email="ceo@bobsecret.com"
    )
    deal = Opportunity.objects.create(
        pk=PK, account=account, name="Bobsecret Deal", amount=Decimal(4242), created_at=now
    )
    Lead.objects.create(
        pk=PK, account=account, contact=contact, source_channel="webinar", handed_off_at=now
    )
    playbook = Playbook.objects.create(pk=PK, name="Shared plan", owner=maria, audience_tiers=[1])
    stage = Stage.objects.create(pk=PK, playbook=playbook, name="Find")
    step = Step.objects.create(pk=PK, stage=stage, channel="email", subject="Hi")
    enrolment = Enrolment.objects.create(
        pk=PK, account=account, playbook=playbook, current_stage=stage, enrolled_at=now
    )
    Task.objects.create(
        pk=PK,
        enrolment=enrolment,
        account=account,
        step=step,
        assignee=bob,
        channel="email",
        owner_role="sales",
        subject="Bobsecret task",
        due_at=now,
    )
    Activity.objects.create(
        pk=PK,
        account=account,
        contact=contact,
        channel="email",
        kind="email_click",
        direction="inbound",
        occurred_at=now - dt.timedelta(days=1),
        source="import",
        external_id="bobsecret-1",
        notes="Bobsecret note",
    )
    AttributionCredit.objects.create(
        model="linear",
        kind="pipeline",
        opportunity=deal,
        account=account,
        converted_at=now,
        channel="email",
        weight=1,
        credit=Decimal(4242),
    )
    Goal.objects.create(
        pk=PK,
        name="Bobsecret goal",
        team="sales",
        owner=bob,
        scope_owner=bob,
        metric="pipeline_created",
        target=Decimal(1000),
        start_date=now.date(),
        end_date=now.date() + dt.timedelta(days=30),
    )
    run = Job.objects.create(pk=PK, kind=RunKind.IMPORT, params={"file": "bobsecret.csv"})
    ImportJob.objects.create(
        pk=PK,
        kind="accounts",
        original_name="bobsecret.csv",
        path="var/imports/bobsecret.csv",
        size=1,
        encoding="utf-8",
        delimiter=",",
        uploaded_by=maria,
        run=run,
    )
    token, _ = token_create(user=bob, name="bobsecret token")
    Account.objects.create(name="Alice Visible Co", domain="alice-visible.com", owner=alice)
    return {"bob": bob, "token": token}


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _variants(path: str, bob) -> list[str]:
    return [path, f"{path}?owner={bob.pk}&account={PK}&playbook={PK}&assignee={bob.pk}"]


def test_the_walker_finds_the_routes_it_must(db):
    paths = site_paths()

    assert len(paths) > 80
    for expected in EXPECTED_FOR_ALICE:
        assert expected in paths, expected


def test_a_rep_never_sees_or_changes_another_reps_data(client, alice, bobs_world):
    bob = bobs_world["bob"]
    client.force_login(alice)
    leaks, errors = [], []

    for path in site_paths():
        for url in _variants(path, bob):
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                body = _body(response)
                if response.status_code >= 500:
                    errors.append(f"{method.upper()} {url}: {response.status_code}")
                if MARKER in body.lower():
                    leaks.append(f"{method.upper()} {url}: {response.status_code}")

    assert errors == []
    assert leaks == []
    account = Account.objects.get(pk=PK)
    assert (account.owner, account.name, account.tier) == (bob, "Bobsecret Holdings", 1)
    assert Task.objects.get(pk=PK).status == "open"
    assert Enrolment.objects.get(pk=PK).status == "active"
    assert Goal.objects.filter(pk=PK).exists()
    bobs_world["token"].refresh_from_db()
    assert bobs_world["token"].revoked_at is None


@pytest.mark.parametrize(("path", "status"), EXPECTED_FOR_ALICE.items())
def test_another_reps_objects_are_missing_or_forbidden(client, alice, bobs_world, path, status):
    client.force_login(alice)

    assert client.get(path).status_code == status


def test_the_owner_does_see_the_marker_so_a_leak_would_show(client, bobs_world):
    client.force_login(bobs_world["bob"])

    for path in (f"/accounts/{PK}/", f"/api/accounts/{PK}/", "/metrics/sales/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert MARKER in _body(response).lower(), path


def test_anonymous_visitors_get_the_login_page_or_a_401(client, bobs_world):
    problems = []

    for path in site_paths():
        response = client.get(path)
        body = _body(response).lower()
        if MARKER in body or response.status_code >= 500:
            problems.append(f"{path}: {response.status_code}")
        elif path not in PUBLIC and response.status_code == 200:
            problems.append(f"{path}: 200 for an anonymous visitor")
        elif response.status_code in (301, 302) and not response["Location"].startswith(
            ("/login/", "/static/")
        ):
            problems.append(f"{path}: redirects to {response['Location']}")

    assert problems == []


@pytest.mark.parametrize("username", ["maria", "diana"])
def test_no_route_fails_for_the_roles_that_see_everything(client, bobs_world, username, request):
    client.force_login(request.getfixturevalue(username))
    errors = []

    for path in site_paths():
        response = client.get(path)
        if response.status_code >= 500:
            errors.append(f"{path}: {response.status_code}")

    assert errors == []
