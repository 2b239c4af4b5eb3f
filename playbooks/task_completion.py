"""Closing tasks: completing one records what was done on the account's timeline; skipping records
nothing. One task or hundreds, each is closed once.

A bulk call costs the same handful of queries whatever its size: the open tasks are locked and read
in one query, closed in one UPDATE, their activities written with one bulk_create, and one recompute
is requested. Two people closing the same tasks at once: the second waits for the first, then finds
them closed and leaves them alone.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from abm.change_feed import announce_change
from abm.lib.channels import ActivityKind, Channel, Direction
from accounts.models import Contact
from playbooks.models import Activity, ActivitySource, Task, TaskStatus
from playbooks.tasking import target_contact

# What doing a step's task records on the account's timeline.
COMPLETION_KIND = {
    Channel.EMAIL: ActivityKind.EMAIL_SENT,
    Channel.LINKEDIN: ActivityKind.LINKEDIN_MESSAGE,
    Channel.PAID_SOCIAL: ActivityKind.AD_IMPRESSION,
    Channel.DISPLAY: ActivityKind.AD_IMPRESSION,
    Channel.DIRECT_MAIL: ActivityKind.DIRECT_MAIL_SENT,
    Channel.EVENT: ActivityKind.EVENT_ATTENDED,
    Channel.WEBINAR: ActivityKind.WEBINAR_ATTENDED,
    Channel.PHONE: ActivityKind.CALL_ATTEMPT,
    Channel.SDR_OUTREACH: ActivityKind.EMAIL_SENT,
    Channel.CONTENT: ActivityKind.EMAIL_SENT,
    Channel.WEB_PERSONALISATION: ActivityKind.WEB_VISIT,
}
NOTE_MAX_LENGTH = 2000

# When a task was done: one moment for all, or one per task (the demo seeder's simulated year).
When = dt.datetime | Callable[[Task], dt.datetime] | None


@dataclass(frozen=True)
class TasksClosed:
    closed: int  # done (or skipped) by this call
    already_closed: int  # given, but done or skipped before: left alone


class TaskNotOpen(ValidationError):
    """Completing a task that was skipped: a skipped step was not done."""


def activity_external_id(task_id: int) -> str:
    return f"task-{task_id}"


def task_complete(*, task: Task, by, notes: str = "", at: dt.datetime | None = None) -> Activity:
    """Mark the task done and record what was done on the account's timeline, once.

    Completing a done task again changes nothing and returns its activity; a skipped one raises
    TaskNotOpen.
    """
    with transaction.atomic():
        tasks_complete(tasks=[task], by=by, notes=notes, at=at)
        activity = Activity.objects.filter(
            source=ActivitySource.TASK, external_id=activity_external_id(task.pk)
        ).first()
        if activity is None:
            raise TaskNotOpen("This task was skipped; it cannot be completed.")
    return activity


def task_skip(*, task: Task, by, note: str = "", at: dt.datetime | None = None) -> None:
    """Close an open task without doing it; a done or skipped task is left alone."""
    tasks_skip(tasks=[task], by=by, note=note, at=at)


def tasks_complete(
    *, tasks: Iterable[Task] | QuerySet[Task], by, notes: str = "", at: When = None
) -> TasksClosed:
    """Complete every open task among `tasks` in one transaction, each with its activity."""
    notes = notes.strip()[:NOTE_MAX_LENGTH]
    ids = _ids(tasks)
    with transaction.atomic():
        open_tasks = _lock_open(ids)
        _close(open_tasks, status=TaskStatus.DONE, by=by, note=notes, at=at)
        contacts = _contacts_by_account(open_tasks)
        # ignore_conflicts: the unique (source, external_id) is the last guard against a second
        # activity for the same task, should anything have closed it outside these functions.
        Activity.objects.bulk_create(
            [_activity(task, contacts.get(task.account_id, []), notes) for task in open_tasks],
            ignore_conflicts=True,
            batch_size=1_000,
        )
        if open_tasks:
            n = len(open_tasks)
            reason = f"task #{open_tasks[0].pk} completed" if n == 1 else f"{n} tasks completed"
            announce_change(reason=reason, account_ids=[t.account_id for t in open_tasks])
    return TasksClosed(closed=len(open_tasks), already_closed=len(ids) - len(open_tasks))


def tasks_skip(
    *, tasks: Iterable[Task] | QuerySet[Task], by, note: str = "", at: When = None
) -> TasksClosed:
    """Skip every open task among `tasks` in one transaction; nothing goes on the timeline."""
    ids = _ids(tasks)
    with transaction.atomic():
        open_tasks = _lock_open(ids)
        _close(
            open_tasks, status=TaskStatus.SKIPPED, by=by, note=note.strip()[:NOTE_MAX_LENGTH], at=at
        )
    return TasksClosed(closed=len(open_tasks), already_closed=len(ids) - len(open_tasks))


def _ids(tasks) -> list[int]:
    if isinstance(tasks, QuerySet):
        return list(tasks.order_by().values_list("pk", flat=True).distinct())
    return list(dict.fromkeys(task.pk for task in tasks))


def _lock_open(ids: list[int]) -> list[Task]:
    if not ids:
        return []
    if connection.vendor == "sqlite":
        # SQLite has one writer and no row locks: take the write lock before reading, or a
        # transaction that read before another committed fails on its first write.
        Task.objects.filter(pk__in=ids, status=TaskStatus.OPEN).update(status=TaskStatus.OPEN)
    # PostgreSQL: a second transaction waits on the row locks, then re-reads: closed rows drop out.
    return list(
        Task.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, status=TaskStatus.OPEN)
        .select_related("step")
        .order_by("pk")
    )


def _close(tasks: list[Task], *, status: str, by, note: str, at: When) -> None:
    now = timezone.now()
    for task in tasks:
        moment = at(task) if callable(at) else at
        task.status, task.completed_at, task.completed_by = status, moment or now, by
        task.note = note
    if not callable(at):
        Task.objects.filter(pk__in=[task.pk for task in tasks]).update(
            status=status, completed_at=at or now, completed_by=by, note=note
        )
    elif tasks:
        Task.objects.bulk_update(
            tasks, ["status", "completed_at", "completed_by", "note"], batch_size=1_000
        )


def _contacts_by_account(tasks: list[Task]) -> dict[int, list[Contact]]:
    account_ids = {task.account_id for task in tasks if task.step_id}
    contacts: dict[int, list[Contact]] = {}
    if account_ids:
        for contact in Contact.objects.filter(account_id__in=account_ids).order_by("pk"):
            contacts.setdefault(contact.account_id, []).append(contact)
    return contacts


def _activity(task: Task, contacts: list[Contact], notes: str) -> Activity:
    step = task.step
    # The contact the step spoke to, chosen as when the task was generated (the task keeps only
    # the rendered text), so the timeline names the person and their seniority weighs in.
    contact = (
        target_contact(
            contacts, buying_role=step.target_buying_role, seniority=step.target_seniority
        )
        if step
        else None
    )
    return Activity(
        account_id=task.account_id,
        contact=contact,
        channel=task.channel,
        kind=COMPLETION_KIND[task.channel],
        direction=Direction.OUTBOUND,
        occurred_at=task.completed_at,
        cost=step.unit_cost if step else 0,
        step=step,
        source=ActivitySource.TASK,
        external_id=activity_external_id(task.pk),
        notes=notes,
    )
