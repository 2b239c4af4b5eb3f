"""A goal's record: the baseline and the best equal period the stored data cover (pure).

The Attainable check (goals/smart.py) compares a target with the previous equal period
(the baseline) and with the best of the last ``count`` equal periods on record. A period is on
record when it starts on or after the first stored event of the metric's kind (the data's
``data_start``): a quarter the data reach only half-way into would make a poor record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from goals.progress import (
    GoalData,
    Scope,
    metric_value,
    period_bounds,
    previous_period,
    scope_accounts,
)


@dataclass(frozen=True)
class Record:
    baseline: float | None  # the previous equal period, covered by the data or not
    best: float | None  # the best equal period on record (None: no period on record)
    best_start: dt.date | None = None
    best_end: dt.date | None = None
    periods: int = 0  # equal periods on record


def equal_periods(start: dt.date, end: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """The ``count`` equal periods before ``start .. end``, the nearest (the baseline's) first."""
    periods = []
    for _ in range(max(count, 1)):
        start, end = previous_period(start, end)
        periods.append((start, end))
    return periods


def goal_record(
    data: GoalData,
    *,
    metric: str,
    scope: Scope,
    start: dt.date,
    end: dt.date,
    data_start: dt.date | None,
    count: int,
) -> Record:
    """Baseline and best of the equal periods before ``start .. end``. ``data`` must reach back
    to the first period's start; ``data_start`` is None when the data hold no event at all."""
    accounts = scope_accounts(data, scope)
    periods = equal_periods(start, end, count)

    def value(period):
        return metric_value(
            data,
            metric=metric,
            accounts=accounts,
            start=period[0],
            end=period[1],
            as_of=period_bounds(period[1], period[1])[1],
        )

    baseline = value(periods[0])
    on_record = [p for p in periods if data_start is not None and p[0] >= data_start]
    measured = [(v, p) for p in on_record if (v := value(p)) is not None]
    if not measured:
        return Record(baseline=baseline, best=None, periods=len(on_record))
    # max keeps the first of equal values: the most recent period wins a tie.
    best, (best_start, best_end) = max(measured, key=lambda item: item[0])
    return Record(baseline, best, best_start, best_end, len(on_record))
