"""The seeded demo tells a plausible year: tasks, journey stages, holdout groups and money.

Seeded once for the module (300 accounts, the `make run` default) and read with independent
queries, never through the dashboards' own code.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Q, Sum

from abm.lib.channels import Direction
from abm.models import Role, User
from accounts.models import CLOSED_STAGES, Account, JourneyStage, Opportunity, OpportunityStage
from demo.seeding import flush_domain_data
from demo.seeding.task_completion import complete_tasks
from metrics.models import BudgetLine, JourneyStageChange
from playbooks.enrolment import holdout_draw
from playbooks.models import Activity, Enrolment, EnrolmentStatus, Playbook, Task, TaskStatus
from playbooks.task_completion import task_complete

TODAY = "2025-06-01"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
YEAR_AGO = NOW - timedelta(days=365)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", "--accounts=300", f"--today={TODAY}", stdout=StringIO())
        yield
        flush_domain_data()
        User.objects.all().delete()


@pytest.mark.django_db
def test_every_rep_and_the_marketer_have_a_handful_of_open_tasks(demo):
    open_tasks = Task.objects.filter(status=TaskStatus.OPEN)
    per_person = dict(open_tasks.values_list("assignee__username").annotate(n=Count("id")))
    people = User.objects.filter(role__in=[Role.SALES, Role.MARKETER])

    assert {person.username for person in people} <= set(per_person)
    assert all(1 <= count <= 60 for count in per_person.values()), per_person


@pytest.mark.django_db
def test_most_tasks_are_done_or_skipped_and_few_are_long_overdue(demo):
    tasks = Task.objects.all()
    by_status = dict(tasks.values_list("status").annotate(n=Count("id")))
    open_tasks = tasks.filter(status=TaskStatus.OPEN)

    assert by_status[TaskStatus.DONE] > 0.75 * tasks.count()
    assert not tasks.filter(due_at__gt=NOW).exists()
    assert open_tasks.filter(due_at__lt=NOW - timedelta(days=14)).count() <= max(
        5, 0.25 * open_tasks.count()
    )
    assert not open_tasks.filter(due_at__lt=NOW - timedelta(days=60)).exists()
    assert not tasks.exclude(status=TaskStatus.OPEN).filter(completed_at__lt=F("due_at")).exists()


@pytest.mark.django_db
def test_each_done_task_recorded_its_activity_when_it_was_done(demo):
    done = Task.objects.filter(status=TaskStatus.DONE)
    activities = Activity.objects.filter(source="task")

    assert activities.count() == done.count()
    mismatched = done.exclude(
        pk__in=[
            int(e.removeprefix("task-")) for e in activities.values_list("external_id", flat=True)
        ]
    )
    assert not mismatched.exists()
    for task in done.order_by("?")[:20]:
        activity = activities.get(external_id=f"task-{task.pk}")
        assert activity.occurred_at == task.completed_at
        assert (activity.account_id, activity.step_id) == (task.account_id, task.step_id)


@pytest.mark.django_db
def test_every_journey_stage_is_reached_including_mqa(demo):
    reached = set(JourneyStageChange.objects.values_list("to_stage", flat=True))
    current = dict(Account.objects.values_list("stage").annotate(n=Count("id")))

    assert set(JourneyStage.values) <= reached
    assert current.get(JourneyStage.MQA, 0) >= 1
    targets = Account.objects.filter(tier__isnull=False).count()
    customers = Account.objects.filter(tier__isnull=False, stage=JourneyStage.CUSTOMER).count()
    assert 0 < customers < 0.4 * targets


@pytest.mark.django_db
def test_accounts_and_contacts_are_in_the_book_before_their_history_begins(demo):
    assert not Account.objects.filter(stage_changes__changed_at__lt=F("created_at")).exists()
    assert not Activity.objects.filter(occurred_at__lt=F("account__created_at")).exists()
    assert not Activity.objects.filter(occurred_at__lt=F("contact__created_at")).exists()


@pytest.mark.django_db
def test_one_playbook_has_enrolled_and_holdout_groups_of_at_least_30(demo):
    groups = (
        Enrolment.objects.values("playbook")
        .annotate(
            enrolled=Count("id", filter=~Q(status=EnrolmentStatus.HOLDOUT)),
            holdout=Count("id", filter=Q(status=EnrolmentStatus.HOLDOUT)),
        )
        .filter(enrolled__gte=30, holdout__gte=30)
    )
    assert groups.exists()


@pytest.mark.django_db
def test_roi_from_raw_sums_is_a_few_x_and_win_rates_are_plausible(demo):
    won = Opportunity.objects.filter(
        stage=OpportunityStage.CLOSED_WON, closed_at__gt=YEAR_AGO, closed_at__lte=NOW
    )
    revenue = won.aggregate(total=Sum("amount"))["total"]
    spend = (
        Activity.objects.aggregate(total=Sum("cost"))["total"] or 0
    ) + BudgetLine.objects.aggregate(total=Sum("amount"))["total"]
    closed = Opportunity.objects.filter(
        stage__in=[OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST]
    )

    assert 1 < (revenue - spend) / spend < 10
    assert 0.15 <= won.count() / closed.filter(closed_at__gt=YEAR_AGO).count() <= 0.4
    assert BudgetLine.objects.aggregate(total=Sum("amount"))["total"] < Decimal("0.8") * spend


@pytest.mark.django_db
def test_the_bulk_completion_writes_what_task_complete_writes(demo):
    task = Task.objects.filter(status=TaskStatus.OPEN).select_related("step").first()
    at = NOW - timedelta(hours=5)
    fields = ("account_id", "contact_id", "channel", "kind", "direction", "occurred_at", "cost")
    fields += ("step_id", "source", "external_id", "notes", "duration_minutes")

    def written():
        activity = Activity.objects.values(*fields).get(external_id=f"task-{task.pk}")
        row = Task.objects.values("status", "completed_at", "completed_by").get(pk=task.pk)
        return activity, row

    savepoint = transaction.savepoint()
    task_complete(task=task, by=task.assignee, at=at)
    by_service = written()
    transaction.savepoint_rollback(savepoint)
    complete_tasks([(task, at)])

    assert written() == by_service


@pytest.mark.django_db
def test_each_enrolment_wave_holds_out_a_share_reproducibly_from_its_stored_seed(demo):

    for playbook in Playbook.objects.filter(is_starter=False):
        enrolments = list(playbook.enrolments.all())
        waves = {e.holdout_seed for e in enrolments}
        assert len(waves) > 1
        for wave in waves:
            members = [e for e in enrolments if e.holdout_seed == wave]
            holdout = {e.account_id for e in members if e.status == EnrolmentStatus.HOLDOUT}
            (enrolled_at,) = {e.enrolled_at for e in members}
            assert holdout == holdout_draw(
                [e.account_id for e in members], share=playbook.holdout_share, seed=wave
            )
        assert not playbook.enrolments.filter(
            Q(current_stage=None) | Q(entered_stage_at=None)
        ).exists()


def win_rate(account_ids: list[int]) -> float:
    closed = Opportunity.objects.filter(account_id__in=account_ids, stage__in=CLOSED_STAGES)
    won = closed.filter(stage=OpportunityStage.CLOSED_WON).count()
    return won / closed.count()


@pytest.mark.django_db
def test_accounts_that_engage_more_win_more(demo):
    inbound = dict(
        Account.objects.filter(opportunities__stage__in=CLOSED_STAGES)
        .annotate(n=Count("activities", filter=Q(activities__direction=Direction.INBOUND)))
        .values_list("pk", "n")
    )
    median = np.median(list(inbound.values()))

    engaged = win_rate([pk for pk, n in inbound.items() if n > median])
    quiet = win_rate([pk for pk, n in inbound.items() if n <= median])

    # A real but modest edge: engagement also drives which accounts get deals at all.
    assert engaged > quiet + 0.05, (engaged, quiet)


@pytest.mark.django_db
def test_targets_get_more_touches_and_the_holdout_fewer_answers(demo):
    per_account = Account.objects.annotate(
        touches=Count("activities"),
        answers=Count("activities", filter=Q(activities__direction=Direction.INBOUND)),
    )

    def mean(queryset, field):
        values = list(queryset.values_list(field, flat=True))
        return sum(values) / len(values)

    assert mean(per_account.filter(tier=1), "touches") > 2 * mean(
        per_account.filter(tier=None), "touches"
    )
    assert 60 < mean(per_account, "touches") < 140
    enrolled = per_account.filter(enrolments__status=EnrolmentStatus.ACTIVE, tier=3)
    held_out = per_account.filter(enrolments__status=EnrolmentStatus.HOLDOUT, tier=3)
    assert mean(enrolled, "answers") > mean(held_out, "answers")
