"""Closing tasks one at a time and in bulk: each once, with its activity once, one recompute."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from abm.models import Job, RunKind, RunStatus
from playbooks.enrolment import enrol_accounts
from playbooks.models import Activity, Task
from playbooks.task_completion import (
    TaskNotOpen,
    task_complete,
    task_skip,
    tasks_complete,
    tasks_skip,
)
from playbooks.tasking import generate_due_tasks
from tests.factories import (
    AccountFactory,
    ContactFactory,
    PlaybookFactory,
    StageFactory,
    StepFactory,
)

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def open_tasks(alice, maria, n: int) -> list[Task]:
    """`n` of alice's open call tasks (12.50 each, aimed at the champion), one per account."""
    playbook = PlaybookFactory(status="active", owner=maria, holdout_share=0)
    find = StageFactory(playbook=playbook, order=0, name="Find")
    StepFactory(
        stage=find,
        channel="phone",
        owner_role="sales",
        day_offset=0,
        unit_cost=Decimal("12.50"),
        subject="Call {{ contact.first_name }}",
        target_buying_role="champion",
    )
    accounts = [AccountFactory(owner=alice) for _ in range(n)]
    for account in accounts[:3]:
        ContactFactory(account=account, first_name="Dee", buying_role="decision_maker")
        ContactFactory(account=account, first_name="Cham", buying_role="champion")
    enrol_accounts(playbook=playbook, account_ids=[a.pk for a in accounts], seed=1)
    generate_due_tasks(now=timezone.now() + dt.timedelta(days=1))
    # The enrolment announced itself and queued a recompute: as if the worker ran it.
    Job.objects.filter(kind=RunKind.INCREMENTAL).update(status=RunStatus.DONE)
    return list(Task.objects.filter(enrolment__playbook=playbook).order_by("pk"))


def recompute_reasons() -> list[str]:
    runs = Job.objects.filter(kind=RunKind.INCREMENTAL).order_by("pk")
    reasons = [run.params["reason"] for run in runs]
    return [r for r in reasons if " enrolled in playbook " not in r]  # open_tasks' own


@pytest.mark.django_db
def test_bulk_complete_records_one_activity_per_task_and_asks_for_one_recompute(alice, maria):
    tasks = open_tasks(alice, maria, 12)

    result = tasks_complete(tasks=tasks, by=alice, notes=" Booth visitors ", at=T0)

    assert (result.closed, result.already_closed) == (12, 0)
    assert recompute_reasons() == ["12 tasks completed"]
    activities = Activity.objects.filter(source="task").order_by("external_id")
    assert activities.count() == 12
    assert {(a.kind, a.cost, a.notes, a.occurred_at) for a in activities} == {
        ("call_attempt", Decimal("12.50"), "Booth visitors", T0)
    }
    champions = [a.contact.first_name for a in activities if a.contact]
    assert champions == ["Cham"] * 3  # the contact the step targets, where the account has one
    rows = Task.objects.filter(pk__in=[t.pk for t in tasks])
    assert set(rows.values_list("status", "completed_at", "completed_by", "note")) == {
        ("done", T0, alice.pk, "Booth visitors")
    }


@pytest.mark.django_db
def test_bulk_complete_again_changes_nothing_and_duplicates_nothing(alice, maria):
    tasks = open_tasks(alice, maria, 6)
    tasks_skip(tasks=tasks[:2], by=alice, note="No budget")
    tasks_complete(tasks=tasks[2:4], by=alice)
    Job.objects.update(status=RunStatus.DONE)

    result = tasks_complete(tasks=tasks, by=maria, notes="Second pass")

    assert (result.closed, result.already_closed) == (2, 4)
    assert Activity.objects.count() == 4
    statuses = list(Task.objects.order_by("pk").values_list("status", "completed_by", "note"))
    assert statuses == [
        ("skipped", alice.pk, "No budget"),
        ("skipped", alice.pk, "No budget"),
        ("done", alice.pk, ""),
        ("done", alice.pk, ""),
        ("done", maria.pk, "Second pass"),
        ("done", maria.pk, "Second pass"),
    ]
    assert recompute_reasons() == ["2 tasks completed", "2 tasks completed"]


@pytest.mark.django_db
def test_a_bulk_of_nothing_open_asks_for_no_recompute(alice, maria):
    tasks = open_tasks(alice, maria, 3)
    tasks_skip(tasks=tasks, by=alice)

    result = tasks_complete(tasks=Task.objects.filter(pk__in=[t.pk for t in tasks]), by=alice)

    assert (result.closed, result.already_closed) == (0, 3)
    assert recompute_reasons() == []
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_each_task_may_be_done_at_its_own_time(alice, maria):
    tasks = open_tasks(alice, maria, 3)

    tasks_complete(tasks=tasks, by=alice, at=lambda task: task.due_at + dt.timedelta(hours=2))

    for task in Task.objects.all():
        activity = Activity.objects.get(external_id=f"task-{task.pk}")
        assert task.completed_at == activity.occurred_at == task.due_at + dt.timedelta(hours=2)


@pytest.mark.django_db
def test_one_task_completes_once_at_the_time_given(alice, maria):
    (task,) = open_tasks(alice, maria, 1)

    activity = task_complete(task=task, by=alice, notes="Voicemail", at=T0)
    again = task_complete(task=task, by=maria, notes="Twice")

    assert activity == again
    assert (activity.occurred_at, activity.notes) == (T0, "Voicemail")
    task.refresh_from_db()
    assert (task.status, task.completed_at, task.completed_by) == ("done", T0, alice)
    assert recompute_reasons() == [f"task #{task.pk} completed"]


@pytest.mark.django_db
def test_a_skipped_task_cannot_be_completed_and_keeps_its_note(alice, maria):
    (task,) = open_tasks(alice, maria, 1)
    task_skip(task=task, by=alice, note="Account churned", at=T0)

    with pytest.raises(TaskNotOpen, match="was skipped"):
        task_complete(task=task, by=alice)

    task.refresh_from_db()
    assert (task.status, task.completed_at, task.note) == ("skipped", T0, "Account churned")
    assert not Activity.objects.exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks between connections: PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_two_people_closing_the_same_tasks_at_once_close_each_once(alice, maria, root):
    tasks = open_tasks(alice, maria, 40)
    start = threading.Barrier(2)
    results = {}

    def close(name, user):
        start.wait()
        try:
            results[name] = tasks_complete(tasks=tasks, by=user, notes=name)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=close, args=(name, user))
        for name, user in (("alice", alice), ("root", root))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.closed for r in results.values()) == [0, 40]
    assert all(r.closed + r.already_closed == 40 for r in results.values())
    assert Activity.objects.count() == 40
    assert len(set(Task.objects.values_list("completed_by", flat=True))) == 1
