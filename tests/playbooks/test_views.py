import pytest
from django.urls import reverse
from django.utils import timezone

from playbooks.building import playbook_create, step_add
from playbooks.enrolment import enrol_accounts
from playbooks.lifecycle import playbook_activate
from playbooks.models import Enrolment, Playbook, Step
from playbooks.tasking import generate_due_tasks
from tests.factories import AccountFactory, ContactFactory, GoalFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def users(alice, bob, maria, diana, root):
    return {"alice": alice, "bob": bob, "maria": maria, "diana": diana, "root": root}


@pytest.fixture
def plan(maria, alice, bob):
    """An active tier-1 playbook with a sales call on day 0, enrolled at alice's and bob's accounts."""
    playbook = playbook_create(name="Tier 1 expansion", by=maria, audience_tiers=[1])
    find = playbook.stages.get(name="Find")
    call = step_add(
        stage=find,
        by=maria,
        channel="phone",
        owner_role="sales",
        subject="Call {{ contact.first_name }} at {{ account.name }}",
    )
    step_add(stage=find, by=maria, subject="Benchmark for {{ account.name }}")
    acme = AccountFactory(name="Acme", owner=alice, tier=1)
    globex = AccountFactory(name="Globex", owner=bob, tier=1)
    ContactFactory(account=acme, first_name="Dana")
    ContactFactory(account=globex, first_name="Gus")
    playbook_activate(playbook=playbook, by=maria)
    enrol_accounts(playbook=playbook, account_ids=[acme.pk, globex.pk], seed=1)
    playbook.holdout_share = 0
    generate_due_tasks(now=timezone.now())
    return {"playbook": playbook, "call": call, "acme": acme, "globex": globex}


def url(name, *args):
    return reverse(f"playbooks:{name}", args=args)


# --- Who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["alice", "maria", "diana", "root"])
@pytest.mark.parametrize("page", ["detail", "cadence", "enrolments"])
def test_every_role_reads_a_playbook(client, users, plan, username, page):
    client.force_login(users[username])

    response = client.get(url(page, plan["playbook"].pk))

    assert response.status_code == 200
    html = response.content.decode()
    editor = username in ("maria", "root")
    assert ('data-testid="playbook-actions"' in html) is editor
    if page == "detail":
        assert ('data-testid="add-stage"' in html) is editor
        assert ('data-testid="details-form"' in html) is editor


def new_step(stage, **fields) -> dict:
    """The POST of a new step's form in `stage` (prefix new-step-<stage>)."""
    values = {
        "channel": "phone",
        "day_offset": "0",
        "owner_role": "sales",
        "unit_cost": "0",
        "subject": "",
        "body": "",
        **fields,
    }
    return {f"new-step-{stage.pk}-{name}": value for name, value in values.items()}


@pytest.mark.parametrize(("username", "status"), [("alice", 403), ("diana", 403), ("maria", 200)])
def test_only_marketers_and_admins_change_playbooks(client, users, plan, username, status):
    playbook, call = plan["playbook"], plan["call"]
    client.force_login(users[username])
    stage = playbook.stages.get(name="Find")
    posts = [
        (
            url("details", playbook.pk),
            {"details-name": "Renamed", "details-budget": "0", "details-holdout_percent": "10"},
        ),
        (url("audience", playbook.pk), {"audience-tiers": ["1"]}),
        (url("stage_add", playbook.pk), {}),
        (url("stage_update", playbook.pk, stage.pk), {f"stage-{stage.pk}-name": "Find"}),
        (url("stage_move", playbook.pk, stage.pk), {"direction": "down"}),
        (url("step_create", playbook.pk, stage.pk), new_step(stage, subject="Call")),
        (url("step_move", playbook.pk, call.pk), {"direction": "down"}),
        (url("step_preview", playbook.pk, call.pk), {}),
    ]
    for path, data in posts:
        assert client.post(path, data, **HTMX).status_code == status, path
    assert client.get(url("step_edit", playbook.pk, call.pk)).status_code == status
    assert client.get(url("step_new", playbook.pk, stage.pk), **HTMX).status_code == status
    assert client.get(url("new")).status_code == status


@pytest.mark.parametrize("username", ["alice", "diana"])
def test_readers_cannot_change_status_clone_or_enrol(client, users, plan, username):
    playbook = plan["playbook"]
    client.force_login(users[username])

    for path, data in [
        (url("status", playbook.pk), {"action": "pause"}),
        (url("clone", playbook.pk), {}),
        (url("enrol", playbook.pk), {}),
        (url("unenrol", playbook.pk, Enrolment.objects.first().pk), {}),
    ]:
        assert client.post(path, data).status_code == 403

    playbook.refresh_from_db()
    assert playbook.status == "active"
    assert Playbook.objects.filter(is_starter=False).count() == 1


