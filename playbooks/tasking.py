"""Turning playbook steps into dated tasks and advancing enrolments (closing them: task_completion)."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import JourneyStage
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
from playbooks.templating import merge_values, render

_JOURNEY_ORDER = {stage: i for i, stage in enumerate(JourneyStage.values)}


@dataclass(frozen=True)
class TaskRunResult:
    created: int
    advanced: int


def run_playbooks(*, now: dt.datetime | None = None) -> TaskRunResult:
    """Advance enrolments whose account reached the stage's exit, then create due tasks."""
    now = now or timezone.now()
    advanced = advance_enrolments(now=now)
    created = generate_due_tasks(now=now)
    return TaskRunResult(created=created, advanced=advanced)


def _running_enrolments():
    return Enrolment.objects.filter(
        status=EnrolmentStatus.ACTIVE, playbook__status=PlaybookStatus.ACTIVE
    )


def generate_due_tasks(*, now: dt.datetime) -> int:
    """One task per (enrolment, step) once due; the unique key makes re-runs create nothing."""
    due_steps = (
        Step.objects.filter(stage__in=_running_enrolments().values("current_stage"))
        .select_related("stage__playbook__owner")
        .order_by("stage_id", "order", "id")
    )
    steps_by_stage: dict[int, list[Step]] = {}
    for step in due_steps:
        steps_by_stage.setdefault(step.stage_id, []).append(step)
    existing = set(
        Task.objects.filter(enrolment__in=_running_enrolments()).values_list(
            "enrolment_id", "step_id"
        )
    )
    enrolments = (
        _running_enrolments().select_related("account__owner").prefetch_related("account__contacts")
    )
    tasks = []
    for enrolment in enrolments.iterator(chunk_size=2_000):
        for step in steps_by_stage.get(enrolment.current_stage_id, []):
            due_at = enrolment.entered_stage_at + dt.timedelta(days=step.day_offset)
            if due_at > now or (enrolment.pk, step.pk) in existing:
                continue
            tasks.append(_task_for(enrolment, step, due_at))
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


def advance_enrolments(*, now: dt.datetime) -> int:
    """Move each enrolment past every stage whose exit journey stage its account has reached."""
    stages_by_playbook: dict[int, list[Stage]] = {}
    for stage in Stage.objects.filter(playbook__status=PlaybookStatus.ACTIVE).order_by(
        "playbook_id", "order", "id"
    ):
        stages_by_playbook.setdefault(stage.playbook_id, []).append(stage)
    moved = 0
    enrolments = _running_enrolments().annotate(account_stage=F("account__stage"))
    for enrolment in enrolments.iterator(chunk_size=2_000):
        stages = stages_by_playbook.get(enrolment.playbook_id, [])
        reached = _JOURNEY_ORDER.get(enrolment.account_stage, -1)
        index = next((i for i, s in enumerate(stages) if s.pk == enrolment.current_stage_id), None)
        if index is None:
            continue
        target = index
        while (
            target < len(stages)
            and stages[target].exit_stage
            and _JOURNEY_ORDER[stages[target].exit_stage] <= reached
        ):
            target += 1
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
