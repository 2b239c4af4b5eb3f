"""The rollups dashboards read: small pre-aggregated rows, rebuilt by every recompute.

Pure pandas: the recompute passes what it loaded and computed, and stores the frame this module
returns in ``MetricRollup`` (replaced in the same transaction as every other result). A dashboard
then sums a few hundred rows instead of aggregating a million activities per request, and a rep's
dashboard reads only the rows whose ``owner_id`` is theirs.

One row per metric and combination of dimensions. ``period`` is the first day of a UTC month, or
None for a snapshot as of the run. ``tier`` 0 is a non-target account; NA (and ``owner_id`` NA)
means not tied to an account, or no owner. Blank text dimensions mean "not applicable".

| metric | period | dimensions | value | count |
|---|---|---|---|---|
| credit | conversion month | model, kind, channel, playbook, tier, owner | credit | conversions credited (sum of weights) |
| spend | month | channel (or "unallocated"), playbook, tier, owner | amount | cost lines |
| mqa | month it became mqa | channel ("" = no touch), playbook, tier, owner | accounts (1/n per touch) | touches |
| engaged | month it first reached engaged or a later stage | as mqa | accounts (1/n per touch) | touches |
| opportunities | creation month | tier, owner, segment | pipeline amount | deals created |
| won / lost / open | creation month | tier, owner, segment | amount | deals |
| cycle_days | creation month | tier, owner, segment | sum of won cycle days | won deals |
| sourced / influenced | creation month | tier, owner, segment | pipeline amount | deals |
| engaged_accounts | month | tier, owner | accounts engaged that month | accounts |
| engagement | sampled day (weekly, 12 weeks to the run's day) | playbook (NA = any playbook), segment = ``enrolled`` / ``holdout``, tier, owner | summed daily score | accounts in the group |
| tasks | due month | playbook, tier, owner, segment = done / skipped / overdue / upcoming | tasks | tasks |
| leads | hand-off month | channel (source), tier, owner | leads followed up | leads handed off |
| follow_up | hand-off month | channel (source), tier, owner | followed up within the SLA | leads due |
| follow_up_hours | hand-off month | segment total / channel / owner, and that dimension | median hours | leads followed up |
| lead_conversion | hand-off month | channel (source), tier, owner | converted | decided leads |
| accounts | snapshot | tier, owner, segment = journey stage | accounts | accounts |
| lift | snapshot | segment = a segment or comparison of ``lift.py`` | win rate | accounts; ``data`` = every measure |
| holdout | snapshot | playbook | opportunity-rate difference | enrolled accounts; ``data`` = the row |

``segment`` of the deal metrics is ``engaged`` / ``not_engaged`` for target accounts (engaged that
month) and blank for the others, so target vs non-target, tiers and engaged vs not all come from
sums. An account's engaged status varies by month, so for a multi-month range the engaged split's
account count comes from the ``lift`` snapshot, which classes each account once for its period.
``tasks`` splits open tasks at the run's UTC day: due before it = overdue, else upcoming.

``engagement`` groups the accounts by their enrolments as of the run (the marketer's trend):
``enrolled`` = active, completed or exited, ``holdout`` = in a holdout. An account counts once per
group in a playbook's rows and once per group in the "any playbook" rows (playbook NA), so every
row is a sum over distinct accounts and adds up over disjoint sets of accounts.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

COLUMNS = (
    "metric",
    "period",
    "model",
    "kind",
    "channel",
    "playbook_id",
    "tier",
    "owner_id",
    "segment",
    "value",
    "count",
    "data",
)
# What identifies a rollup row: every column before its measures.
KEY = COLUMNS[: COLUMNS.index("value")]
METRICS = (
    "credit",
    "spend",
    "mqa",
    "engaged",
    "opportunities",
    "won",
    "lost",
    "open",
    "cycle_days",
    "sourced",
    "influenced",
    "engaged_accounts",
    "engagement",
    "tasks",
    "leads",
    "follow_up",
    "follow_up_hours",
    "lead_conversion",
    "accounts",
    "lift",
    "holdout",
)
# (metric, value column, count column) of the per-deal outcomes (lift.opportunity_outcomes).
DEAL_MEASURES = (
    ("opportunities", "pipeline", "opportunities"),
    ("won", "revenue", "won"),
    ("lost", "lost_amount", "lost"),
    ("open", "open_amount", "open"),
    ("cycle_days", "cycle_days_sum", "won"),
    ("sourced", "sourced_amount", "sourced"),
    ("influenced", "influenced_amount", "influenced"),
)
_ACCOUNT_DIMENSIONS = ["tier", "owner_id"]
TASK_SEGMENTS = ("done", "skipped", "overdue", "upcoming")
ENGAGEMENT_WEEKS = 12  # the marketer's trend: one day a week, the last being the run's day


def credit_rollup(credit_rows: pd.DataFrame) -> pd.DataFrame:
    """``credit_rows``: ``roi.credit_rows`` of every model."""
    dims = ["model", "kind", "month", "channel", "playbook_id", *_ACCOUNT_DIMENSIONS]
    sums = credit_rows.groupby(dims, dropna=False, sort=False)[["credit", "weight"]].sum()
    return _rows("credit", sums.reset_index(), value="credit", count="weight")


SPEND_DIMENSIONS = ["month", "channel", "playbook_id", *_ACCOUNT_DIMENSIONS]


def spend_rollup(spend_rows: pd.DataFrame) -> pd.DataFrame:
    sums = spend_rows.groupby(SPEND_DIMENSIONS, dropna=False, sort=False)[["amount", "lines"]]
    return spend_sums_rollup(sums.sum().reset_index())


def spend_sums_rollup(sums: pd.DataFrame) -> pd.DataFrame:
    """``sums``: ``SPEND_DIMENSIONS``, ``amount`` and ``lines`` summed over their spend rows."""
    return _rows("spend", sums, value="amount", count="lines")


def mqa_rollup(mqa_rows: pd.DataFrame) -> pd.DataFrame:
    return reached_rollup(mqa_rows, "mqa")


def reached_rollup(rows: pd.DataFrame, stage: str) -> pd.DataFrame:
    """``roi.reached_rows`` summed: the metric is named after the stage (``mqa``, ``engaged``)."""
    dims = ["month", "channel", "playbook_id", *_ACCOUNT_DIMENSIONS]
    sums = rows.assign(touches=1).groupby(dims, dropna=False, sort=False)
    sums = sums[[stage, "touches"]].sum().reset_index()
    # An untouched account is one row that is not a touch.
    sums.loc[sums["channel"] == "", "touches"] = 0
    return _rows(stage, sums, value=stage, count="touches")


def deal_rollups(deals: pd.DataFrame) -> pd.DataFrame:
    """``deals``: ``lift.opportunity_outcomes`` with ``month`` (of creation), ``tier``,
    ``owner_id``, ``segment``, ``sourced`` and ``influenced`` (``leads.pipeline_origins``)."""
    frame = deals.assign(
        lost_amount=np.where(deals["lost"] > 0, deals["pipeline"], 0.0),
        open_amount=np.where(deals["open"] > 0, deals["pipeline"], 0.0),
        sourced=deals["sourced"].astype(int),
        influenced=deals["influenced"].astype(int),
        sourced_amount=np.where(deals["sourced"], deals["pipeline"], 0.0),
        influenced_amount=np.where(deals["influenced"], deals["pipeline"], 0.0),
    )
    columns = sorted({c for _, value, count in DEAL_MEASURES for c in (value, count)})
    sums = frame.groupby(["month", *_ACCOUNT_DIMENSIONS, "segment"], dropna=False, sort=False)
    sums = sums[columns].sum().reset_index()
    return _concat(
        _rows(metric, sums, value=value, count=count) for metric, value, count in DEAL_MEASURES
    )


def engaged_accounts_rollup(engaged_months: pd.DataFrame) -> pd.DataFrame:
    """``engaged_months``: one row per engaged account and month, with ``tier, owner_id``."""
    sums = engaged_months.groupby(["month", *_ACCOUNT_DIMENSIONS], dropna=False, sort=False)
    sums = sums.size().rename("accounts").reset_index()
    return _rows("engaged_accounts", sums, value="accounts", count="accounts")


def engagement_rollup(members: pd.DataFrame, daily: pd.DataFrame, days) -> pd.DataFrame:
    """``members``: ``engagement_members``; ``daily``: ``account_id, date, score`` on ``days``
    (a missing row is a score of 0). Scores rounded as the stored history rounds them."""
    ids = ["playbook_id", *_ACCOUNT_DIMENSIONS]
    dims = [*ids, "segment"]
    if members.empty or not len(days):
        return _concat([])
    # NA ids as -1: group and merge keys without nullable-dtype surprises.
    keyed = members.assign(**{c: members[c].astype("Int64").fillna(-1) for c in ids})
    sizes = keyed.groupby(dims, sort=False).size().rename("accounts").reset_index()
    scores = daily.loc[daily["score"] > 0, ["account_id", "date"]].assign(
        score=daily["score"].round(4), date=pd.to_datetime(daily["date"])
    )
    sums = keyed.merge(scores, on="account_id").groupby([*dims, "date"], sort=False)
    sums = sums["score"].sum().reset_index()
    grid = sizes.merge(pd.DataFrame({"date": pd.to_datetime(list(days))}), how="cross")
    grid = grid.merge(sums, on=[*dims, "date"], how="left").fillna({"score": 0.0})
    for column in ids:
        grid[column] = grid[column].where(grid[column] != -1).astype("Int64")
    return _rows("engagement", grid, value="score", count="accounts", period="date")


def engagement_days(latest: dt.date, weeks: int = ENGAGEMENT_WEEKS) -> list[dt.date]:
    return [latest - dt.timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def engagement_members(enrolments: pd.DataFrame, enrolled: tuple, holdout: str) -> pd.DataFrame:
    """Distinct ``account_id, playbook_id, segment`` of the enrolments now (``enrolled`` statuses,
    the ``holdout`` one), plus the same per account with ``playbook_id`` NA (any playbook)."""
    segment = np.select(
        [enrolments["status"].isin(enrolled), enrolments["status"] == holdout],
        ["enrolled", "holdout"],
        "",
    )
    frame = enrolments[["account_id", "playbook_id"]].assign(segment=segment)
    frame = frame.loc[frame["segment"] != ""].astype({"playbook_id": "Int64"})
    per_playbook = frame.drop_duplicates()
    any_playbook = frame[["account_id", "segment"]].drop_duplicates()
    any_playbook["playbook_id"] = pd.array([pd.NA] * len(any_playbook), dtype="Int64")
    return pd.concat([per_playbook, any_playbook], ignore_index=True)


def task_rollup(tasks: pd.DataFrame, today: pd.Timestamp) -> pd.DataFrame:
    """``tasks``: ``status, due_at`` (UTC) with ``month`` (due), ``playbook_id``, ``tier`` and
    ``owner_id``; ``today``: the run's UTC midnight."""
    status = tasks["status"]
    open_ = status == "open"
    segment = np.select(
        [status == "done", status == "skipped", open_ & (tasks["due_at"] < today), open_],
        TASK_SEGMENTS,
        "",
    )
    frame = tasks.assign(segment=segment).loc[segment != ""]
    dims = ["month", "playbook_id", *_ACCOUNT_DIMENSIONS, "segment"]
    sums = frame.groupby(dims, dropna=False, sort=False).size().rename("tasks").reset_index()
    return _rows("tasks", sums, value="tasks", count="tasks")


