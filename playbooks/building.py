"""Editing a playbook's plan: details, audience, stages and steps (the builder's services).

Every function takes the playbook's rows, checks that the plan may still change, writes, and returns
the row it changed. Rules broken raise ValidationError with words a marketer can act on.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from abm.audit import AuditAction, AuditTarget, audit_diff, audit_record
from abm.change_feed import announce_change
from abm.lib.channels import Channel
from accounts.models import JourneyStage
from playbooks.models import (
    Activity,
    Enrolment,
    EnrolmentStatus,
    OwnerRole,
    Playbook,
    PlaybookStatus,
    Stage,
    Step,
)
from playbooks.templating import template_errors

# A new playbook starts with the four journey phases of DOMAIN.md and their natural exits.
DEFAULT_STAGES = (
    ("Find", JourneyStage.AWARE),
    ("Nurture", JourneyStage.MQA),
    ("Convert", JourneyStage.CUSTOMER),  # only customers enter Retain
    ("Retain", ""),
)
# A step added after others lands this many days after the latest one (a typical cadence gap).
NEW_STEP_GAP_DAYS = 3
DETAIL_FIELDS = frozenset({"name", "objective", "owner", "budget", "goal", "holdout_share"})
# What a step holds that people edit (pages, API), in the order a person reads a step.
STEP_FIELDS = (
    "channel",
    "day_offset",
    "owner_role",
    "target_buying_role",
    "target_seniority",
    "subject",
    "body",
    "unit_cost",
)
UP, DOWN = "up", "down"


def edit_problem(playbook: Playbook) -> str | None:
    """Why the plan may not change now, or None when it may."""
    if playbook.is_starter:
        return "Starter playbooks are templates: clone one to adapt it."
    if playbook.status == PlaybookStatus.ARCHIVED:
        return "Archived playbooks are read-only: clone it to run it again."
    return None


def _check_editable(playbook: Playbook) -> None:
    if problem := edit_problem(playbook):
        raise ValidationError(problem, code="locked")


def _touch(playbook: Playbook) -> None:
    Playbook.objects.filter(pk=playbook.pk).update(updated_at=timezone.now())


# --- Audit trail: stages and steps are named with their playbook, so the trail reads on its own.


def _stage_target(stage: Stage, playbook: Playbook) -> AuditTarget:
    return AuditTarget("stage", stage.pk, f"{playbook.name} › {stage.name}")


def _step_target(step: Step, stage: Stage, playbook: Playbook) -> AuditTarget:
    return AuditTarget("step", step.pk, f"{playbook.name} › {stage.name} › {step}")


def _step_fields(step: Step) -> dict:
    return {name: getattr(step, name) for name in sorted(STEP_FIELDS)}


def playbook_create(
    *,
    name: str,
    by,
    objective: str = "",
    audience_tiers: list[int] | None = None,
    audience_industries: list[str] | None = None,
    audience_filter: dict | None = None,
    owner=None,
    budget: Decimal | int = 0,
    goal=None,
    holdout_share: float | None = None,
) -> Playbook:
    """A draft playbook with the default Find, Nurture, Convert and Retain stages."""
    fields = {}
    if holdout_share is not None:
        fields["holdout_share"] = holdout_share
    with transaction.atomic():
        playbook = Playbook(
            name=name.strip(),
            objective=objective,
            audience_tiers=sorted(set(audience_tiers or [])),
            audience_industries=sorted(set(audience_industries or [])),
            audience_filter=audience_filter or {},
            owner=owner or by,
            budget=budget,
            goal=goal,
            status=PlaybookStatus.DRAFT,
            **fields,
        )
        playbook.full_clean()
        playbook.save()
        Stage.objects.bulk_create(
            Stage(playbook=playbook, order=order, name=name, exit_stage=exit_stage)
            for order, (name, exit_stage) in enumerate(DEFAULT_STAGES)
        )
    return playbook


# Details that are foreign keys: compared by id, as the database row gives them.
_RELATIONS = {"owner", "goal"}


def playbook_update(*, playbook: Playbook, by, **fields) -> Playbook:
    """Change the playbook's details (name, objective, owner, budget, goal, holdout share)."""
    _check_editable(playbook)
    unknown = set(fields) - DETAIL_FIELDS
    if unknown:
        raise TypeError(f"not playbook details: {', '.join(sorted(unknown))}")
    # From the database: a bound form may already have changed the instance.
    before = Playbook.objects.filter(pk=playbook.pk).values(*fields).first() or {}
    for name, value in fields.items():
        setattr(playbook, name, value.strip() if isinstance(value, str) else value)
    playbook.full_clean()
    after = {
        name: getattr(playbook, f"{name}_id" if name in _RELATIONS else name) for name in fields
    }
    with transaction.atomic():
        playbook.save(update_fields=[*fields, "updated_at"])
        if changes := audit_diff(before, after):
            audit_record(
                actor=by, action=AuditAction.PLAYBOOK_CHANGED, obj=playbook, changes=changes
            )
    return playbook


