"""Formatting of dashboard table cells by their column's format."""

from django import template

from metrics.table_cells import cell_text

register = template.Library()


@register.filter
def cell(row: dict, column) -> str:
    return cell_text(row, column)


@register.filter
def is_numeric(column) -> bool:
    return column.format != "text"
