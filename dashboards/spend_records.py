"""The costs behind a spend figure: costed activities and budget-line shares, one row each.

The dashboards' spend comes from ``roi.spend_rows`` over every cost; this list runs the same
function on the period's rows (the costed activities, plus the uncosted ones on the key of a
line no cost shares out, which it shares by activity count), then splits each
allocated group back into its budget lines: lines on the same key and month share out alike, so
line L's share to an account is ``amount(L) * (account's part of the group)``. The filters then
pick the rows exactly as ``rollup_reading.rollup_sums`` picks rollup rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import Q

from abm.lib.frames import frame_from_queryset
from accounts.visibility import accounts_visible_to
from dashboards.drilldown import ANY_PLAYBOOK, NO_PLAYBOOK
from dashboards.filters import NON_TARGET, TARGETS, DashboardFilters, rollup_horizon
from metrics import roi
from metrics.models import BudgetLine
from playbooks.models import Activity

ACTIVITY, SHARE, NO_ACCOUNT = "activity", "share", "no_account"
COLUMNS = [
    "source",  # ACTIVITY, SHARE (a budget line's share to an account) or NO_ACCOUNT
    "date",
    "account_id",
    "tier",
    "owner_id",
    "channel",
    "playbook_id",
    "activity_id",
    "activity_kind",
    "line_id",
    "amount",
]


@dataclass(frozen=True)
class SpendScope:
    """The dashboard's filters plus a figure's own: ``channel`` (a key, "unallocated" for a
    playbook's budget on no channel) and ``playbook`` ("none": outside any playbook; "any": on
    some playbook, the marketer's playbook spend). Blank means any."""

    filters: DashboardFilters
    channel: str = ""
    playbook: str = ""


def spend_records(user, scope: SpendScope, *, now: dt.datetime) -> pd.DataFrame:
    """Every cost behind the figure ``scope`` names, that ``user`` may see, newest first."""
    filters = scope.filters
    # The rollups keep the months from the horizon on: earlier months count nothing.
    start = max(filters.first_day, rollup_horizon(now.date()))
    end = filters.last_day + dt.timedelta(days=1)
    if start >= end:
        return pd.DataFrame(columns=COLUMNS)
    costed = _activities(start, end, now)
    lines = _budget_lines(start, end)
    activities = pd.concat([costed, _uncosted_on_idle_lines(costed, lines, now)])
    rows = _records(activities.reset_index(drop=True), lines)
    rows = _filtered(rows, scope)
    if not user.sees_everything:
        # A rep sees their accounts' costs and shares; never a line on no (or another) account.
        mine = set(accounts_visible_to(user).values_list("pk", flat=True))
        rows = rows.loc[rows["account_id"].isin(mine)]
    rows = rows.sort_values(["date", "source", "amount"], ascending=[False, True, False])
    return rows.reset_index(drop=True)


def _activities(start: dt.date, end: dt.date, now: dt.datetime) -> pd.DataFrame:
    lo = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    hi = dt.datetime.combine(end, dt.time(), tzinfo=dt.UTC)
    return _frame(
        Activity.objects.filter(
            cost__gt=0, occurred_at__gte=lo, occurred_at__lt=hi, occurred_at__lte=now
        )
    )


def _uncosted_on_idle_lines(
    costed: pd.DataFrame, lines: pd.DataFrame, now: dt.datetime
) -> pd.DataFrame:
    """The activities without cost on the key and month of each line no cost shares out:
    ``roi.spend_rows`` shares those by activity count. One query over those few keys."""
    if not len(lines):
        return costed.iloc[:0]
    accounts = costed[["account_id", "tier", "owner_id"]].drop_duplicates("account_id")
    rows = roi.spend_rows(costed, lines, accounts)
    idle = rows.loc[rows["account_id"].isna(), ["month", "channel", "playbook_id"]]
    keys = []
    for month, channel, playbook in idle.drop_duplicates().itertuples(index=False):
        named_channel = channel not in ("", roi.UNALLOCATED)
        if pd.isna(playbook) and not named_channel:
            continue  # a line on neither key shares out to no one
        lo = month.to_pydatetime().replace(tzinfo=dt.UTC)
        hi = (month + pd.offsets.MonthBegin(1)).to_pydatetime().replace(tzinfo=dt.UTC)
        key = Q(occurred_at__gte=lo, occurred_at__lt=hi)
        if not pd.isna(playbook):
            key &= Q(step__stage__playbook_id=int(playbook))
        if named_channel:
            key &= Q(channel=channel)
        keys.append(key)
    if not keys:
        return costed.iloc[:0]
    where = functools.reduce(operator.or_, keys)
    return _frame(Activity.objects.filter(where, occurred_at__lte=now).exclude(cost__gt=0))


def _frame(queryset) -> pd.DataFrame:
    return frame_from_queryset(
        queryset.order_by(),
        {
            "activity_id": "id",
            "account_id": "account_id",
            "tier": "account__tier",
            "owner_id": "account__owner_id",
            "channel": "channel",
            "kind": "kind",
            "occurred_at": "occurred_at",
            "cost": "cost",
            "playbook_id": "step__stage__playbook_id",
        },
        datetimes=("occurred_at",),
        numbers=("cost",),
    )


def _budget_lines(start: dt.date, end: dt.date) -> pd.DataFrame:
    frame = frame_from_queryset(
        BudgetLine.objects.filter(date__gte=start, date__lt=end).order_by(),
        {
            "line_id": "id",
            "playbook_id": "playbook_id",
            "channel": "channel",
            "date": "date",
            "amount": "amount",
        },
        numbers=("amount",),
        texts=("channel",),
    )
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def _records(activities: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    accounts = activities[["account_id", "tier", "owner_id"]].drop_duplicates("account_id")
    allocated = roi.spend_rows(activities, lines, accounts)
    # spend_rows gives the activities' rows first, in their order, then the budget rows.
    costed = activities.loc[activities["cost"] > 0]
    budget = allocated.iloc[len(costed) :]
    dims = roi.account_dimensions(costed[["account_id"]], accounts)
    from_activities = pd.DataFrame(
        {
            "source": ACTIVITY,
            "date": costed["occurred_at"].dt.tz_convert("UTC").dt.tz_localize(None),
            "account_id": costed["account_id"].astype("Int64"),
            "tier": dims["tier"],
            "owner_id": dims["owner_id"],
            "channel": costed["channel"].astype(object),
            "playbook_id": costed["playbook_id"].astype("Int64"),
            "activity_id": costed["activity_id"].astype("Int64"),
            "activity_kind": costed["kind"].astype(object),
            "line_id": pd.Series(pd.NA, index=costed.index, dtype="Int64"),
            "amount": costed["cost"].astype(float),
        }
    )
    return pd.concat([from_activities, _line_shares(budget, lines)], ignore_index=True)[COLUMNS]


def _line_shares(budget: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Each budget line's part of its allocated group, per account (or on no account)."""
    if not len(lines) or not len(budget):
        return pd.DataFrame(columns=COLUMNS)
    key = ["month", "channel", "playbook_id"]
    own = pd.DataFrame(
        {
            "line_id": lines["line_id"].astype("Int64"),
            "date": lines["date"],
            "month": roi.month_of(lines["date"]),
            # spend_rows names a playbook's budget on no channel "unallocated".
            "channel": lines["channel"].where(lines["channel"] != "", roi.UNALLOCATED),
            "playbook_id": lines["playbook_id"].astype("Int64").fillna(-1),
            "line_amount": lines["amount"].astype(float),
        }
    )
    own["group_lines"] = own.groupby(key)["line_id"].transform("size")
    groups = budget.assign(playbook_id=budget["playbook_id"].fillna(-1))
    joined = own.merge(groups, on=key, how="inner")
    # ``lines`` is the account's share of the group's line count: its part of each line.
    joined["amount"] = joined["line_amount"] * joined["lines"] / joined["group_lines"]
    on_account = joined["account_id"].notna()
    return pd.DataFrame(
        {
            "source": np.where(on_account, SHARE, NO_ACCOUNT),
            "date": joined["date"],
            "account_id": joined["account_id"].astype("Int64"),
            "tier": joined["tier"],
            "owner_id": joined["owner_id"],
            "channel": joined["channel"].astype(object),
            "playbook_id": joined["playbook_id"].replace(-1, pd.NA).astype("Int64"),
            "activity_id": pd.Series(pd.NA, index=joined.index, dtype="Int64"),
            "activity_kind": "",
            "line_id": joined["line_id"],
            "amount": joined["amount"].astype(float),
        }
    )


def _filtered(rows: pd.DataFrame, scope: SpendScope) -> pd.DataFrame:
    """The rows the figure counts: the rollup filters (``rollup_sums``) on the same dimensions."""
    filters = scope.filters
    keep = pd.Series(True, index=rows.index)
    tier = rows["tier"].astype("Float64")
    if filters.tier == TARGETS:
        keep &= (tier >= 1).fillna(False)
    elif filters.tier == NON_TARGET:
        keep &= (tier == 0).fillna(False)
    elif filters.tier:
        keep &= (tier == int(filters.tier)).fillna(False)
    if filters.owner is not None:
        keep &= (rows["owner_id"].astype("Float64") == filters.owner).fillna(False)
    playbook = rows["playbook_id"]
    if scope.playbook == NO_PLAYBOOK:
        keep &= playbook.isna()
    elif scope.playbook == ANY_PLAYBOOK:
        keep &= playbook.notna()
    if filters.playbook is not None and scope.playbook != NO_PLAYBOOK:
        keep &= (playbook.astype("Float64") == filters.playbook).fillna(False)
    if scope.channel:
        keep &= rows["channel"] == scope.channel
    return rows.loc[keep.astype(bool)]
