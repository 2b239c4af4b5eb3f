"""Turning playbook steps into dated tasks and advancing enrolments (closing them: task_completion)."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from playbooks.models import (
    Enrolment,
    EnrolmentStageChange,
    EnrolmentStatus,
    OwnerRole,
    PlaybookStatus,
    Stage,
    Step,
    Task,
)
from playbooks.readiness import entry_index
from playbooks.templating import merge_values, render


@dataclass(frozen=True)
class TaskRunResult:
    created: int
    advanced: int


def run_playbooks(
    *, now: dt.datetime | None = None, playbook_id: int | None = None
) -> TaskRunResult:
    """Advance enrolments whose account reached the stage's exit, then create due tasks.

    `playbook_id` limits both to one playbook (the job queued when it is activated or enrolled).
    """
    now = now or timezone.now()
    advanced = advance_enrolments(now=now, playbook_id=playbook_id)
    created = generate_due_tasks(now=now, playbook_id=playbook_id)
    return TaskRunResult(created=created, advanced=advanced)


def _running_enrolments(playbook_id: int | None = None):
    enrolments = Enrolment.objects.filter(
        status=EnrolmentStatus.ACTIVE, playbook__status=PlaybookStatus.ACTIVE
    )
    return enrolments if playbook_id is None else enrolments.filter(playbook_id=playbook_id)


def catch_up_grace() -> dt.timedelta:
    """How late a task may be created and keep its nominal due date: one generation interval."""
    return dt.timedelta(minutes=settings.ABM_TASK_GENERATION_MINUTES)


def due_at_for(nominal: dt.datetime, *, now: dt.datetime) -> dt.datetime:
    """The catch-up rule: a step created within one generation interval of its nominal date
    keeps it; one that would be born overdue by more (the playbook was paused, the run was
    late) is due when it is created."""
    return nominal if nominal >= now - catch_up_grace() else now


def generate_due_tasks(*, now: dt.datetime, playbook_id: int | None = None) -> int:
    """One task per (enrolment, step) once due; the unique key makes re-runs create nothing.

    Only the steps of the stage the enrolment is in: a stage the account has not entered
    creates nothing, and one it left creates nothing more.
    """
    running = _running_enrolments(playbook_id)
    due_steps = (
        Step.objects.filter(stage__in=running.values("current_stage"))
        .select_related("stage__playbook__owner")
        .order_by("stage_id", "order", "id")
    )
    steps_by_stage: dict[int, list[Step]] = {}
    for step in due_steps:
        steps_by_stage.setdefault(step.stage_id, []).append(step)
    step_ids = [step.pk for steps in steps_by_stage.values() for step in steps]
    existing = set(
        Task.objects.filter(enrolment__in=running, step__in=step_ids).values_list(
            "enrolment_id", "step_id"
        )
    )
    # Which (enrolment, step) pairs are due is decided on bare columns; only the enrolments with
    # something due are loaded with their account and contacts, so a run costs what it creates.
    due: dict[int, list[tuple[Step, dt.datetime]]] = {}
    for pk, stage_id, entered in running.values_list("pk", "current_stage_id", "entered_stage_at"):
        for step in steps_by_stage.get(stage_id, []):
            nominal = entered + dt.timedelta(days=step.day_offset)
            if nominal <= now and (pk, step.pk) not in existing:
                due.setdefault(pk, []).append((step, due_at_for(nominal, now=now)))
    enrolments = (
        Enrolment.objects.filter(pk__in=list(due))
        .select_related("account__owner")
        .prefetch_related("account__contacts")
        .order_by("pk")
    )
    tasks = []
    for enrolment in enrolments.iterator(chunk_size=2_000):
        tasks.extend(_task_for(enrolment, step, due_at) for step, due_at in due[enrolment.pk])
    # ignore_conflicts: a concurrent beat run that got there first is not an error.
    Task.objects.bulk_create(tasks, ignore_conflicts=True, batch_size=2_000)
    return len(tasks)


def _task_for(enrolment: Enrolment, step: Step, due_at: dt.datetime) -> Task:
    account = enrolment.account
    playbook_owner = step.stage.playbook.owner
    assignee = account.owner if step.owner_role == OwnerRole.SALES else playbook_owner
    contact = _target_contact(list(account.contacts.all()), step)
    values = merge_values(account=account, contact=contact, owner=account.owner)
    return Task(
        enrolment=enrolment,
        step=step,
        account=account,
        assignee=assignee,
        channel=step.channel,
        owner_role=step.owner_role,
        subject=render(step.subject, values)[:300],
        body=render(step.body, values),
        due_at=due_at,
    )


def _target_contact(contacts: list, step: Step):
    return target_contact(
        contacts, buying_role=step.target_buying_role, seniority=step.target_seniority
    )


def target_contact(contacts: list, *, buying_role: str = "", seniority: str = ""):
    """The contact a step speaks to: its buying role and seniority if anyone matches them."""
    for wanted in (
        lambda c: (
            (not buying_role or c.buying_role == buying_role)
            and (not seniority or c.seniority == seniority)
        ),
        lambda c: not buying_role or c.buying_role == buying_role,
        lambda c: True,
    ):
        matching = [c for c in contacts if wanted(c)]
        if matching:
            return min(matching, key=lambda c: c.pk)
    return None


def advance_enrolments(*, now: dt.datetime, playbook_id: int | None = None) -> int:
    """Move each enrolment to the stage its account is in now (playbooks.readiness.entry_index):
    past every stage whose exit journey stage the account has reached, never backwards."""
    active = Stage.objects.filter(playbook__status=PlaybookStatus.ACTIVE)
    if playbook_id is not None:
        active = active.filter(playbook_id=playbook_id)
    stages_by_playbook: dict[int, list[Stage]] = {}
    for stage in active.order_by("playbook_id", "order", "id"):
        stages_by_playbook.setdefault(stage.playbook_id, []).append(stage)
    moved = 0
    enrolments = _running_enrolments(playbook_id).annotate(account_stage=F("account__stage"))
    for enrolment in enrolments.iterator(chunk_size=2_000):
        stages = stages_by_playbook.get(enrolment.playbook_id, [])
        index = next((i for i, s in enumerate(stages) if s.pk == enrolment.current_stage_id), None)
        if index is None:
            continue
        target = max(index, entry_index(stages, enrolment.account_stage))
        if target == index:
            continue
        with transaction.atomic():
            if target >= len(stages):
                Enrolment.objects.filter(pk=enrolment.pk).update(status=EnrolmentStatus.COMPLETED)
            else:
                Enrolment.objects.filter(pk=enrolment.pk).update(
                    current_stage=stages[target], entered_stage_at=now
                )
                EnrolmentStageChange.objects.create(
                    enrolment=enrolment, stage=stages[target], entered_at=now
                )
        moved += 1
    return moved
