""" "Why this fit": an account's stored fit breakdown as rows a person can read (pure)."""

from collections.abc import Sequence

from accounts.scoring import ANNUAL_REVENUE, COUNTRY, EMPLOYEES, INDUSTRY

LABELS = {
    INDUSTRY: "Industry",
    EMPLOYEES: "Employees",
    ANNUAL_REVENUE: "Annual revenue",
    COUNTRY: "Country",
}
SHORT_LABELS = {ANNUAL_REVENUE: "Revenue"}


def fit_rows(breakdown: Sequence[dict] | None) -> list[dict]:
    """One row per scored criterion: its match (0-1), its share of the weight, the points it adds.

    The points add up to the fit score: points_i = 100 * w_i * m_i / sum(w).
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
    return rows
