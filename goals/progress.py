"""Goal progress (DOMAIN.md "Goals (SMART)"): pure pandas/numpy, no Django ORM.

The value of each catalogue metric for a scope of accounts and a date range, the baseline of the
previous equal period, expected-by-now (milestones, else linear) and the status. The README's
"Metrics > Goals" lists the decisions; the ones a caller must know:

- A goal's period is the whole UTC days ``start_date .. end_date``; an event counts when
  ``start <= t < end + 1 day`` and ``t <= as_of`` (the recompute's now).
- Cumulative metrics (sums and counts) grow over the period from 0; level metrics (rates and
  averages) are the value over the period so far.
- A milestone is the value due by the end of its day.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from abm.lib.formats import EMPTY, money, percent
from abm.lib.timeconv import series_ns, to_utc
from accounts.follow_up import follow_up_outcomes
from goals.choices import MONEY_METRICS, RATE_METRICS, GoalMetric, GoalStatus
from metrics import leads, lift

# Sums over events: they start the period at 0 and add up over disjoint sets of accounts.
CUMULATIVE_METRICS = frozenset(
    {
        GoalMetric.PIPELINE_CREATED,
        GoalMetric.REVENUE_WON,
        GoalMetric.OPPORTUNITIES_CREATED,
        GoalMetric.OPPORTUNITY_ACCOUNTS,
        GoalMetric.MQA_ACCOUNTS,
        GoalMetric.ENGAGED_ACCOUNTS,
        GoalMetric.MEETINGS_HELD,
    }
)
# Accounts that first reached a journey stage, or passed it by reaching a later one: the flow the
# planner counts (metrics/planning_inputs.py), so a plan's goals measure what the plan plans.
# Accounts, not deals: an account's second deal does not count again, as in the plan's funnel.
_REACHED_STAGE_OF = {
    GoalMetric.OPPORTUNITY_ACCOUNTS: "opportunity",
    GoalMetric.MQA_ACCOUNTS: "mqa",
    GoalMetric.ENGAGED_ACCOUNTS: "engaged",
}
REACHED_STAGES = tuple(_REACHED_STAGE_OF.values())
LEVEL_METRICS = frozenset(GoalMetric.values) - CUMULATIVE_METRICS
ADDITIVE_METRICS = CUMULATIVE_METRICS
ENROLLED_STATUSES = lift.ENROLLED_STATUSES
RISK_STATUSES = frozenset({GoalStatus.AT_RISK, GoalStatus.OFF_TRACK})
_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class Scope:
    """Which accounts a goal covers: every condition given must hold (none given = all)."""

    tiers: tuple[int, ...] = ()
    playbook_id: int | None = None
    owner_id: int | None = None


def _frame(**columns: str) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


@dataclass
class GoalData:
    """What goal metrics are computed from; ``goal_loading.load_goal_data`` fills it."""

    accounts: pd.DataFrame = field(  # account_id, tier (NaN = not a target), owner_id
        default_factory=lambda: _frame(account_id="int64", tier="float64", owner_id="float64")
    )
    enrolments: pd.DataFrame = field(  # account_id, playbook_id, status
        default_factory=lambda: _frame(account_id="int64", playbook_id="int64", status=object)
    )
    opportunities: pd.DataFrame = field(  # account_id, amount, stage, created_at, closed_at
        default_factory=lambda: _frame(
            account_id="int64",
            amount="float64",
            stage=object,
            created_at="datetime64[ns, UTC]",
            closed_at="datetime64[ns, UTC]",
        )
    )
    meetings: pd.DataFrame = field(  # account_id, occurred_at
        default_factory=lambda: _frame(account_id="int64", occurred_at="datetime64[ns, UTC]")
    )
    leads: pd.DataFrame = field(  # account_id, handed_off_at, first_follow_up_at
        default_factory=lambda: _frame(
            account_id="int64",
            handed_off_at="datetime64[ns, UTC]",
            first_follow_up_at="datetime64[ns, UTC]",
        )
    )
    reached: pd.DataFrame = field(  # account_id, stage (REACHED_STAGES), at: first reached
        default_factory=lambda: _frame(account_id="int64", stage=object, at="datetime64[ns, UTC]")
    )
    sla_hours: float = 48.0  # the follow-up SLA


# --- Scope and periods ------------------------------------------------------------------------


def scope_accounts(data: GoalData, scope: Scope) -> np.ndarray:
    """Ids of the accounts in scope: tier in the tiers, enrolled (not holdout) in the playbook,
    owned by the rep. Current tier, owner and enrolment, not as they were in the period."""
    accounts = data.accounts
    keep = np.ones(len(accounts), dtype=bool)
    if scope.tiers:
        keep &= accounts["tier"].isin([float(t) for t in scope.tiers]).to_numpy()
    if scope.owner_id is not None:
        keep &= (accounts["owner_id"] == scope.owner_id).to_numpy()
    if scope.playbook_id is not None:
        enrolled = data.enrolments.loc[
            (data.enrolments["playbook_id"] == scope.playbook_id)
            & data.enrolments["status"].isin(ENROLLED_STATUSES),
            "account_id",
        ]
        keep &= accounts["account_id"].isin(enrolled).to_numpy()
    return accounts.loc[keep, "account_id"].to_numpy(dtype=np.int64)


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of equal length just before: the same number of whole calendar months when the
    period is whole months (Q2 -> Q1), else the same number of days."""
    if start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        year, month = divmod(start.year * 12 + start.month - 1 - months, 12)
        return dt.date(year, month + 1, 1), start - dt.timedelta(days=1)
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


