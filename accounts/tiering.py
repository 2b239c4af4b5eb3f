"""Choosing target accounts: setting tiers, and the tier x journey-stage picture."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from abm.audit import AuditAction, AuditTarget, audit_record_many
from abm.change_feed import announce_change
from abm.lib.permissions import user_role
from abm.models import Role
from accounts.models import Account, JourneyStage, Tier

# DOMAIN.md: marketers change accounts and tiers; directors are read-only there.
TIER_ROLES = frozenset({Role.MARKETER, Role.ADMIN})
TIERING_CANDIDATES = 50
_BATCH = 2_000
NO_STAGE_LABEL = "No stage"


def can_set_tier(user) -> bool:
    return user_role(user) in TIER_ROLES


def accounts_set_tier(*, accounts: QuerySet[Account], tier: int | None, by) -> int:
    """Put `accounts` in `tier` (None: not a target); returns how many changed tier."""
    if not can_set_tier(by):
        raise PermissionDenied("Only marketers and admins may set tiers.")
    if tier is not None and tier not in Tier.values:
        raise ValueError(f"unknown tier {tier!r}")
    changing = Account.objects.filter(pk__in=accounts.order_by().values("pk"))
    changing = changing.exclude(tier__isnull=True) if tier is None else changing.exclude(tier=tier)
    now = timezone.now()
    with transaction.atomic():
        # Locked, so the old tier in the audit trail is the one this update replaced.
        rows = list(changing.select_for_update().order_by("pk").values_list("pk", "name", "tier"))
        for start in range(0, len(rows), _BATCH):
            batch = [pk for pk, _, _ in rows[start : start + _BATCH]]
            Account.objects.filter(pk__in=batch).update(tier=tier, updated_at=now)
        audit_record_many(
            actor=by,
            action=AuditAction.ACCOUNT_TIER_CHANGED,
            items=(
                (AuditTarget("account", pk, name), {"tier": [old, tier]}) for pk, name, old in rows
            ),
        )
        if rows:
            # Stages ("targeted" needs a tier) and the tier slices follow in the engine's next run.
            announce_change(
                reason=f"tier set on {len(rows)} accounts by {by.get_username()}",
                account_ids=[pk for pk, _, _ in rows],
            )
    return len(rows)


@dataclass(frozen=True)
class TierStageMatrix:
    stages: list[tuple[str, str]]  # (value, label) columns, "" = no stage
    rows: list[dict]  # {"tier", "label", "cells": [{"stage", "count", "heat"}], "total"}
    column_totals: list[int]
    total: int


def tier_stage_matrix(accounts: QuerySet[Account]) -> TierStageMatrix:
    """How many accounts sit in each tier x journey stage, in one aggregate query."""
    counts = {
        (row["tier"], row["stage"]): row["n"]
        for row in accounts.order_by().values("tier", "stage").annotate(n=Count("pk"))
    }
    return tier_stage_table(counts)


def tier_stage_table(counts: dict[tuple[int | None, str], int]) -> TierStageMatrix:
    """Pure: lay out {(tier, stage): count} as a table with totals and a 0-5 heat per cell."""
    stages = [*JourneyStage.choices, ("", NO_STAGE_LABEL)]
    tiers = [*((value, f"Tier {value}") for value in Tier.values), (None, "Untiered")]
    biggest = max(counts.values(), default=0)
    rows = []
    for tier, label in tiers:
        cells = [{"stage": stage, "count": counts.get((tier, stage), 0)} for stage, _ in stages]
        for cell in cells:
            cell["heat"] = _heat(cell["count"], biggest)
        rows.append(
            {"tier": tier, "label": label, "cells": cells, "total": sum(c["count"] for c in cells)}
        )
    column_totals = [sum(row["cells"][i]["count"] for row in rows) for i in range(len(stages))]
    return TierStageMatrix(
        stages=[(value, str(label)) for value, label in stages],
        rows=rows,
        column_totals=column_totals,
        total=sum(column_totals),
    )


def _heat(count: int, biggest: int) -> int:
    if count <= 0 or biggest <= 0:
        return 0
    return max(1, round(5 * count / biggest))
