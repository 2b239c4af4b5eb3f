"""Panels more than one dashboard shows: money by playbook and holdout lift, with their charts.

The director's ROI dashboard and the marketer's playbook dashboard read the same rollups for
these, so they build the tables (and the charts from the tables) here rather than twice.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
from django.conf import settings
from django.urls import reverse

from abm.lib.channels import Channel
from abm.templatetags.abm_extras import money
from accounts.list_filters import NO_PLAYBOOK as LIST_NO_PLAYBOOK
from dashboards import charts
from dashboards import figures as fig
from dashboards.drilldown import opportunities_url, spend_url
from dashboards.figures import Column, Table
from dashboards.filters import DashboardFilters
from dashboards.rollup_reading import rollup_sums
from metrics import lift

NO_PLAYBOOK = "No playbook"
COST_COLUMNS = (
    Column("cost_per_opportunity", "Cost / opportunity", "money"),
    Column("cost_per_mqa", "Cost / MQA", "money"),
)


def unallocated_spend(
    user, filters: DashboardFilters, spend: pd.DataFrame, *, playbooks_only: bool = False
) -> float:
    """Budget in the period shared out to no account (no activity cost on its playbook or
    channel that month): in the unfiltered total only, so a tier or owner filter leaves it out.

    ``spend``: the page's spend sums by ``tier`` (and ``playbook_id``), read again without the
    tier and owner filters only when they are on. ``playbooks_only``: only budget lines on a
    playbook (the marketer's spend)."""
    if filters.tier or filters.owner is not None:
        whole = replace(filters, tier="", owner=None)
        spend = rollup_sums(user, whole, metrics=["spend"], by=["tier", "playbook_id"])
    if not len(spend):
        return 0.0
    left_out = (spend["metric"] == "spend") & spend["tier"].isna()
    if playbooks_only:
        left_out &= spend["playbook_id"].notna()
    return float(spend.loc[left_out, "value"].sum())


def spend_sub(
    filters: DashboardFilters, unallocated: float, *, what: str = "activity costs"
) -> str:
    """What the spend tile holds under the current filters (DOMAIN "Money")."""
    left = money(unallocated)
    if not filters.tier and filters.owner is None:
        text = f"{what} and budget lines"
        return f"{text}, {left} of it on no account (no cost that month)" if unallocated else text
    text = f"{what} of these accounts and their share of budget lines"
    if unallocated:
        text += f"; {left} of budget on no account (no cost that month) left out"
    return text


def channel_label(key: str) -> str:
    if key == "unallocated":
        # Budget lines on a playbook but no channel; their accounts still get their shares.
        return "Budget on no channel"
    try:
        return Channel(key).label
    except ValueError:
        return key


def playbook_table(playbooks: pd.DataFrame, filters: DashboardFilters, names: dict) -> Table:
    """``fig.by_playbook`` as a table; each row links to its credited deals and its spend."""
    table = Table(
        "by_playbook",
        "Pipeline and revenue by playbook",
        [
            Column("playbook", "Playbook"),
            Column("pipeline", "Attributed pipeline", "money"),
            Column("revenue", "Attributed revenue", "money"),
            Column("spend", "Spend", "money"),
            Column("roi", "ROI", "percent"),
            Column("pipeline_ratio", "Pipeline / spend", "number"),
            *COST_COLUMNS,
        ],
    )
    for row in fig.records(playbooks):
        pk = row["playbook_id"]
        has = pk is not None  # None = touches outside any playbook
        pk = int(pk) if has else None
        # The opportunity list reads playbook "none" as credit outside any playbook.
        credited_to = pk if has else LIST_NO_PLAYBOOK
        table.rows.append(
            {
                **row,
                "playbook_id": pk,
                "playbook": names.get(pk, f"Playbook {pk}") if has else NO_PLAYBOOK,
                "url": opportunities_url(filters, playbook=credited_to),
                "revenue_url": opportunities_url(filters, kind="revenue", playbook=credited_to),
                "spend_url": spend_url(filters, playbook=credited_to),
            }
        )
    return table


def holdout_table(rows: list[dict], names: dict) -> Table:
    """The ``holdout`` snapshot rows (``snapshot_rows``), one per playbook."""
    table = Table(
        "holdout_lift",
        "Holdout lift per playbook",
        [
            Column("playbook", "Playbook"),
            Column("enrolled_accounts", "Enrolled", "count"),
            Column("holdout_accounts", "Holdout", "count"),
            Column("rate_enrolled", "Opportunity rate, enrolled", "percent"),
            Column("rate_holdout", "Opportunity rate, holdout", "percent"),
            Column("rate_diff", "Difference", "percent"),
            Column("rate_ci", "95 % interval"),
            Column("rate_p", "p-value", "number"),
            Column("pipeline_diff", "Pipeline / account, difference", "money"),
        ],
    )
    for row in rows:
        # Under the minimum per group: no difference, interval or p-value, but the note.
        row = lift.without_bare_estimates(row, settings.ABM_LIFT_MIN_GROUP)
        pk = row.get("playbook_id")
        low, high = row.get("rate_ci_low"), row.get("rate_ci_high")
        table.rows.append(
            {
                **row,
                "playbook": names.get(pk, f"Playbook {pk}"),
                "rate_ci": row["note"]
                or (
                    f"{low * 100:+.1f} to {high * 100:+.1f} pts"
                    if low is not None and high is not None
                    else "—"
                ),
            }
        )
    return table


def holdout_chart(table: Table) -> dict:
    """Each playbook's difference with its interval; a point opens the playbook's enrolments.
    A playbook with a group under the minimum gets no point, only its "not enough data" note."""
    rows = table.rows
    return charts.intervals(
        [r["playbook"] for r in rows],
        [r.get("rate_diff") for r in rows],
        [r.get("rate_ci_low") for r in rows],
        [r.get("rate_ci_high") for r in rows],
        [reverse("playbooks:enrolments", args=[r["playbook_id"]]) for r in rows],
        notes=[r.get("note") for r in rows],
    )
