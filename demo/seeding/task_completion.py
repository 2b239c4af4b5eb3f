"""Completing many demo tasks at once, writing exactly what `task_complete` writes.

`task_complete` does it one task at a time in its own transaction and queues a recompute; the
seeder completes thousands of tasks inside its one transaction and computes the metrics once at
the end, so it writes the same rows in bulk (tests/test_seed_demo.py compares the two).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from abm.lib.channels import Direction
from accounts.models import Contact
from playbooks.models import Activity, ActivitySource, Task, TaskStatus
from playbooks.task_completion import COMPLETION_KIND
from playbooks.tasking import target_contact


def complete_tasks(done: list[tuple[Task, datetime]]) -> list[Activity]:
    """Mark each (task, moment) done by its assignee then; the activities recorded."""
    if not done:
        return []
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(account_id__in={t.account_id for t, _ in done}):
        contacts.setdefault(contact.account_id, []).append(contact)
    activities = []
    for task, at in done:
        step = task.step
        contact = (
            target_contact(
                contacts.get(task.account_id, []),
                buying_role=step.target_buying_role,
                seniority=step.target_seniority,
            )
            if step
            else None
        )
        activities.append(
            Activity(
                source=ActivitySource.TASK,
                external_id=f"task-{task.pk}",
                account_id=task.account_id,
                contact=contact,
                channel=task.channel,
                kind=COMPLETION_KIND[task.channel],
                direction=Direction.OUTBOUND,
                occurred_at=at,
                cost=step.unit_cost if step else 0,
                step=step,
                notes="",
            )
        )
        task.status, task.completed_at, task.completed_by_id = TaskStatus.DONE, at, task.assignee_id
    Activity.objects.bulk_create(activities, batch_size=2_000)
    # One executemany: bulk_update's CASE per row is slow for thousands of rows.
    ops, table = connection.ops, ops_table(Task)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET status = %s, completed_at = %s, completed_by_id = %s "
            "WHERE id = %s",
            [
                (TaskStatus.DONE.value, ops.adapt_datetimefield_value(at), t.assignee_id, t.pk)
                for t, at in done
            ],
        )
    return activities


def ops_table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)
