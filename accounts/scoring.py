"""ICP fit scoring (DOMAIN.md "Accounts"): pure and vectorised, no ORM.

`fit = 100 * sum(w_i * m_i) / sum(w_i)` over the configured criteria. `m_i` is 1 for a set match
or a value inside its range and falls linearly to 0 at half the lower bound / double the upper bound.
A missing value matches 0. A criterion without values (empty set, no bounds) is not configured: it
neither counts in the total weight nor appears in the breakdown. A total weight of 0 scores 0.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# Breakdown criterion names are the account fields they read.
INDUSTRY = "industry"
EMPLOYEES = "employees"
ANNUAL_REVENUE = "annual_revenue"
COUNTRY = "country"


@dataclass(frozen=True)
class IcpCriteria:
    industries: tuple[str, ...] = ()
    industries_weight: float = 0.0
    employees_min: float | None = None
    employees_max: float | None = None
    employees_weight: float = 0.0
    revenue_min: float | None = None
    revenue_max: float | None = None
    revenue_weight: float = 0.0
    countries: tuple[str, ...] = ()
    countries_weight: float = 0.0

    @classmethod
    def from_icp(cls, icp: Any) -> "IcpCriteria":
        """Read the criteria off an ICP row (or anything with the same attributes)."""

        def num(value: Any) -> float | None:
            return None if value is None else float(value)

        return cls(
            industries=tuple(icp.industries or ()),
            industries_weight=float(icp.industries_weight or 0),
            employees_min=num(icp.employees_min),
            employees_max=num(icp.employees_max),
            employees_weight=float(icp.employees_weight or 0),
            revenue_min=num(icp.revenue_min),
            revenue_max=num(icp.revenue_max),
            revenue_weight=float(icp.revenue_weight or 0),
            countries=tuple(icp.countries or ()),
            countries_weight=float(icp.countries_weight or 0),
        )


def set_match(values: pd.Series, allowed: Iterable[str]) -> np.ndarray:
    """1.0 where the value is one of `allowed` (case and surrounding blanks ignored), else 0.0."""
    wanted = {str(item).strip().casefold() for item in allowed}
    normalised = values.astype(object).map(
        lambda v: v.strip().casefold() if isinstance(v, str) else None
    )
    return normalised.isin(wanted).to_numpy(dtype=float)


def range_match(values: pd.Series, low: float | None, high: float | None) -> np.ndarray:
    """1.0 inside [low, high]; linear to 0.0 at low/2 and at 2*high; 0.0 for a missing value."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    match = np.ones(len(v))
    with np.errstate(invalid="ignore"):
        if low is not None:
            if low > 0:
                below = np.clip((v - low / 2) / (low / 2), 0.0, 1.0)
                match = np.where(v < low, below, match)
            else:
                match = np.where(v < low, 0.0, match)
        if high is not None:
            if high > 0:
                above = np.clip((2 * high - v) / high, 0.0, 1.0)
                match = np.where(v > high, above, match)
            else:
                match = np.where(v > high, 0.0, match)
    return np.where(np.isnan(v), 0.0, match)


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def fit_scores(frame: pd.DataFrame, criteria: IcpCriteria) -> pd.DataFrame:
    """Score each row of `frame` (columns industry, employees, annual_revenue, country).

    Returns a frame on the same index with `fit_score` (0-100), `fit_breakdown` (a list of
    {criterion, weight, match, value} per row, the "why this fit") and one `match_<criterion>`
    column per configured criterion.
    """
    configured: list[tuple[str, float, np.ndarray]] = []
    if criteria.industries:
        configured.append(
            (INDUSTRY, criteria.industries_weight, set_match(frame[INDUSTRY], criteria.industries))
        )
    if criteria.employees_min is not None or criteria.employees_max is not None:
        employees = range_match(frame[EMPLOYEES], criteria.employees_min, criteria.employees_max)
        configured.append((EMPLOYEES, criteria.employees_weight, employees))
    if criteria.revenue_min is not None or criteria.revenue_max is not None:
        revenue = range_match(frame[ANNUAL_REVENUE], criteria.revenue_min, criteria.revenue_max)
        configured.append((ANNUAL_REVENUE, criteria.revenue_weight, revenue))
    if criteria.countries:
        configured.append(
            (COUNTRY, criteria.countries_weight, set_match(frame[COUNTRY], criteria.countries))
        )

    total_weight = sum(weight for _, weight, _ in configured)
    weighted = np.zeros(len(frame))
    for _, weight, match in configured:
        weighted += weight * match
    score = 100 * weighted / total_weight if total_weight > 0 else np.zeros(len(frame))

    result = pd.DataFrame({"fit_score": np.clip(score, 0.0, 100.0)}, index=frame.index)
    parts = []
    for name, weight, match in configured:
        result[f"match_{name}"] = match
        values = [_json_value(v) for v in frame[name].astype(object).tolist()]
        rounded = np.round(match, 4).tolist()
        parts.append([(name, float(weight), m, v) for m, v in zip(rounded, values, strict=True)])
    rows = zip(*parts, strict=True) if parts else ([] for _ in range(len(frame)))
    result["fit_breakdown"] = [
        [{"criterion": c, "weight": w, "match": m, "value": v} for c, w, m, v in row]
        for row in rows
    ]
    return result