def period_bounds(start: dt.date, end: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start 00:00, end + 1 day 00:00)`` in UTC."""
    return _midnight(start), _midnight(end) + _DAY


def _midnight(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day.year, day.month, day.day, tz="UTC")


# --- Metric values ----------------------------------------------------------------------------


def metric_value(
    data: GoalData,
    *,
    metric: str,
    accounts: np.ndarray,
    start: dt.date,
    end: dt.date,
    as_of,
) -> float | None:
    """The metric over the accounts for the period up to ``as_of``; None when a ratio has
    nothing to divide by."""
    lo, hi = period_bounds(start, end)
    as_of = to_utc(as_of)
    if metric in CUMULATIVE_METRICS:
        events = _events(data, metric, accounts)
        inside = (events["ts"] >= lo) & (events["ts"] < hi) & (events["ts"] <= as_of)
        return float(events.loc[inside, "value"].sum())
    return _level(data, metric, accounts, lo, hi, as_of)


def _in(frame: pd.DataFrame, accounts: np.ndarray) -> pd.DataFrame:
    return frame.loc[frame["account_id"].isin(accounts)]


def _events(data: GoalData, metric: str, accounts) -> pd.DataFrame:
    """``ts, value`` of each event that adds to a cumulative metric."""
    if metric in (GoalMetric.PIPELINE_CREATED, GoalMetric.OPPORTUNITIES_CREATED):
        deals = _in(data.opportunities, accounts)
        value = deals["amount"] if metric == GoalMetric.PIPELINE_CREATED else 1.0
        return pd.DataFrame({"ts": deals["created_at"], "value": value})
    if metric == GoalMetric.REVENUE_WON:
        won = _in(data.opportunities, accounts)
        won = won.loc[(won["stage"] == "closed_won") & won["closed_at"].notna()]
        return pd.DataFrame({"ts": won["closed_at"], "value": won["amount"]})
    if metric == GoalMetric.MEETINGS_HELD:
        return pd.DataFrame({"ts": _in(data.meetings, accounts)["occurred_at"], "value": 1.0})
    if metric in _REACHED_STAGE_OF:
        reached = _in(data.reached, accounts)
        reached = reached.loc[reached["stage"] == _REACHED_STAGE_OF[metric]]
        return pd.DataFrame({"ts": reached["at"], "value": 1.0})
    raise ValueError(f"{metric!r} is not a cumulative goal metric")


def _level(data: GoalData, metric, accounts, lo, hi, as_of) -> float | None:
    if metric in (GoalMetric.WIN_RATE, GoalMetric.AVERAGE_DEAL_SIZE):
        # Deals closed in the period, so the goal is decided by its end date (deals created late
        # in a quarter are mostly still open when it ends).
        deals = _in(data.opportunities, accounts)
        closed = deals["stage"].isin(["closed_won", "closed_lost"]) & deals["closed_at"].notna()
        when = deals["closed_at"]
        deals = deals.loc[closed & (when >= lo) & (when < hi) & (when <= as_of)]
        sums = lift.opportunity_outcomes(deals)[list(lift.SUMS)].sum().to_frame().T
        ratios = lift.ratios(sums.assign(accounts=len(accounts)))
        return _number(ratios[metric].iloc[0])
    if metric == GoalMetric.FOLLOW_UP_RATE:
        handed = _in(data.leads, accounts)
        handed = handed.loc[
            (handed["handed_off_at"] >= lo)
            & (handed["handed_off_at"] < hi)
            & (handed["handed_off_at"] <= as_of)
        ]
        # A follow-up after as_of had not happened yet as of then.
        later = handed["first_follow_up_at"] > as_of
        handed = handed.assign(first_follow_up_at=handed["first_follow_up_at"].mask(later, pd.NaT))
        outcomes = follow_up_outcomes(handed, now=as_of, sla_hours=data.sla_hours)
        return _number(leads.follow_up_summary(outcomes)["rate"].iloc[0])
    raise ValueError(f"{metric!r} is not a goal metric")


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def metric_series(
    data: GoalData,
    *,
    metric: str,
    accounts: np.ndarray,
    start: dt.date,
    end: dt.date,
    as_of,
) -> pd.DataFrame:
    """``date, value``: the metric at the end of each day of the period up to ``as_of``."""
    as_of = to_utc(as_of)
    lo, hi = period_bounds(start, end)
    last = min(as_of, hi - pd.Timedelta(microseconds=1))
    if last < lo:
        return pd.DataFrame({"date": pd.Series(dtype=object), "value": pd.Series(dtype=float)})
    days = pd.date_range(lo, last.normalize(), freq="D")
    # The value at the end of each day, except today's, which is as of now.
    ends = [min(day + _DAY - pd.Timedelta(microseconds=1), as_of) for day in days]
    if metric in CUMULATIVE_METRICS:
        events = _events(data, metric, accounts)
        events = events.loc[(events["ts"] >= lo) & (events["ts"] < hi) & (events["ts"] <= as_of)]
        order = events.sort_values("ts")
        cumulative = order["value"].cumsum().to_numpy()
        at = np.searchsorted(series_ns(order["ts"]), series_ns(pd.Series(ends)), side="right")
        values = np.where(at > 0, np.r_[0.0, cumulative][at], 0.0)
    else:
        values = [_level(data, metric, accounts, lo, hi, day_end) for day_end in ends]
    return pd.DataFrame({"date": [d.date() for d in days], "value": values})


# --- Expected by now and status ---------------------------------------------------------------


def expected_value(
    *,
    metric: str,
    baseline: float | None,
    target: float,
    start: dt.date,
    end: dt.date,
    milestones: Sequence[tuple[dt.date, float]] = (),
    as_of,
) -> float:
    """Where the goal should be by ``as_of``: the line through the milestones, else straight
    from the start to the target at the end of the period.

    Cumulative metrics start at 0; level metrics start at the baseline (the target without one).
    """
    times, values = expected_curve(
        metric=metric, baseline=baseline, target=target, start=start, end=end, milestones=milestones
    )
    at = to_utc(as_of).value
    return float(np.interp(at, times, values))


def expected_curve(
    *,
    metric: str,
    baseline: float | None,
    target: float,
    start: dt.date,
    end: dt.date,
    milestones: Sequence[tuple[dt.date, float]] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """The points (epoch ns, value) the expected line runs through."""
    lo, hi = period_bounds(start, end)
    points = sorted((_midnight(day) + _DAY, float(value)) for day, value in milestones)
    points = [(t, v) for t, v in points if lo < t < hi]
    if metric in CUMULATIVE_METRICS:
        first = 0.0
    elif baseline is not None:
        first = float(baseline)
    else:
        first = points[0][1] if points else float(target)
    points = [(lo, first), *points, (hi, float(target))]
    return (
        np.array([t.value for t, _ in points], dtype=float),
        np.array([v for _, v in points], dtype=float),
    )


def goal_status(
    *,
    metric: str,
    current: float | None,
    expected: float,
    target: float,
    start: dt.date,
    end: dt.date,
    as_of,
    on_track_share: float,
    at_risk_share: float,
) -> str:
    """on_track (>= on_track_share of expected), at_risk (>= at_risk_share), off_track (below);
    achieved / missed once decided. "" before the start, and while a rate has no value yet."""
    if to_utc(as_of) < period_bounds(start, end)[0]:
        return ""
    ended = to_utc(as_of) >= period_bounds(start, end)[1]
    if current is None:
        return GoalStatus.MISSED if ended else ""
    if ended:
        return GoalStatus.ACHIEVED if current >= target else GoalStatus.MISSED
    # A sum only grows, so reaching the target early decides it; a rate can still fall.
    if metric in CUMULATIVE_METRICS and current >= target:
        return GoalStatus.ACHIEVED
    if expected <= 0:
        return GoalStatus.ON_TRACK
    share = current / expected
    if share >= on_track_share:
        return GoalStatus.ON_TRACK
    if share >= at_risk_share:
        return GoalStatus.AT_RISK
    return GoalStatus.OFF_TRACK


@dataclass
class Progress:
    current: float | None
    expected: float
    status: str


def goal_progress(
    data: GoalData,
    *,
    metric: str,
    scope: Scope,
    baseline: float | None,
    target: float,
    start: dt.date,
    end: dt.date,
    milestones: Sequence[tuple[dt.date, float]] = (),
    as_of,
    on_track_share: float,
    at_risk_share: float,
) -> Progress:
    accounts = scope_accounts(data, scope)
    current = metric_value(
        data, metric=metric, accounts=accounts, start=start, end=end, as_of=as_of
    )
    expected = expected_value(
        metric=metric,
        baseline=baseline,
        target=target,
        start=start,
        end=end,
        milestones=milestones,
        as_of=as_of,
    )
    status = goal_status(
        metric=metric,
        current=current,
        expected=expected,
        target=target,
        start=start,
        end=end,
        as_of=as_of,
        on_track_share=on_track_share,
        at_risk_share=at_risk_share,
    )
    return Progress(current=current, expected=expected, status=status)


def baseline_value(
    data: GoalData, *, metric: str, scope: Scope, start: dt.date, end: dt.date
) -> float | None:
    """The metric over the previous equal period (``previous_period``), complete."""
    prev_start, prev_end = previous_period(start, end)
    return metric_value(
        data,
        metric=metric,
        accounts=scope_accounts(data, scope),
        start=prev_start,
        end=prev_end,
        as_of=period_bounds(prev_end, prev_end)[1],
    )


def children_total(metric: str, targets: Iterable[float]) -> float | None:
    """What child goals add up to, or None when the metric does not add up (rates, averages)."""
    if metric not in ADDITIVE_METRICS:
        return None
    return float(sum(targets))


# --- Display ----------------------------------------------------------------------------------


def value_unit(metric: str) -> str:
    if metric in MONEY_METRICS:
        return "money"
    if metric in RATE_METRICS:
        return "rate"
    return "count"


def format_value(value, metric: str) -> str:
    """A goal's value in its unit: "$1,250,000", "35.0%", "42"; "—" when missing."""
    if value is None:
        return EMPTY
    unit = value_unit(metric)
    if unit == "money":
        return money(value)
    if unit == "rate":
        return percent(value)
    return f"{float(value):,.0f}"


