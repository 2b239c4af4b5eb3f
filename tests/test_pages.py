"""Every page behind the navigation: who may open it, what it shows them, and how many queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from abm.models import Job, RunKind, RunStatus
from accounts.models import Account, Contact, JourneyStage, Opportunity, OpportunityStage
from goals.choices import GoalMetric, GoalTeam
from goals.models import Goal
from playbooks.models import Activity, Enrolment, EnrolmentStatus, Playbook, Stage, Step, Task

PASSWORD = "pw-for-tests-1"


def make_account(owner, name: str, **extra) -> Account:
    domain = name.lower().replace(" ", "-") + ".example"
    return Account.objects.create(name=name, domain=domain, owner=owner, **extra)


def make_opportunity(account, name: str, amount: int, stage=OpportunityStage.DISCOVERY, **extra):
    now = timezone.now()
    closed = stage in (OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST)
    return Opportunity.objects.create(
        account=account,
        name=name,
        amount=Decimal(amount),
        stage=stage,
        created_at=now - timedelta(days=60),
        closed_at=now - timedelta(days=5) if closed else None,
        **extra,
    )


def make_playbook(name="Tier 1 expansion", **extra) -> tuple[Playbook, Step]:
    playbook = Playbook.objects.create(name=name, **extra)
    stage = Stage.objects.create(playbook=playbook, order=1, name="Find")
    step = Step.objects.create(stage=stage, order=1, channel="email", subject="Intro email")
    Step.objects.create(stage=stage, order=2, channel="linkedin", day_offset=3)
    Stage.objects.create(playbook=playbook, order=2, name="Nurture")
    return playbook, step


def make_task(account, playbook, step, assignee, *, due_in_days: int, subject: str) -> Task:
    enrolment, _ = Enrolment.objects.get_or_create(
        account=account, playbook=playbook, defaults={"enrolled_at": timezone.now()}
    )
    return Task.objects.create(
        enrolment=enrolment,
        step=step,
        account=account,
        assignee=assignee,
        channel=step.channel,
        owner_role="sales",
        subject=subject,
        due_at=timezone.now() + timedelta(days=due_in_days),
    )


@pytest.fixture
def users(alice, bob, maria, diana, root):
    return {"alice": alice, "bob": bob, "maria": maria, "diana": diana, "root": root}


@pytest.fixture
def book(alice, bob):
    """Two reps' accounts: alice owns Acme, bob owns Globex."""
    acme = make_account(alice, "Acme Robotics", tier=1, stage=JourneyStage.ENGAGED)
    globex = make_account(bob, "Globex Systems", tier=2, stage=JourneyStage.OPPORTUNITY)
    make_opportunity(acme, "Acme platform", 120_000)
    make_opportunity(globex, "Globex rollout", 900_000)
    make_opportunity(globex, "Globex pilot", 50_000, stage=OpportunityStage.CLOSED_WON)
    return {"acme": acme, "globex": globex}


PAGES = ["accounts:list", "ingestion:import", "playbooks:list", "playbooks:tasks"]
PAGES += ["goals:goals", "dashboards:director", "dashboards:marketer", "dashboards:sales"]
PAGES += ["metrics:touch_rules"]
FORBIDDEN = {("ingestion:import", "alice"), ("ingestion:import", "diana")}
FORBIDDEN |= {("dashboards:director", "alice"), ("dashboards:marketer", "alice")}
FORBIDDEN |= {("metrics:touch_rules", "alice")}


@pytest.mark.parametrize("url_name", PAGES)
@pytest.mark.parametrize("username", ["alice", "maria", "diana", "root"])
def test_each_page_answers_each_role(client, users, url_name, username):
    client.force_login(users[username])

    response = client.get(reverse(url_name))

    assert response.status_code == (403 if (url_name, username) in FORBIDDEN else 200)


