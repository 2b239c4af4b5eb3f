"""Enrolling accounts in a playbook, with a random holdout group that never gets tasks."""

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from playbooks.audience import audience_accounts, has_audience
from playbooks.models import (
    Enrolment,
    EnrolmentStageChange,
    EnrolmentStatus,
    Playbook,
    PlaybookStatus,
)


@dataclass(frozen=True)
class EnrolResult:
    enrolled: int
    holdout: int
    already: int
    seed: int


def holdout_draw(account_ids: list[int], *, share: float, seed: int) -> set[int]:
    """The accounts held out: the same ids, share and seed always give the same group."""
    ids = np.array(sorted(account_ids), dtype=np.int64)
    size = int(round(share * len(ids)))
    if size == 0:
        return set()
    rng = np.random.default_rng(seed)
    return {int(i) for i in rng.choice(ids, size=size, replace=False)}


def enrol_accounts(
    *,
    playbook: Playbook,
    account_ids: list[int],
    by=None,
    seed=None,
    now: datetime | None = None,
) -> EnrolResult:
    """Enrol the accounts not enrolled yet; a share of them, drawn with `seed`, becomes holdout.

    `now` (default: the current time) is when they enter the first stage; the demo seeder passes
    simulated dates."""
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    with transaction.atomic():
        already = set(
            Enrolment.objects.filter(playbook=playbook, account_id__in=account_ids).values_list(
                "account_id", flat=True
            )
        )
        new_ids = sorted(set(account_ids) - already)
        held = holdout_draw(new_ids, share=playbook.holdout_share, seed=seed)
        first_stage = playbook.stages.order_by("order", "id").first()
        now = now or timezone.now()
        rows = [
            Enrolment(
                account_id=account_id,
                playbook=playbook,
                status=EnrolmentStatus.HOLDOUT if account_id in held else EnrolmentStatus.ACTIVE,
                current_stage=first_stage,
                entered_stage_at=now,
                holdout_seed=seed,
                enrolled_at=now,
                enrolled_by=by,
            )
            for account_id in new_ids
        ]
        # ignore_conflicts: a concurrent enrolment of the same account is not an error.
        Enrolment.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2_000)
        created = Enrolment.objects.filter(playbook=playbook, account_id__in=new_ids)
        EnrolmentStageChange.objects.bulk_create(
            [
                EnrolmentStageChange(enrolment_id=pk, stage=first_stage, entered_at=now)
                for pk in created.values_list("pk", flat=True)
            ],
            batch_size=2_000,
        )
    return EnrolResult(
        enrolled=len(new_ids) - len(held), holdout=len(held), already=len(already), seed=seed
    )


def unenrol(*, enrolment: Enrolment) -> None:
    """Exit the playbook: open tasks are skipped, history and completed work stay."""
    with transaction.atomic():
        enrolment.status = EnrolmentStatus.EXITED
        enrolment.save(update_fields=["status"])
        enrolment.tasks.filter(status="open").update(status="skipped")


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
