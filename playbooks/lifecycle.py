"""A playbook's status flow, draft -> active <-> paused -> archived, and cloning.

Archived is final. A transition is a conditional UPDATE from the status the caller saw, so two people
pressing different buttons at once cannot both win.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from abm.audit import AuditAction, audit_record
from abm.lib.permissions import user_role
from abm.models import Role
from playbooks.building import edit_problem
from playbooks.models import (
    Enrolment,
    EnrolmentStatus,
    Playbook,
    PlaybookStatus,
    Stage,
    Step,
)
from playbooks.readiness import incomplete_steps
from playbooks.task_generation import tasks_enqueue

DRAFT, ACTIVE, PAUSED, ARCHIVED = (
    PlaybookStatus.DRAFT,
    PlaybookStatus.ACTIVE,
    PlaybookStatus.PAUSED,
    PlaybookStatus.ARCHIVED,
)
TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({ACTIVE, ARCHIVED}),
    ACTIVE: frozenset({PAUSED, ARCHIVED}),
    PAUSED: frozenset({ACTIVE, ARCHIVED}),
    ARCHIVED: frozenset(),
}
# Who may own a playbook (marketing steps become their tasks).
OWNER_ROLES = (Role.MARKETER, Role.ADMIN)


def activation_problems(playbook: Playbook, *, stages: list[Stage] | None = None) -> list[str]:
    """What stops the playbook from running, in plain words; empty when it may be activated.

    `stages` may be passed with their steps prefetched, in order, to save the queries.
    """
    if playbook.is_starter:
        return ["Starter playbooks are templates: clone one and activate the copy."]
    problems = []
    if stages is None:
        stages = list(playbook.stages.order_by("order", "id").prefetch_related("steps"))
    if not any(stage.steps.all() for stage in stages):
        problems.append("Add at least one step to a stage: an active playbook must create tasks.")
    return problems + incomplete_steps(stages)


@transaction.atomic
def _transition(playbook: Playbook, to: str, *, by) -> Playbook:
    current = playbook.status
    if to not in TRANSITIONS[current]:
        raise ValidationError(
            f"A {playbook.get_status_display().lower()} playbook cannot become "
            f"{PlaybookStatus(to).label.lower()}.",
            code="transition",
        )
    now = timezone.now()
    claimed = Playbook.objects.filter(pk=playbook.pk, status=current).update(
        status=to, updated_at=now
    )
    if not claimed:
        raise ValidationError(
            "Someone changed this playbook's status a moment ago; reload and try again.",
            code="stale",
        )
    playbook.status, playbook.updated_at = to, now
    audit_record(
        actor=by,
        action=AuditAction.PLAYBOOK_STATUS_CHANGED,
        obj=playbook,
        changes={"status": [current, to]},
    )
    return playbook


def playbook_activate(*, playbook: Playbook, by) -> Playbook:
    """Start (from draft) or resume (from paused) a playbook whose plan is complete and valid."""
    if problems := activation_problems(playbook):
        raise ValidationError(problems, code="incomplete")
    with transaction.atomic():
        first_start = playbook.status == DRAFT
        _transition(playbook, ACTIVE, by=by)
        if first_start:
            # Accounts enrolled while the playbook was a draft start the clock now: step days count
            # from activation, not from a date on which nothing could be sent.
            Enrolment.objects.filter(playbook=playbook, status=EnrolmentStatus.ACTIVE).update(
                entered_stage_at=playbook.updated_at
            )
        # The tasks due now (day-0 steps; on resume, steps that came due while paused) are
        # created by the worker once this commits, not by the next beat.
        tasks_enqueue(playbook=playbook, by=by, reason="activated")
    return playbook


def playbook_pause(*, playbook: Playbook, by) -> Playbook:
    """Stop creating tasks; enrolments and open tasks stay as they are."""
    return _transition(playbook, PAUSED, by=by)


def playbook_archive(*, playbook: Playbook, by) -> Playbook:
    """Retire the playbook for good: no more tasks, read-only, still counted in the metrics."""
    return _transition(playbook, ARCHIVED, by=by)


def playbook_clone(*, playbook: Playbook, by, name: str | None = None) -> Playbook:
    """A draft copy of the plan (details, audience, stages, steps); enrolments and goal stay behind."""
    owner = by if user_role(by) in OWNER_ROLES else playbook.owner
    with transaction.atomic():
        copy = Playbook.objects.create(
            name=(name or _copy_name(playbook)).strip()[:200],
            objective=playbook.objective,
            audience_tiers=list(playbook.audience_tiers),
            audience_industries=list(playbook.audience_industries),
            audience_filter=dict(playbook.audience_filter),
            owner=owner,
            status=DRAFT,
            budget=playbook.budget,
            holdout_share=playbook.holdout_share,
            is_starter=False,
        )
        stages = list(playbook.stages.order_by("order", "id").prefetch_related("steps"))
        new_stages = Stage.objects.bulk_create(
            Stage(playbook=copy, order=stage.order, name=stage.name, exit_stage=stage.exit_stage)
            for stage in stages
        )
        Step.objects.bulk_create(
            Step(
                stage=new_stage,
                order=step.order,
                channel=step.channel,
                day_offset=step.day_offset,
                owner_role=step.owner_role,
                target_buying_role=step.target_buying_role,
                target_seniority=step.target_seniority,
                subject=step.subject,
                body=step.body,
                unit_cost=step.unit_cost,
            )
            for stage, new_stage in zip(stages, new_stages, strict=True)
            for step in stage.steps.all()
        )
    return copy


def _copy_name(playbook: Playbook) -> str:
    return playbook.name if playbook.is_starter else f"{playbook.name} (copy)"


def playbook_delete(*, playbook: Playbook, by) -> None:
    """Delete a draft with its plan; a playbook that ran is archived instead, so its results
    stay in the metrics."""
    problem = edit_problem(playbook)
    if problem is None and playbook.status != DRAFT:
        problem = (
            f"Only draft playbooks can be deleted; this one is {playbook.status}. "
            "Archive it instead: its results stay in the metrics."
        )
    if problem:
        raise ValidationError(problem, code="not_draft")
    playbook.delete()
