"""Formatting of dashboard table cells by their column's format."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from abm.templatetags.abm_extras import EMPTY, money, percent, signed_percent

register = template.Library()


@register.filter
def cell(row: dict, column) -> str:
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


@register.filter
def is_numeric(column) -> bool:
    return column.format != "text"