def test_a_rep_sees_only_their_own_accounts_enrolments(client, alice, plan):
    client.force_login(alice)

    response = client.get(url("enrolments", plan["playbook"].pk))

    assert [e.account.name for e in response.context["page"]] == ["Acme"]
    assert response.context["counts"]["total"] == 1
    assert "Globex" not in response.content.decode()


def test_the_list_hides_starters_and_links_to_each_playbook(client, maria, plan):
    client.force_login(maria)

    response = client.get(url("list"))

    assert [p.name for p in response.context["page"]] == ["Tier 1 expansion"]
    assert url("detail", plan["playbook"].pk) in response.content.decode()


def test_new_offers_the_starters_and_creates_a_draft(client, maria):
    client.force_login(maria)

    page = client.get(url("new"))
    response = client.post(url("new"), {"name": "Fintech nurture", "tiers": ["2"]})

    assert [p.audience_tiers for p in page.context["starters"]] == [[1], [2], [3]]
    playbook = Playbook.objects.get(name="Fintech nurture")
    assert response.url == url("detail", playbook.pk)
    assert (playbook.status, playbook.audience_tiers, playbook.stages.count()) == ("draft", [2], 4)


# --- htmx partials ------------------------------------------------------------------------------


def test_a_saved_step_answers_with_its_row(client, maria, plan):
    playbook, call = plan["playbook"], plan["call"]
    client.force_login(maria)
    prefix = f"step-{call.pk}"

    response = client.post(
        url("step_save", playbook.pk, call.pk),
        {
            f"{prefix}-channel": "linkedin",
            f"{prefix}-day_offset": "2",
            f"{prefix}-owner_role": "sales",
            f"{prefix}-unit_cost": "0",
            f"{prefix}-subject": "Connect with {{ contact.first_name }}",
            f"{prefix}-body": "Glad to connect.",
        },
        **HTMX,
    )

    assert response.status_code == 200
    assert (
        response.content.decode().startswith("<tr")
        or 'class="step-row' in response.content.decode()
    )
    call.refresh_from_db()
    assert (call.channel, call.day_offset) == ("linkedin", 2)


@pytest.mark.parametrize(
    ("field", "text", "needle"),
    [
        (
            "subject",
            "{{ account.owner.password }}",
            "Unknown merge field {{ account.owner.password }}",
        ),
        ("body", "{% load static %}Hello", "template tags, filters and comments are not"),
        ("body", "Hi {{ contact.nickname }}", "Unknown merge field {{ contact.nickname }}"),
    ],
)
def test_a_bad_template_is_an_inline_error_on_the_step_form(
    client, maria, plan, field, text, needle
):
    playbook, call = plan["playbook"], plan["call"]
    client.force_login(maria)
    prefix = f"step-{call.pk}"
    data = {
        f"{prefix}-channel": "phone",
        f"{prefix}-day_offset": "0",
        f"{prefix}-owner_role": "sales",
        f"{prefix}-unit_cost": "0",
        f"{prefix}-subject": "Call",
        f"{prefix}-body": "",
        f"{prefix}-{field}": text,
    }

    response = client.post(url("step_save", playbook.pk, call.pk), data, **HTMX)

    html = response.content.decode()
    assert response.status_code == 422
    assert 'class="step-form-row"' in html
    assert f'id="id_{prefix}-{field}_error"><li>' in html
    assert needle in html.replace("&#x27;", "'")
    call.refresh_from_db()
    assert call.subject.startswith("Call {{")


def test_the_preview_renders_for_a_real_audience_account(client, maria, plan):
    playbook, call = plan["playbook"], plan["call"]
    client.force_login(maria)
    prefix = f"step-{call.pk}"

    response = client.post(
        url("step_preview", playbook.pk, call.pk),
        {
            "preview_account": plan["globex"].pk,
            f"{prefix}-subject": "Hi {{ contact.first_name }} at {{ account.name }}",
            f"{prefix}-body": "{{ owner.first_name }} here.",
        },
        **HTMX,
    )

    assert response.context["preview"].subject == "Hi Gus at Globex"
    assert response.context["preview"].body == "Bob here."


def test_the_preview_shows_template_errors_instead_of_text(client, maria, plan):
    playbook, call = plan["playbook"], plan["call"]
    client.force_login(maria)

    response = client.post(
        url("step_preview", playbook.pk, call.pk),
        {f"step-{call.pk}-subject": "{{ account.owner.password }}"},
        **HTMX,
    )

    assert "Fix the template" in response.content.decode()
    assert "password" not in response.context["preview"].subject