@pytest.mark.parametrize("url_name", PAGES)
def test_anonymous_users_are_sent_to_login(client, db, url_name):
    url = reverse(url_name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_account_detail_anonymous_goes_to_login(client, book):
    response = client.get(reverse("accounts:detail", args=[book["acme"].pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_hides_other_reps_accounts_on_the_list(client, alice, book):
    client.force_login(alice)

    response = client.get(reverse("accounts:list"))

    assert [a.name for a in response.context["page"]] == ["Acme Robotics"]
    assert "Globex" not in response.content.decode()
    assert response.context["title"] == "My accounts"


def test_marketers_see_every_account(client, maria, book):
    client.force_login(maria)

    response = client.get(reverse("accounts:list"))

    assert [a.name for a in response.context["page"]] == ["Acme Robotics", "Globex Systems"]
    assert response.context["title"] == "Accounts"


@pytest.mark.parametrize(
    ("q", "expected"), [("acme", ["Acme Robotics"]), ("X-SYSTEMS.EX", ["Globex Systems"])]
)
def test_search_matches_name_or_domain(client, maria, book, q, expected):
    client.force_login(maria)

    response = client.get(reverse("accounts:list"), {"q": q})

    assert [a.name for a in response.context["page"]] == expected


def test_search_without_matches_says_what_to_do(client, maria, book):
    client.force_login(maria)

    response = client.get(reverse("accounts:list"), {"q": "nothing-like-this"})

    assert "No accounts match" in response.content.decode()


def test_account_list_pages_by_fifty(client, maria, db):
    Account.objects.bulk_create(
        Account(name=f"Company {i:03}", domain=f"company{i:03}.example") for i in range(60)
    )
    client.force_login(maria)

    first = client.get(reverse("accounts:list"))
    second = client.get(reverse("accounts:list"), {"page": 2})

    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 10
    assert "?page=2" in first.content.decode()


@pytest.mark.parametrize("count", [10, 60])
def test_account_list_queries_do_not_grow_with_rows(
    client, maria, alice, bob, django_assert_max_num_queries, count
):
    owners = [alice, bob, maria]
    Account.objects.bulk_create(
        Account(name=f"Company {i:03}", domain=f"c{i:03}.example", owner=owners[i % 3])
        for i in range(count)
    )
    client.force_login(maria)

    # Session, user, the filter options (industry x country pairs, sales reps), the playbooks a
    # marketer can enrol into, count, one page of accounts with their owners.
    with django_assert_max_num_queries(7):
        response = client.get(reverse("accounts:list"))

    assert response.status_code == 200


@pytest.mark.parametrize("count", [2, 12])
def test_other_list_pages_query_counts_do_not_grow_with_rows(
    client, alice, bob, diana, django_assert_max_num_queries, count
):
    today = timezone.localdate()
    for i in range(count):
        owner = (alice, bob)[i % 2]
        account = make_account(owner, f"Company {i}")
        playbook, step = make_playbook(name=f"Playbook {i}", owner=owner, status="active")
        for due_in_days in (-3, 2, 20):
            extra_step = Step.objects.create(stage=step.stage, order=9, channel="phone")
            make_task(account, playbook, extra_step, owner, due_in_days=due_in_days, subject="x")
        Goal.objects.create(
            name=f"Goal {i}",
            team=GoalTeam.SALES,
            owner=owner,
            scope_owner=owner,
            scope_playbook=playbook,
            metric=GoalMetric.MEETINGS_HELD,
            target=10,
            start_date=today,
            end_date=today + timedelta(days=90),
        )
    client.force_login(diana)

    # Session and user, then: count + page; one aggregate + one query per due group; goals.
    for url_name, bound in [("playbooks:list", 4), ("playbooks:tasks", 6), ("goals:goals", 3)]:
        with django_assert_max_num_queries(bound):
            assert client.get(reverse(url_name)).status_code == 200


def test_rep_opening_another_reps_account_gets_404(client, alice, book):
    client.force_login(alice)

    assert client.get(reverse("accounts:detail", args=[book["acme"].pk])).status_code == 200
    assert client.get(reverse("accounts:detail", args=[book["globex"].pk])).status_code == 404


def test_account_detail_shows_committee_opportunities_and_activities(client, maria, book):
    acme = book["acme"]
    Contact.objects.create(
        account=acme,
        first_name="Ada",
        last_name="Ng",
        email="ada@acme.example",
        buying_role="champion",
        seniority="vp",
    )
    Activity.objects.create(
        account=acme,
        channel="email",
        kind="email_reply",
        direction="inbound",
        occurred_at=timezone.now(),
        source="import",
        external_id="a-1",
    )
    client.force_login(maria)

    response = client.get(reverse("accounts:detail", args=[acme.pk]))

    html = response.content.decode()
    assert "Ada Ng" in html
    assert "Acme platform" in html
    assert "Email replied" in html
    assert response.context["missing_roles"] == ["Decision maker", "Influencer"]


def test_dashboard_says_when_no_metrics_were_computed(client, diana, book):
    Job.objects.all().delete()  # the book's writes ran their recompute (eager here)
    client.force_login(diana)

    response = client.get(reverse("dashboards:dashboards"), follow=True)

    assert "No figures computed yet" in response.content.decode()


def test_dashboard_shows_the_time_of_the_last_metrics_run(client, diana, book):
    finished = timezone.now().replace(year=2026, month=3, day=9, hour=4, minute=5)
    Job.objects.create(kind=RunKind.FULL, status=RunStatus.DONE, finished_at=finished, percent=100)
    client.force_login(diana)

    response = client.get(reverse("dashboards:dashboards"), follow=True)

    assert "Data as of Mar 9, 2026 04:05 UTC" in response.content.decode()


def test_reps_see_only_tasks_assigned_to_them(client, alice, bob, maria, book):
    playbook, step = make_playbook(status="active")
    make_task(book["acme"], playbook, step, alice, due_in_days=-2, subject="Call Acme CFO")
    make_task(book["globex"], playbook, step, bob, due_in_days=2, subject="Call Globex CFO")
    client.force_login(alice)

    response = client.get(reverse("playbooks:tasks"))

    assert [t.subject for t in response.context["rows"]] == ["Call Acme CFO"]
    counts = {w.key: w.count for w in response.context["windows"]}
    assert counts == {"overdue": 1, "today": 0, "week": 0, "later": 0}


def test_directors_see_every_open_task_grouped_by_due_date(client, alice, bob, diana, book):
    playbook, step = make_playbook(status="active")
    make_task(book["acme"], playbook, step, alice, due_in_days=-2, subject="Overdue one")
    make_task(book["globex"], playbook, step, bob, due_in_days=3, subject="This week")
    other_step = Step.objects.create(stage=step.stage, order=3, channel="phone")
    make_task(book["globex"], playbook, other_step, bob, due_in_days=30, subject="Later one")
    client.force_login(diana)

    response = client.get(reverse("playbooks:tasks"))

    counts = {w.key: w.count for w in response.context["windows"]}
    assert counts == {"overdue": 1, "today": 0, "week": 1, "later": 1}
    assert [t.subject for t in response.context["rows"]] == [
        "Overdue one",
        "This week",
        "Later one",
    ]


def test_playbook_list_counts_stages_steps_and_enrolments(client, maria, alice, book):
    playbook, _ = make_playbook(status="active")
    Enrolment.objects.create(account=book["acme"], playbook=playbook, enrolled_at=timezone.now())
    Enrolment.objects.create(
        account=book["globex"],
        playbook=playbook,
        enrolled_at=timezone.now(),
        status=EnrolmentStatus.HOLDOUT,
    )
    client.force_login(maria)

    row = client.get(reverse("playbooks:list")).context["page"][0]

    assert (row.stage_count, row.step_count, row.enrolled_count, row.holdout_count) == (2, 2, 1, 1)


def test_playbook_enrolment_counts_are_scoped_for_reps(client, alice, book):
    playbook, _ = make_playbook(status="active")
    Enrolment.objects.create(account=book["acme"], playbook=playbook, enrolled_at=timezone.now())
    Enrolment.objects.create(account=book["globex"], playbook=playbook, enrolled_at=timezone.now())
    client.force_login(alice)

    row = client.get(reverse("playbooks:list")).context["page"][0]

    assert row.enrolled_count == 1


def test_goals_page_shows_reps_only_their_goals(client, alice, bob, diana):
    today = timezone.localdate()
    common = {
        "metric": GoalMetric.PIPELINE_CREATED,
        "target": Decimal(500_000),
        "start_date": today - timedelta(days=30),
        "end_date": today + timedelta(days=60),
    }
    Goal.objects.create(name="Alice pipeline", team=GoalTeam.SALES, owner=alice, **common)
    Goal.objects.create(name="Bob pipeline", team=GoalTeam.SALES, owner=bob, **common)
    Goal.objects.create(
        name="Marketing pipeline",
        team=GoalTeam.MARKETING,
        owner=diana,
        current_value=Decimal(250_000),
        status="on_track",
        **common,
    )

    client.force_login(alice)
    mine = [g.name for g in client.get(reverse("goals:goals")).context["goals"]]
    client.force_login(diana)
    response = client.get(reverse("goals:goals"))

    assert mine == ["Alice pipeline"]
    assert len(response.context["goals"]) == 3
    assert "$500,000" in response.content.decode()
    assert "width: 50%" in response.content.decode()


@pytest.mark.parametrize("url_name", ["accounts:list", "playbooks:list", "playbooks:tasks"])
def test_empty_pages_say_what_to_do(client, maria, url_name):
    client.force_login(maria)

    response = client.get(reverse(url_name))

    assert 'class="empty-state"' in response.content.decode()


def test_login_page_lists_demo_logins_only_in_debug(client, db, settings):
    settings.DEBUG = False
    assert "demo1234" not in client.get(reverse("login")).content.decode()

    settings.DEBUG = True
    assert "demo1234" in client.get(reverse("login")).content.decode()


def test_wrong_password_shows_an_error(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_needs_a_post_and_ends_the_session(client, alice):
    client.force_login(alice)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("accounts:list")).status_code == 302


def test_layout_shows_the_users_name_role_and_logout_form(client, maria):
    client.force_login(maria)

    html = client.get(reverse("accounts:list")).content.decode()

    assert "Maria" in html
    assert "Marketer" in html
    assert f'action="{reverse("logout")}"' in html
    assert "csrfmiddlewaretoken" in html


# The project's apps, from the settings.
OUR_APPS = [name for name in settings.INSTALLED_APPS if (settings.BASE_DIR / name).is_dir()]
ADMIN_MODELS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in OUR_APPS
)


def test_every_domain_model_has_an_admin():
    from django.apps import apps

    models = {
        (m._meta.app_label, m._meta.model_name)
        for app in OUR_APPS
        for m in apps.get_app_config(app).get_models()
    }
    assert models == set(ADMIN_MODELS)


@pytest.mark.parametrize(("app_label", "model_name"), ADMIN_MODELS)
def test_admin_pages_open(client, root, book, app_label, model_name):
    client.force_login(root)

    changelist = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    add = client.get(reverse(f"admin:{app_label}_{model_name}_add"))

    assert changelist.status_code == 200
    # Read-only admins (the audit trail) refuse to add; every other model's add page opens.
    model_admin = next(
        a
        for m, a in admin.site._registry.items()
        if (m._meta.app_label, m._meta.model_name) == (app_label, model_name)
    )
    can_add = model_admin.has_add_permission(changelist.wsgi_request)
    assert add.status_code == (200 if can_add else 403)


def test_recompute_now_runs_the_full_recompute_and_shows_its_progress(
    client, maria, django_capture_on_commit_callbacks
):
    from abm.models import Job, RunKind

    client.force_login(maria)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/metrics/recompute/")
    run = Job.objects.get(kind=RunKind.FULL)
    assert response.status_code == 302
    assert response["Location"] == "/metrics/"
    page = client.get(response["Location"], follow=True)
    assert page.context["figures"].pending == run
    assert b"Queued: figures update in a few seconds" in page.content


@pytest.mark.parametrize("method", ["get", "post"])
def test_reps_cannot_start_a_recompute(client, alice, method):
    client.force_login(alice)
    response = getattr(client, method)("/metrics/recompute/")
    assert response.status_code in (403, 405)
    from abm.models import Job

    assert not Job.objects.exists()