def _share(part, whole) -> float | None:
    if part is None or whole is None or not float(whole):
        return None
    return float(part) / float(whole)


def goal_summaries(goals: Iterable[dict]) -> list[dict]:
    """One plain dict per goal for dashboards and JSON: the stored progress, formatted.

    ``goals`` are plain rows of stored fields and the owner's name (goals/loading.py
    ``goal_summary_rows``).
    """
    rows = []
    for goal in goals:
        metric = goal["metric"]
        current = _number(goal["current_value"])
        expected = _number(goal["expected_value"])
        target = float(goal["target"])
        of_target = _share(current, target)
        rows.append(
            {
                "id": goal["id"],
                "name": goal["name"],
                "team": goal["team"],
                "owner": goal["owner"],
                "metric": metric,
                "metric_label": GoalMetric(metric).label,
                "unit": value_unit(metric),
                "start_date": goal["start_date"],
                "end_date": goal["end_date"],
                "target": target,
                "current": current,
                "expected": expected,
                "status": goal["status"],
                "status_label": GoalStatus(goal["status"]).label
                if goal["status"]
                else "Not computed",
                "target_display": format_value(target, metric),
                "current_display": format_value(current, metric),
                "expected_display": format_value(expected, metric),
                # 0-100 for a progress bar; of_expected is what the status is judged on.
                "percent_of_target": None
                if of_target is None
                else round(max(0.0, min(1.0, of_target)) * 100),
                "of_expected": _share(current, expected),
                "computed_at": goal["computed_at"],
            }
        )
    return rows