def lead_rollups(follow_ups: pd.DataFrame, conversions: pd.DataFrame) -> pd.DataFrame:
    """``follow_ups``: ``accounts.follow_up.follow_up_outcomes``; ``conversions``: ``leads.lead_conversions``;
    both with ``month`` (of hand-off), ``channel`` (source channel), ``tier`` and ``owner_id``."""
    dims = ["month", "channel", *_ACCOUNT_DIMENSIONS]
    frame = follow_ups.assign(
        handed_off=1,
        followed_up=follow_ups["hours"].notna().astype(int),
        due=follow_ups["due"].astype(int),
        on_time=follow_ups["on_time"].astype(int),
    )
    sums = frame.groupby(dims, dropna=False, sort=False)
    sums = sums[["handed_off", "followed_up", "due", "on_time"]].sum().reset_index()
    converted = conversions.assign(
        decided=conversions["decided"].astype(int), converted=conversions["converted"].astype(int)
    )
    converted = converted.groupby(dims, dropna=False, sort=False)[["decided", "converted"]].sum()
    medians = []
    followed = frame.loc[frame["followed_up"] > 0]
    for segment, by in (("total", []), ("channel", ["channel"]), ("owner", ["owner_id"])):
        grouped = followed.groupby(["month", *by], dropna=False, sort=False)["hours"]
        table = grouped.agg(["median", "size"]).reset_index().assign(segment=segment)
        medians.append(_rows("follow_up_hours", table, value="median", count="size"))
    return _concat(
        [
            _rows("leads", sums, value="followed_up", count="handed_off"),
            _rows("follow_up", sums, value="on_time", count="due"),
            _rows("lead_conversion", converted.reset_index(), value="converted", count="decided"),
            *medians,
        ]
    )