def playbook_set_audience(
    *, playbook: Playbook, by, tiers: list[int], industries: list[str], account_filter: dict
) -> Playbook:
    """Who the playbook is for: tiers, industries and a saved account filter, all of which hold."""
    _check_editable(playbook)
    playbook.audience_tiers = sorted({int(t) for t in tiers})
    playbook.audience_industries = sorted(set(industries))
    playbook.audience_filter = dict(account_filter)
    playbook.save(
        update_fields=["audience_tiers", "audience_industries", "audience_filter", "updated_at"]
    )
    return playbook


# --- Stages ------------------------------------------------------------------------------------


def _locked_playbook(playbook_id: int) -> Playbook:
    """The playbook row locked for this transaction, so two editors' reorders do not interleave."""
    playbook = Playbook.objects.select_for_update().get(pk=playbook_id)
    _check_editable(playbook)
    return playbook


def _renumber(rows: list) -> list:
    """Give rows the orders 0..n-1 in list order; returns the rows whose order changed."""
    changed = []
    for order, row in enumerate(rows):
        if row.order != order:
            row.order = order
            changed.append(row)
    return changed


def stage_add(*, playbook: Playbook, by, name: str = "", exit_stage: str = "") -> Stage:
    with transaction.atomic():
        playbook = _locked_playbook(playbook.pk)
        stages = list(playbook.stages.order_by("order", "id"))
        Stage.objects.bulk_update(_renumber(stages), ["order"])
        stage = Stage(
            playbook=playbook,
            order=len(stages),
            name=name.strip() or f"Stage {len(stages) + 1}",
            exit_stage=exit_stage,
        )
        stage.full_clean()
        stage.save()
        _touch(playbook)
        audit_record(
            actor=by,
            action=AuditAction.PLAYBOOK_STAGE_ADDED,
            obj=_stage_target(stage, playbook),
            changes=audit_diff({}, {"name": stage.name, "exit_stage": stage.exit_stage}),
        )
    return stage


def stage_update(*, stage: Stage, by, name: str, exit_stage: str) -> Stage:
    _check_editable(stage.playbook)
    # From the database: a bound form may already have changed the instance.
    before = Stage.objects.filter(pk=stage.pk).values("name", "exit_stage").first() or {}
    stage.name, stage.exit_stage = name.strip(), exit_stage
    stage.full_clean()
    with transaction.atomic():
        stage.save(update_fields=["name", "exit_stage"])
        _touch(stage.playbook)
        if changes := audit_diff(before, {"name": stage.name, "exit_stage": stage.exit_stage}):
            audit_record(
                actor=by,
                action=AuditAction.PLAYBOOK_STAGE_CHANGED,
                obj=_stage_target(stage, stage.playbook),
                changes=changes,
            )
    return stage


def stage_move(*, stage: Stage, by, direction: str) -> Stage:
    """Swap the stage with its neighbour above or below; at either end nothing changes."""
    with transaction.atomic():
        playbook = _locked_playbook(stage.playbook_id)
        stages = list(playbook.stages.order_by("order", "id"))
        before = next(i for i, s in enumerate(stages) if s.pk == stage.pk)
        _swap(stages, stage.pk, direction)
        Stage.objects.bulk_update(_renumber(stages), ["order"])
        _touch(playbook)
        moved = next(s for s in stages if s.pk == stage.pk)
        if moved.order != before:  # renumbered 0..n-1, so order is the position
            audit_record(
                actor=by,
                action=AuditAction.PLAYBOOK_STAGE_MOVED,
                obj=_stage_target(moved, playbook),
                changes={"order": [before, moved.order]},
            )
    return moved


def stage_remove(*, stage: Stage, by) -> None:
    """Delete a stage and its steps, unless accounts are working through it right now."""
    with transaction.atomic():
        playbook = _locked_playbook(stage.playbook_id)
        here = Enrolment.objects.filter(current_stage=stage, status=EnrolmentStatus.ACTIVE).count()
        if here:
            raise ValidationError(
                f"{here} enrolled account{'s are' if here != 1 else ' is'} in “{stage.name}” "
                "now: unenrol them or let them move on before removing the stage.",
                code="stage_in_use",
            )
        target = _stage_target(stage, playbook)
        steps = stage.steps.count()
        _announce_touches(stage.steps.all(), f"stage #{stage.pk} removed")
        stage.delete()
        audit_record(
            actor=by,
            action=AuditAction.PLAYBOOK_STAGE_REMOVED,
            obj=target,
            changes={"name": [stage.name, None], "steps": [steps, 0]},
        )
        Stage.objects.bulk_update(
            _renumber(list(playbook.stages.order_by("order", "id"))), ["order"]
        )
        _touch(playbook)


def _swap(rows: list, pk: int, direction: str) -> None:
    if direction not in (UP, DOWN):
        raise ValueError(f"direction must be {UP!r} or {DOWN!r}")
    index = next(i for i, row in enumerate(rows) if row.pk == pk)
    other = index - 1 if direction == UP else index + 1
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]


