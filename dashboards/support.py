"""What every dashboard page shares: the runs behind "data as of", CSV export of its tables."""

from __future__ import annotations

from django.http import HttpResponseBadRequest

from abm.lib.csv_export import csv_response
from dashboards.figures import Table
from metrics.figures_status import RECOMPUTE_ROLES, figures_status


def run_context(user) -> dict:
    """The last finished metrics run ("data as of") and the one under way (#metrics-status)."""
    figures = figures_status(user)
    return {
        "last_run": figures.last_done,
        "figures": figures,
        "can_recompute": user.role in RECOMPUTE_ROLES or user.is_superuser,
    }


def export_response(request, tables: list[Table], *, prefix: str):
    """The CSV of the table named by ``?export=``; None when no export is asked for."""
    name = request.GET.get("export")
    if not name:
        return None
    table = next((t for t in tables if t.name == name), None)
    if table is None:
        known = ", ".join(t.name for t in tables)
        return HttpResponseBadRequest(
            f"There is no table “{name[:40]}” to export here. Tables: {known}.",
            content_type="text/plain; charset=utf-8",
        )
    header = [column.label for column in table.columns]
    return csv_response(f"{prefix}-{table.name}.csv", header, table.csv_rows())