def accounts_rollup(accounts: pd.DataFrame) -> pd.DataFrame:
    """Funnel snapshot: ``accounts`` with ``tier`` (0 = non-target), ``owner_id``, ``stage``."""
    sums = accounts.groupby([*_ACCOUNT_DIMENSIONS, "stage"], dropna=False, sort=False).size()
    sums = sums.rename("accounts").reset_index().rename(columns={"stage": "segment"})
    return _rows("accounts", sums, value="accounts", count="accounts", period=None)


def lift_rollup(metrics: pd.DataFrame, lifts: pd.DataFrame) -> pd.DataFrame:
    """Snapshot of ``lift.segment_metrics`` and ``lift.lifts`` for the lift period."""
    table = pd.concat([metrics, lifts])
    frame = pd.DataFrame(
        {
            "segment": table.index.astype(str),
            "win_rate": table["win_rate"].to_numpy(),
            "accounts": table["accounts"].to_numpy(),
            "data": [_json_safe(row) for row in table.to_dict("records")],
        }
    )
    return _rows("lift", frame, value="win_rate", count="accounts", period=None)


def holdout_rollup(holdout: pd.DataFrame) -> pd.DataFrame:
    frame = holdout.assign(data=[_json_safe(row) for row in holdout.to_dict("records")])
    return _rows("holdout", frame, value="rate_diff", count="enrolled_accounts", period=None)


