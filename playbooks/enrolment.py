"""Enrolling accounts in a playbook, with a random holdout group that never gets tasks."""

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from abm.change_feed import announce_change
from accounts.models import Account
from playbooks.audience import audience_accounts, has_audience
from playbooks.holdout_planning import HoldoutPlan, holdout_plan
from playbooks.models import (
    Enrolment,
    EnrolmentStageChange,
    EnrolmentStatus,
    Playbook,
    PlaybookStatus,
)
from playbooks.readiness import entry_index
from playbooks.task_generation import tasks_enqueue


@dataclass(frozen=True)
class EnrolResult:
    enrolled: int
    holdout: int
    already: int
    seed: int
    warning: str = ""  # the holdout-size warning (playbooks/holdout_planning.py), if any
    run_id: int | None = None  # the task-generation job queued for the new enrolments


def holdout_draw(account_ids: list[int], *, share: float, seed: int) -> set[int]:
    """The accounts held out: the same ids, share and seed always give the same group."""
    ids = np.array(sorted(account_ids), dtype=np.int64)
    size = int(round(share * len(ids)))
    if size == 0:
        return set()
    rng = np.random.default_rng(seed)
    return {int(i) for i in rng.choice(ids, size=size, replace=False)}


def group_sizes(playbook: Playbook) -> tuple[int, int]:
    """(enrolled, held out) of the playbook so far: the two groups holdout lift compares."""
    counts = Enrolment.objects.filter(playbook=playbook).aggregate(
        held=Count("pk", filter=Q(status=EnrolmentStatus.HOLDOUT)), total=Count("pk")
    )
    return counts["total"] - counts["held"], counts["held"]


def enrolment_plan(playbook: Playbook, *, new_accounts: int) -> HoldoutPlan:
    enrolled, held = group_sizes(playbook)
    return holdout_plan(
        new_accounts=new_accounts,
        share=playbook.holdout_share,
        enrolled_before=enrolled,
        held_before=held,
    )


def enrol_accounts(
    *,
    playbook: Playbook,
    account_ids: list[int],
    by=None,
    seed=None,
    now: dt.datetime | None = None,
    queue_tasks: bool = True,
) -> EnrolResult:
    """Enrol the accounts not enrolled yet; a share of them, drawn with `seed`, becomes holdout.

    Each account starts in the stage it is in by the exit rules (playbooks.readiness.entry_index),
    not always the first: an account that already has a deal skips Find and Nurture. The tasks
    due now are created by a background job queued after the commit; `queue_tasks=False` is for
    the demo seeder, which enrols at simulated dates and runs the cadence itself.
    """
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    now = now or timezone.now()
    with transaction.atomic():
        already = set(
            Enrolment.objects.filter(playbook=playbook, account_id__in=account_ids).values_list(
                "account_id", flat=True
            )
        )
        new_ids = sorted(set(account_ids) - already)
        plan = enrolment_plan(playbook, new_accounts=len(new_ids))
        held = holdout_draw(new_ids, share=playbook.holdout_share, seed=seed)
        stages = list(playbook.stages.order_by("order", "id"))
        journey = dict(Account.objects.filter(pk__in=new_ids).values_list("pk", "stage").iterator())
        rows = []
        for account_id in new_ids:
            index = entry_index(stages, journey.get(account_id, ""))
            status = EnrolmentStatus.ACTIVE if index < len(stages) else EnrolmentStatus.COMPLETED
            rows.append(
                Enrolment(
                    account_id=account_id,
                    playbook=playbook,
                    status=EnrolmentStatus.HOLDOUT if account_id in held else status,
                    current_stage=stages[min(index, len(stages) - 1)] if stages else None,
                    entered_stage_at=now,
                    holdout_seed=seed,
                    enrolled_at=now,
                    enrolled_by=by,
                )
            )
        # ignore_conflicts: a concurrent enrolment of the same account is not an error.
        Enrolment.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2_000)
        created = Enrolment.objects.filter(playbook=playbook, account_id__in=new_ids)
        EnrolmentStageChange.objects.bulk_create(
            [
                EnrolmentStageChange(enrolment_id=pk, stage_id=stage_id, entered_at=now)
                for pk, stage_id in created.values_list("pk", "current_stage_id")
            ],
            batch_size=2_000,
        )
        run = None
        if queue_tasks and len(new_ids) > len(held) and playbook.status == PlaybookStatus.ACTIVE:
            run = tasks_enqueue(playbook=playbook, by=by, reason="enrolled")
        if new_ids and queue_tasks:
            # Last, so the tasks job is sent first; the engine's next run counts the enrolments.
            announce_change(
                reason=f"{len(new_ids)} accounts enrolled in playbook #{playbook.pk}",
                account_ids=new_ids,
            )
    return EnrolResult(
        enrolled=len(new_ids) - len(held),
        holdout=len(held),
        already=len(already),
        seed=seed,
        warning=plan.warning,
        run_id=run.pk if run else None,
    )


def unenrol(*, enrolment: Enrolment) -> None:
    """Exit the playbook: open tasks are skipped, history and completed work stay."""
    with transaction.atomic():
        enrolment.status = EnrolmentStatus.EXITED
        enrolment.save(update_fields=["status"])
        enrolment.tasks.filter(status="open").update(status="skipped")
        announce_change(
            reason=f"account left playbook #{enrolment.playbook_id}",
            account_ids=[enrolment.account_id],
        )


def enrol_audience(*, playbook: Playbook, by, seed=None) -> EnrolResult:
    """Enrol every account of the playbook's audience that `by` may see and is not enrolled yet."""
    if playbook.is_starter:
        raise ValidationError("Starter playbooks are templates: clone one to enrol accounts.")
    if playbook.status == PlaybookStatus.ARCHIVED:
        raise ValidationError("An archived playbook takes no new accounts.")
    if not has_audience(playbook):
        raise ValidationError("Set the audience (tiers, industries or an account filter) first.")
    account_ids = list(audience_accounts(playbook, user=by).values_list("pk", flat=True))
    return enrol_accounts(playbook=playbook, account_ids=account_ids, by=by, seed=seed)
