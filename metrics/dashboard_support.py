"""What every dashboard page shares: the runs behind "data as of", CSV export of its tables."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpResponseBadRequest

from abm.models import Role
from accounts.exporting import csv_response
from metrics.dashboard_figures import Table
from metrics.models import MetricRun, RunKind, RunStatus
from metrics.visibility import metric_runs_visible_to

RECOMPUTE_ROLES = (Role.MARKETER, Role.DIRECTOR, Role.ADMIN)
METRIC_KINDS = (RunKind.FULL, RunKind.INCREMENTAL)


def run_context(user, requested) -> dict:
    """The last finished metrics run ("data as of") and the one under way (progress bar)."""
    runs = metric_runs_visible_to(user).filter(kind__in=METRIC_KINDS)
    last_run = (
        runs.filter(status=RunStatus.DONE)
        .exclude(finished_at=None)
        .order_by("-finished_at")
        .first()
    )
    active = Q(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
    if (run_id := _int(requested)) is not None:
        active |= Q(pk=run_id)
    current_run: MetricRun | None = runs.filter(active).order_by("-created_at").first()
    return {
        "last_run": last_run,
        "current_run": current_run,
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


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