def assemble(parts, *, data: bool = True) -> pd.DataFrame:
    """All rollup rows in ``COLUMNS`` order: ``period`` as dates, blanks for missing text.
    ``data=False``: without the ``data`` column (a slot's partial rows carry none; filling it
    with empty dicts row by row was a sixth of a slot's rollup time)."""
    frame = _concat(parts)
    # Dates, None for a snapshot: one conversion per distinct period, not one per row.
    periods = pd.to_datetime(frame["period"])
    unique = periods.dropna().unique()
    as_date = pd.Series([p.date() for p in unique], index=unique, dtype=object)
    frame["period"] = periods.map(as_date).astype(object).where(periods.notna(), None)
    for column in ("model", "kind", "channel", "segment"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "")
    for column in ("playbook_id", "tier", "owner_id"):
        frame[column] = frame[column].astype("Int64")
    frame["value"] = frame["value"].astype(float).fillna(0.0)
    frame["count"] = frame["count"].astype(float).fillna(0.0)
    if not data:
        return frame[[c for c in COLUMNS if c != "data"]]
    frame["data"] = [d if isinstance(d, dict) else {} for d in frame["data"]]
    return frame[list(COLUMNS)]


def _rows(
    metric: str,
    frame: pd.DataFrame,
    *,
    value: str,
    count: str,
    period: str | None = "month",
) -> pd.DataFrame:
    keep = [c for c in COLUMNS if c in frame and c not in ("metric", "value", "count")]
    out = frame[keep].copy()
    if period is None:
        out["period"] = pd.NaT
    else:
        out["period"] = frame[period]
    out["metric"] = metric
    out["value"] = frame[value].to_numpy(dtype=float)
    out["count"] = frame[count].to_numpy(dtype=float)
    return out


def _concat(parts) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    return pd.concat(parts, ignore_index=True).reindex(columns=list(COLUMNS))


def _json_safe(row: dict) -> dict:
    """NaN and numpy scalars as JSON: NaN -> None (undefined, shown as "—")."""
    out = {}
    for key, value in row.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        out[str(key)] = value
    return out