# --- Steps -------------------------------------------------------------------------------------


def step_validation_errors(fields: dict) -> dict[str, list[str]]:
    """Template problems per field: merge fields only, nothing Django's engine would run."""
    errors = {}
    for name in ("subject", "body"):
        if problems := template_errors(fields.get(name) or ""):
            errors[name] = problems
    return errors


def new_step_defaults(stage: Stage) -> dict:
    """A new step's starting values: an email by marketing a few days after the stage's last."""
    siblings = stage.steps.aggregate(n=Max("order"), last_day=Max("day_offset"))
    return {
        "order": 0 if siblings["n"] is None else siblings["n"] + 1,
        "channel": Channel.EMAIL,
        "owner_role": OwnerRole.MARKETING,
        "day_offset": 0
        if siblings["last_day"] is None
        else siblings["last_day"] + NEW_STEP_GAP_DAYS,
    }


def step_add(*, stage: Stage, by, **fields) -> Step:
    """Append a step to the stage; unset fields get sensible defaults (an email a few days on)."""
    unknown = set(fields) - set(STEP_FIELDS)
    if unknown:
        raise TypeError(f"not step fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        _locked_playbook(stage.playbook_id)
        step = Step(stage=stage, **{**new_step_defaults(stage), **fields})
        _validate_step(step)
        step.save()
        _touch(stage.playbook)
        audit_record(
            actor=by,
            action=AuditAction.PLAYBOOK_STEP_ADDED,
            obj=_step_target(step, stage, stage.playbook),
            changes=audit_diff({}, _step_fields(step)),
        )
    return step


def step_update(*, step: Step, by, **fields) -> Step:
    """Change a step. On an active playbook this shapes only tasks not generated yet."""
    unknown = set(fields) - set(STEP_FIELDS)
    if unknown:
        raise TypeError(f"not step fields: {', '.join(sorted(unknown))}")
    _check_editable(step.stage.playbook)
    # From the database: a bound form may already have changed the instance.
    before = Step.objects.filter(pk=step.pk).values(*fields).first() or {}
    for name, value in fields.items():
        setattr(step, name, value)
    _validate_step(step)
    with transaction.atomic():
        step.save(update_fields=list(fields))
        _touch(step.stage.playbook)
        if "owner_role" in fields and before.get("owner_role") != step.owner_role:
            _announce_touches([step], f"step #{step.pk} changed owner")
        if changes := audit_diff(before, fields):
            audit_record(
                actor=by,
                action=AuditAction.PLAYBOOK_STEP_CHANGED,
                obj=_step_target(step, step.stage, step.stage.playbook),
                changes=changes,
            )
    return step


def _announce_touches(steps, reason: str) -> None:
    """The engine maps a touch to its step's playbook and owner: a change there re-reads them."""
    touched = Activity.objects.filter(step__in=steps).values_list("account_id", flat=True)
    if account_ids := list(touched.distinct()):
        announce_change(reason=reason, account_ids=account_ids)


def _validate_step(step: Step) -> None:
    errors = step_validation_errors({"subject": step.subject, "body": step.body})
    try:
        step.full_clean(exclude=["stage"])
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def step_move(*, step: Step, by, direction: str) -> Step:
    """Swap the step with its neighbour inside the stage (days stay: order breaks same-day ties)."""
    with transaction.atomic():
        playbook = _locked_playbook(step.stage.playbook_id)
        steps = list(Step.objects.filter(stage_id=step.stage_id).order_by("order", "id"))
        before = next(i for i, s in enumerate(steps) if s.pk == step.pk)
        _swap(steps, step.pk, direction)
        Step.objects.bulk_update(_renumber(steps), ["order"])
        _touch(playbook)
        moved = next(s for s in steps if s.pk == step.pk)
        if moved.order != before:  # renumbered 0..n-1, so order is the position
            audit_record(
                actor=by,
                action=AuditAction.PLAYBOOK_STEP_MOVED,
                obj=_step_target(moved, step.stage, playbook),
                changes={"order": [before, moved.order]},
            )
    return moved


def step_remove(*, step: Step, by) -> None:
    """Delete the step; tasks already generated from it keep their text and stay on their lists."""
    with transaction.atomic():
        playbook = _locked_playbook(step.stage.playbook_id)
        stage_id = step.stage_id
        target = _step_target(step, step.stage, playbook)
        removed = _step_fields(step)
        _announce_touches([step], f"step #{step.pk} removed")
        step.delete()
        audit_record(
            actor=by,
            action=AuditAction.PLAYBOOK_STEP_REMOVED,
            obj=target,
            changes=audit_diff(removed, dict.fromkeys(removed)),
        )
        Step.objects.bulk_update(
            _renumber(list(Step.objects.filter(stage_id=stage_id).order_by("order", "id"))),
            ["order"],
        )
        _touch(playbook)
