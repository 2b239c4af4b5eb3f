"""The audit trail: every audited change writes an event, and only directors and admins read it."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from abm.audit import AuditAction, AuditTarget, audit_record, audit_record_many
from abm.models import AuditEvent
from accounts.assignment import account_assign
from accounts.icp import icp_save
from accounts.models import Account
from accounts.scoring import IcpCriteria
from accounts.tiering import accounts_set_tier
from goals.models import Goal
from ingestion.import_jobs import import_file
from playbooks import building, lifecycle
from playbooks.models import PlaybookStatus
from tests.factories import AccountFactory, GoalFactory

pytestmark = pytest.mark.django_db

# Goals must end in the future (SMART "Timely"): the second quarter of next year.
NEXT_YEAR = dt.datetime.now(tz=dt.UTC).year + 1
START, END = dt.date(NEXT_YEAR, 4, 1), dt.date(NEXT_YEAR, 6, 30)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def only(action: str) -> AuditEvent:
    found = events(action)
    assert len(found) == 1, [e.changes for e in found]
    return found[0]


# --- Accounts -------------------------------------------------------------------------------


def test_assigning_accounts_records_one_event_per_account_that_moved(diana, alice, bob):
    acme = AccountFactory(name="Acme", owner=alice)
    globex = AccountFactory(name="Globex", owner=None)
    kept = AccountFactory(name="Kept", owner=bob)

    account_assign(accounts=Account.objects.all(), owner=bob, by=diana)

    found = {e.object_label: e for e in events(AuditAction.ACCOUNT_OWNER_CHANGED)}
    assert set(found) == {"Acme", "Globex"}  # Kept already belonged to bob
    assert found["Acme"].changes == {"owner": ["alice", "bob"]}
    assert found["Globex"].changes == {"owner": [None, "bob"]}
    assert (found["Acme"].actor, found["Acme"].object_type) == (diana, "account")
    assert found["Acme"].object_id == str(acme.pk)
    assert not AuditEvent.objects.filter(object_id=str(kept.pk)).exists()
    assert globex.pk


def test_setting_tiers_records_the_old_and_new_tier_per_account(maria):
    AccountFactory(name="Acme", tier=2)
    AccountFactory(name="Beta", tier=None)
    AccountFactory(name="Same", tier=1)

    changed = accounts_set_tier(accounts=Account.objects.all(), tier=1, by=maria)

    assert changed == 2
    found = {e.object_label: e.changes for e in events(AuditAction.ACCOUNT_TIER_CHANGED)}
    assert found == {"Acme": {"tier": [2, 1]}, "Beta": {"tier": [None, 1]}}
    assert Account.objects.filter(tier=1).count() == 3


# --- Playbooks ------------------------------------------------------------------------------


@pytest.fixture
def playbook(maria):
    playbook = building.playbook_create(name="Tier 1 expansion", by=maria, audience_tiers=[1])
    stage = playbook.stages.get(name="Find")
    building.step_add(stage=stage, by=maria, subject="Hi {{ account.name }}", body="Hello")
    return playbook


def test_status_changes_are_recorded_with_who_and_from_what(playbook, maria):
    lifecycle.playbook_activate(playbook=playbook, by=maria)
    lifecycle.playbook_pause(playbook=playbook, by=maria)
    lifecycle.playbook_archive(playbook=playbook, by=maria)

    rows = [(e.changes["status"], e.actor) for e in events(AuditAction.PLAYBOOK_STATUS_CHANGED)]
    assert rows == [
        (["draft", "active"], maria),
        (["active", "paused"], maria),
        (["paused", "archived"], maria),
    ]


def test_a_refused_transition_records_nothing(playbook, maria):
    playbook.status = PlaybookStatus.ARCHIVED
    playbook.save()
    with pytest.raises(ValidationError):
        lifecycle.playbook_activate(playbook=playbook, by=maria)
    assert not events(AuditAction.PLAYBOOK_STATUS_CHANGED)


def test_steps_added_changed_moved_and_removed_are_recorded(playbook, maria):
    stage = playbook.stages.get(name="Find")
    added = only(AuditAction.PLAYBOOK_STEP_ADDED)
    assert added.object_type == "step"
    assert added.object_label.startswith("Tier 1 expansion › Find › Email")
    assert added.changes["subject"] == [None, "Hi {{ account.name }}"]

    second = building.step_add(stage=stage, by=maria, channel="linkedin")
    step = stage.steps.order_by("order").first()
    # A bound form changes the instance before the service runs; the old value must still show.
    step.day_offset = 5
    building.step_update(step=step, by=maria, day_offset=5, subject="Hi {{ account.name }}")
    building.step_move(step=second, by=maria, direction="up")
    second_id = second.pk
    building.step_remove(step=second, by=maria)

    assert only(AuditAction.PLAYBOOK_STEP_CHANGED).changes == {"day_offset": [0, 5]}
    assert only(AuditAction.PLAYBOOK_STEP_MOVED).changes == {"order": [1, 0]}
    removed = only(AuditAction.PLAYBOOK_STEP_REMOVED)
    assert removed.changes["channel"] == ["linkedin", None]
    assert removed.object_id == str(second_id)


def test_an_update_that_changes_nothing_records_nothing(playbook, maria):
    step = playbook.stages.get(name="Find").steps.get()
    building.step_update(step=step, by=maria, subject=step.subject)
    assert not events(AuditAction.PLAYBOOK_STEP_CHANGED)


def test_playbook_details_changed_are_recorded_with_the_old_values(playbook, maria, diana):
    # A bound form changes the instance before the service runs; the old value must still show.
    playbook.budget = Decimal("7500")
    building.playbook_update(playbook=playbook, by=diana, budget=Decimal("7500"), owner=diana)
    event = only(AuditAction.PLAYBOOK_CHANGED)
    assert event.actor == diana
    assert event.object_label == "Tier 1 expansion"
    assert event.changes["owner"] == [maria.pk, diana.pk]
    assert [Decimal(value) for value in event.changes["budget"]] == [0, 7500]  # money as text
    building.playbook_update(playbook=playbook, by=diana, budget=Decimal("7500"))
    assert len(events(AuditAction.PLAYBOOK_CHANGED)) == 1  # nothing changed: nothing recorded


def test_stage_changes_are_recorded(playbook, maria):
    stage = building.stage_add(playbook=playbook, by=maria, name="Expand")
    building.stage_update(stage=stage, by=maria, name="Expansion", exit_stage="customer")
    building.stage_move(stage=stage, by=maria, direction="up")
    building.stage_remove(stage=stage, by=maria)

    assert only(AuditAction.PLAYBOOK_STAGE_ADDED).changes["name"] == [None, "Expand"]
    assert only(AuditAction.PLAYBOOK_STAGE_CHANGED).changes == {
        "name": ["Expand", "Expansion"],
        "exit_stage": ["", "customer"],
    }
    assert only(AuditAction.PLAYBOOK_STAGE_MOVED).changes == {"order": [4, 3]}
    assert only(AuditAction.PLAYBOOK_STAGE_REMOVED).object_label == "Tier 1 expansion › Expansion"


# --- Goals, ICP, imports --------------------------------------------------------------------


def goal_post(owner, **changes) -> dict:
    data = {
        "name": "Tier 1 pipeline",
        "team": "sales",
        "owner": owner.pk,
        "metric": "pipeline_created",
        "scope_tiers": ["1"],
        "start_date": START.isoformat(),
        "end_date": END.isoformat(),
        "target": "200000",
        "milestones-TOTAL_FORMS": "0",
        "milestones-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_goals_created_changed_and_deleted_through_the_pages_are_recorded(client, diana, alice):
    client.force_login(diana)
    client.post(reverse("goals:goal_create"), goal_post(alice))
    goal = Goal.objects.get()
    client.post(reverse("goals:goal_edit", args=[goal.pk]), goal_post(alice, target="250000"))
    client.post(reverse("goals:goal_delete", args=[goal.pk]))

    created = only(AuditAction.GOAL_CREATED)
    assert (created.actor, created.object_label) == (diana, "Tier 1 pipeline")
    assert created.changes["target"] == [None, "200000"]
    # The stored 200000.0000 and the typed 200000 are one amount: only the real change shows.
    assert only(AuditAction.GOAL_CHANGED).changes == {"target": ["200000", "250000"]}
    deleted = only(AuditAction.GOAL_DELETED)
    assert deleted.object_id == str(goal.pk)
    assert deleted.changes["name"] == ["Tier 1 pipeline", None]
    assert not Goal.objects.exists()


def test_deleting_a_goal_names_the_child_goals_that_go_with_it(diana):
    from goals.tracking import goal_delete

    parent = GoalFactory(owner=diana, name="All pipeline", target=Decimal(10))
    GoalFactory(owner=diana, name="Tier 1 part", parent=parent)

    goal_delete(goal=parent, by=diana)

    assert only(AuditAction.GOAL_DELETED).changes["child_goals"] == [["Tier 1 part"], None]


def test_saving_the_icp_records_the_criteria_that_changed(maria):
    icp_save(criteria=IcpCriteria(industries=("Software",), industries_weight=2), by=maria)
    icp_save(criteria=IcpCriteria(industries=("Software", "Retail"), industries_weight=2), by=maria)

    first, second = events(AuditAction.ICP_SAVED)
    assert first.changes["industries"] == [None, ["Software"]]
    assert second.changes == {"industries": [["Software"], ["Software", "Retail"]]}
    assert second.actor == maria


def test_an_import_records_its_start_and_its_counts(maria, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    path = tmp_path / "companies.csv"
    path.write_text("Account Name,Website\nAcme,acme.com\nBeta,beta.io\nBad,\n")

    job = import_file(kind="accounts", path=path, by=maria)

    started = only(AuditAction.IMPORT_STARTED)
    finished = only(AuditAction.IMPORT_FINISHED)
    assert started.changes == {"kind": "accounts", "file": "companies.csv", "bytes": job.size}
    assert (finished.changes["created"], finished.changes["rejected"]) == (2, 1)
    assert finished.object_id == str(job.pk)
    assert started.actor == finished.actor == maria


def test_a_system_change_has_no_actor(db):
    event = audit_record(
        actor=None, action="account.tier_changed", obj=AuditTarget("account", 1, "Acme")
    )
    assert (event.actor, event.actor_label) == (None, "")


# --- The page -------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "status"), [("diana", 200), ("root", 200)])
def test_directors_and_admins_read_the_trail(client, diana, root, username, status):
    client.force_login({"diana": diana, "root": root}[username])
    assert client.get(reverse("audit")).status_code == status


@pytest.mark.parametrize("username", ["alice", "maria"])
def test_reps_and_marketers_get_403(client, alice, maria, username):
    client.force_login({"alice": alice, "maria": maria}[username])
    assert client.get(reverse("audit")).status_code == 403
    assert client.get(reverse("audit"), {"export": "csv"}).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client, db):
    response = client.get(reverse("audit"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def record(actor, action, label, at):
    event = audit_record(actor=actor, action=action, obj=AuditTarget("account", 1, label))
    AuditEvent.objects.filter(pk=event.pk).update(at=at)


def test_the_page_lists_newest_first_and_filters(client, diana, maria, alice):
    now = timezone.now()
    record(maria, AuditAction.ACCOUNT_TIER_CHANGED, "Old tier", now - dt.timedelta(days=10))
    record(diana, AuditAction.ACCOUNT_OWNER_CHANGED, "New owner", now)
    record(maria, AuditAction.ACCOUNT_OWNER_CHANGED, "Maria owner", now - dt.timedelta(days=1))
    client.force_login(diana)

    html = client.get(reverse("audit")).content.decode()
    assert html.index("New owner") < html.index("Maria owner") < html.index("Old tier")

    def labels(**params):
        page = client.get(reverse("audit"), params).context["page"]
        return [event.object_label for event in page]

    assert labels(actor=maria.pk) == ["Maria owner", "Old tier"]
    assert labels(action="account.owner_changed") == ["New owner", "Maria owner"]
    assert labels(object_type="goal") == []
    since = (now - dt.timedelta(days=2)).date().isoformat()
    assert labels(since=since) == ["New owner", "Maria owner"]
    until = (now - dt.timedelta(days=5)).date().isoformat()
    assert labels(until=until) == ["Old tier"]


def test_a_bad_filter_is_dropped_with_a_note(client, diana):
    client.force_login(diana)
    response = client.get(reverse("audit"), {"since": "yesterday", "action": "nope"})
    assert response.status_code == 200
    assert len(response.context["problems"]) == 2


def test_the_page_pages_with_a_flat_query_count(client, diana, maria):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    target = AuditTarget("account", 1, "Acme")
    client.force_login(diana)

    def queries(events: int) -> int:
        audit_record_many(
            actor=maria, action=AuditAction.ACCOUNT_TIER_CHANGED, items=[(target, {})] * events
        )
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("audit"), {"page": 2})
        assert response.status_code == 200
        return len(captured)

    few, many = queries(60), queries(240)
    # session, user, the actor choices, count, page.
    assert few == many == 5


def test_the_csv_export_escapes_formula_cells(client, diana, maria):
    audit_record(
        actor=maria,
        action=AuditAction.ACCOUNT_TIER_CHANGED,
        obj=AuditTarget("account", 7, '=HYPERLINK("http://evil")'),
        changes={"tier": [None, 1]},
    )
    client.force_login(diana)

    response = client.get(reverse("audit"), {"export": "csv"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["at", "actor", "action", "object_type", "object_id", "object", "changes"]
    assert rows[1][1:6] == [
        "maria",
        "account.tier_changed",
        "account",
        "7",
        '\'=HYPERLINK("http://evil")',
    ]
    assert rows[1][6] == '{"tier": [null, 1]}'


@pytest.mark.parametrize(("username", "shown"), [("diana", True), ("root", True), ("maria", False)])
def test_the_top_bar_links_the_trail_for_those_who_may_read_it(
    client, diana, root, maria, username, shown
):
    client.force_login({"diana": diana, "root": root, "maria": maria}[username])
    html = client.get(reverse("tokens")).content.decode()
    assert (f'href="{reverse("audit")}"' in html) is shown
