"""Read the stored rollups for a dashboard: one grouped SUM query per panel.

The database adds up the few thousand monthly rows a panel needs and returns a small frame;
the pure figures (dashboards/figures.py) take it from there. Every read goes through
``rollups_visible_to`` and the dashboard filters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from django.db.models import Min, Sum

from accounts.models import Opportunity
from dashboards.filters import NON_TARGET, TARGETS, DashboardFilters
from metrics.visibility import rollups_visible_to
from playbooks.models import Activity

# The rollups that carry a playbook; the playbook filter narrows only these.
PLAYBOOK_METRICS = frozenset({"credit", "spend", "mqa", "holdout", "tasks"})
DIMENSIONS = frozenset(
    {"metric", "period", "model", "kind", "channel", "playbook_id", "tier", "owner_id", "segment"}
)


def rollup_sums(
    user,
    filters: DashboardFilters,
    *,
    metrics: Sequence[str],
    by: Sequence[str] = (),
    span: tuple[dt.date, dt.date] | None = None,
    snapshot: bool = False,
    model: str | None = None,
    kind: str | None = None,
    tiers: bool = True,
    playbook: bool = True,
) -> pd.DataFrame:
    """Sums of ``value`` and ``count`` per ``metric`` and ``by``.

    Monthly rows of ``span`` (default: the filters' months), or the snapshot rows. ``tiers=False``
    ignores the tier filter (a table that compares tiers); ``playbook=False`` the playbook filter.
    """
    unknown = set(by) - DIMENSIONS
    if unknown:
        raise ValueError(f"not a rollup dimension: {sorted(unknown)}")
    rows = rollups_visible_to(user).filter(metric__in=list(metrics))
    if snapshot:
        rows = rows.filter(period__isnull=True)
    else:
        start, end = span or (filters.start, filters.end)
        rows = rows.filter(period__gte=start, period__lte=end)
    if model:
        rows = rows.filter(model=model)
    if kind:
        rows = rows.filter(kind=kind)
    if tiers:
        rows = tier_filter(rows, filters.tier)
    if filters.owner is not None:
        rows = rows.filter(owner_id=filters.owner)
    if playbook and filters.playbook is not None:
        playbook_rows = rows.filter(metric__in=PLAYBOOK_METRICS & set(metrics))
        rows = playbook_rows.filter(playbook_id=filters.playbook) | rows.exclude(
            metric__in=PLAYBOOK_METRICS
        )
    keys = ["metric", *[d for d in by if d != "metric"]]
    sums = rows.order_by().values(*keys).annotate(value=Sum("value"), count=Sum("count"))
    return _frame(list(sums), keys)


def _frame(records: list[dict], keys: list[str]) -> pd.DataFrame:
    """The grouped rows as a frame, the sums as floats: built by column (a few dozen rows,
    where ``from_records`` and ``astype`` cost more than the data)."""
    columns = {key: [r[key] for r in records] or np.empty(0, dtype=object) for key in keys}
    for measure in ("value", "count"):
        columns[measure] = np.array([r[measure] for r in records], dtype=float)
    return pd.DataFrame(columns, columns=[*keys, "value", "count"])


def tier_filter(rows, tier: str):
    if tier == TARGETS:
        return rows.filter(tier__gte=1)
    if tier == NON_TARGET:
        return rows.filter(tier=0)
    if tier:
        return rows.filter(tier=int(tier))
    return rows


def snapshot_rows(user, *, metric: str, filters: DashboardFilters) -> list[dict]:
    """The ``data`` of the snapshot rows of ``metric`` (lift, holdout), playbook-filtered."""
    rows = rollups_visible_to(user).filter(metric=metric, period__isnull=True)
    if filters.playbook is not None and metric in PLAYBOOK_METRICS:
        rows = rows.filter(playbook_id=filters.playbook)
    return [
        {**data, "segment": segment, "playbook_id": playbook_id}
        for segment, playbook_id, data in rows.order_by("segment", "playbook_id").values_list(
            "segment", "playbook_id", "data"
        )
    ]


def engagement_sums(user, filters: DashboardFilters) -> pd.DataFrame:
    """The ``engagement`` rollup per sampled day (``period``) and ``segment`` (enrolled /
    holdout), under the tier and owner filters: one playbook's rows when filtered, else the
    rows that count each account once for any playbook."""
    rows = tier_filter(rollups_visible_to(user).filter(metric="engagement"), filters.tier)
    if filters.owner is not None:
        rows = rows.filter(owner_id=filters.owner)
    if filters.playbook is not None:
        rows = rows.filter(playbook_id=filters.playbook)
    else:
        rows = rows.filter(playbook_id__isnull=True)
    sums = (
        rows.order_by().values("period", "segment").annotate(value=Sum("value"), count=Sum("count"))
    )
    return _frame(list(sums), ["period", "segment"])


def data_first_day() -> dt.date | None:
    """The day the workspace's records begin (first activity or deal), whoever reads: a change
    against a previous period is shown only when the data cover all of it (DOMAIN.md)."""
    firsts = [
        Activity.objects.aggregate(first=Min("occurred_at"))["first"],
        Opportunity.objects.aggregate(first=Min("created_at"))["first"],
    ]
    firsts = [first for first in firsts if first is not None]
    return min(firsts).date() if firsts else None
