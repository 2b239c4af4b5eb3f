"""Formatting of dashboard table cells by their column's format."""

from django import template

from dashboards.table_cells import cell_text

register = template.Library()


@register.filter
def cell(row: dict, column) -> str:
    return cell_text(row, column)


@register.filter
def cell_url(row: dict, column) -> str:
    """A figure's own drill-down (``<column>_url``, e.g. ``spend_url``), if the row has one."""
    return row.get(f"{column.key}_url") or ""


@register.filter
def is_numeric(column) -> bool:
    return column.format != "text"
