"""A dashboard table cell as text: what the page shows and what its CSV export holds.

One function for both, so an exported cell reads exactly like the page (money as "$1,235",
percent as "12.3%", undefined as "—"; DOMAIN "Dashboards").
"""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma

from abm.templatetags.abm_extras import EMPTY, money, percent, signed_percent


def cell_text(row: dict, column) -> str:
    value = row.get(column.key)
    if value is None or value == "":
        return EMPTY
    if row.get("is_lift") and column.format in ("percent", "money", "days", "count"):
        # A lift row holds relative differences whatever the column's unit.
        return signed_percent(value)
    match column.format:
        case "money":
            return money(value)
        case "percent":
            return percent(value)
        case "signed_percent":
            return signed_percent(value)
        case "count":
            return intcomma(round(float(value)))
        case "days":
            return f"{float(value):,.0f} days"
        case "number":
            return f"{float(value):,.2f}"
    return str(value)