def test_details_autosave_answers_with_a_status_and_out_of_band_errors(client, maria, plan):
    playbook = plan["playbook"]
    client.force_login(maria)
    goal = GoalFactory(owner=maria)
    data = {
        "details-name": "Tier 1 executive",
        "details-objective": "",
        "details-owner": str(maria.pk),
        "details-budget": "25000",
        "details-holdout_percent": "15",
        "details-goal": str(goal.pk),
    }

    saved = client.post(url("details", playbook.pk), data, **HTMX)
    refused = client.post(
        url("details", playbook.pk), {**data, "details-holdout_percent": "80"}, **HTMX
    )

    assert saved.status_code == 200
    assert "Saved" in saved.content.decode()
    assert 'id="playbook-title" hx-swap-oob="true">Tier 1 executive' in saved.content.decode()
    assert refused.status_code == 422
    assert (
        'id="id_details-holdout_percent_error" hx-swap-oob="true"><li>' in refused.content.decode()
    )
    playbook.refresh_from_db()
    assert (playbook.name, playbook.holdout_share, playbook.goal) == (
        "Tier 1 executive",
        0.15,
        goal,
    )


def test_the_audience_answers_with_its_live_count(client, maria, plan):
    playbook = plan["playbook"]
    AccountFactory(tier=2, industry="Software")
    client.force_login(maria)

    response = client.post(
        url("audience", playbook.pk),
        {
            "audience-tiers": ["1", "2"],
            "audience-account_filter": "https://x/accounts/?industry=Software",
        },
        **HTMX,
    )

    assert response.context["audience_count"] == 3
    playbook.refresh_from_db()
    assert (playbook.audience_tiers, playbook.audience_filter) == ([1, 2], {"industry": "Software"})


def test_a_bad_account_filter_is_refused_inline(client, maria, plan):
    client.force_login(maria)

    response = client.post(
        url("audience", plan["playbook"].pk), {"audience-account_filter": "tier=7"}, **HTMX
    )

    assert response.status_code == 422
    assert "“Tier” was ignored" in response.content.decode()


def test_removing_a_stage_with_accounts_in_it_answers_with_the_reason(client, maria, plan):
    playbook = plan["playbook"]
    client.force_login(maria)

    response = client.post(
        url("stage_delete", playbook.pk, playbook.stages.get(name="Find").pk), **HTMX
    )

    assert response.status_code == 422
    assert "2 enrolled accounts are in “Find”" in response.content.decode()


def test_without_htmx_changes_redirect_back_to_the_builder(client, maria, plan):
    playbook = plan["playbook"]
    client.force_login(maria)

    response = client.post(url("stage_add", playbook.pk))

    assert response.status_code == 302
    assert response.url == url("detail", playbook.pk)
    assert playbook.stages.count() == 5


# --- Status, clone, enrolment -------------------------------------------------------------------


def test_activation_problems_are_shown_as_messages(client, maria):
    playbook = playbook_create(name="Empty", by=maria)
    client.force_login(maria)

    response = client.post(url("status", playbook.pk), {"action": "activate"}, follow=True)

    assert "Add at least one step" in response.content.decode()
    playbook.refresh_from_db()
    assert playbook.status == "draft"


def test_clone_opens_the_draft_copy(client, maria, plan):
    client.force_login(maria)

    response = client.post(url("clone", plan["playbook"].pk))

    copy = Playbook.objects.get(name="Tier 1 expansion (copy)")
    assert response.url == url("detail", copy.pk)
    assert Step.objects.filter(stage__playbook=copy).count() == 2


def test_enrolling_the_audience_skips_those_already_in(client, maria, plan):
    playbook = plan["playbook"]
    AccountFactory(name="Initech", tier=1)
    client.force_login(maria)

    response = client.post(url("enrol", playbook.pk), follow=True)

    assert Enrolment.objects.filter(playbook=playbook).count() == 3
    assert "1 already" not in response.content.decode()
    assert "were already enrolled" in response.content.decode()


def test_unenrolling_answers_with_the_exited_row(client, maria, plan):
    playbook = plan["playbook"]
    enrolment = Enrolment.objects.get(account=plan["acme"])
    client.force_login(maria)

    response = client.post(url("unenrol", playbook.pk, enrolment.pk), **HTMX)

    assert "chip-exited" in response.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.status == "exited"
    assert set(enrolment.tasks.values_list("status", flat=True)) == {"skipped"}


def test_the_goal_status_shows_on_the_playbook(client, diana, plan):
    playbook = plan["playbook"]
    playbook.goal = GoalFactory(
        owner=diana, name="Q3 pipeline", target=1_000_000, current_value=600_000, status="at_risk"
    )
    playbook.save()
    client.force_login(diana)

    html = client.get(url("detail", playbook.pk)).content.decode()

    assert "Q3 pipeline" in html
    assert "$600,000 of $1,000,000" in html
    assert "chip-at_risk" in html
