""" "Why this fit": an account's stored fit breakdown as rows a person can read (pure)."""

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from accounts.scoring import ANNUAL_REVENUE, COUNTRY, EMPLOYEES, INDUSTRY

LABELS = {
    INDUSTRY: "Industry",
    EMPLOYEES: "Employees",
    ANNUAL_REVENUE: "Annual revenue",
    COUNTRY: "Country",
}
SHORT_LABELS = {ANNUAL_REVENUE: "Revenue"}


def shown_whole(value: float) -> int:
    """A number as the page shows it whole: half up, like the ``floatformat:0`` filter."""
    return int(Decimal(repr(float(value))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fit_rows(breakdown: Sequence[dict] | None, fit_score: float | None = None) -> list[dict]:
    """One row per scored criterion: its match (0-1), its share of the weight, the points it adds.

    ``points_i = 100 * w_i * m_i / sum(w)`` add up to the fit score; ``contribution`` is each
    row's whole number of points, rounded by largest remainder so the rows add up exactly to
    the fit the page shows (``fit_score`` rounded half up; without it, the points' sum).
    """
    parts = [p for p in breakdown or () if isinstance(p, dict) and "criterion" in p]
    total = sum(float(p.get("weight") or 0) for p in parts)
    rows = []
    for part in parts:
        weight = float(part.get("weight") or 0)
        match = min(1.0, max(0.0, float(part.get("match") or 0)))
        share = weight / total if total > 0 else 0.0
        rows.append(
            {
                "criterion": part["criterion"],
                "label": LABELS.get(part["criterion"], part["criterion"].replace("_", " ")),
                "short_label": SHORT_LABELS.get(
                    part["criterion"], LABELS.get(part["criterion"], part["criterion"])
                ),
                "value": part.get("value"),
                "weight": weight,
                "weight_share": share,
                "match": match,
                "match_percent": round(match * 100),
                "points": 100 * share * match,
            }
        )
    points = [row["points"] for row in rows]
    shown = shown_whole(sum(points) if fit_score is None else fit_score)
    for row, whole in zip(rows, largest_remainder(points, shown), strict=True):
        row["contribution"] = whole
    return rows


def largest_remainder(values: Sequence[float], total: int) -> list[int]:
    """Whole numbers, one per value, that add up to ``total``: each value rounded down, then
    the units still missing go to the largest fractional parts (earlier rows win ties); units
    too many (a ``total`` below the floors) come off the smallest fractional parts first."""
    if not values:
        return []
    floors = [math.floor(v + 1e-9) for v in values]  # 37.99999999 is 38, not 37
    remainders = [v - f for v, f in zip(values, floors, strict=True)]
    order = sorted(range(len(values)), key=lambda i: -remainders[i])
    missing = total - sum(floors)
    index = 0
    while missing > 0:
        floors[order[index % len(order)]] += 1
        missing -= 1
        index += 1
    for i in reversed(order):
        if missing >= 0:
            break
        take = min(floors[i], -missing)
        floors[i] -= take
        missing += take
    return floors
