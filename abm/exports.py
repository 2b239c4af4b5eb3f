"""CSV exports too large for a request: a Job of kind "export" writes the file in the worker.

The job stores who asked and the page's filters, and the worker rebuilds the export from them
through the same scoping functions (each app's export_specs.py, registered here), so it holds what the page showed
that user. Files live in a private folder (settings.ABM_EXPORT_DIR, never served as static), only
the requester may download them, and they are deleted after ABM_EXPORT_MAX_AGE_HOURS.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import QueryDict
from django.shortcuts import redirect
from django.utils import timezone

from abm.jobs import run_enqueue, run_progress
from abm.lib.csv_export import csv_lines, csv_response
from abm.models import Job, RunKind, RunStatus

CHUNK = 2_000
# Progress is written once per this many rows: often enough for the bar, rarely enough to be free.
PROGRESS_EVERY = 2_000


@dataclass(frozen=True)
class ExportSpec:
    filename: str
    columns: dict[str, object]  # header -> values_list lookup or expression
    queryset: QuerySet
    convert: Callable[[tuple], tuple] | None = None

    @property
    def header(self) -> list[str]:
        return list(self.columns)

    def rows(self) -> Iterator[tuple]:
        rows = self.queryset.values_list(*self.columns.values()).iterator(chunk_size=CHUNK)
        return map(self.convert, rows) if self.convert else rows

    def count(self) -> int:
        return self.queryset.count()

    def exceeds(self, limit: int) -> bool:
        """More than `limit` rows, without counting them all (the database stops at limit + 1)."""
        return self.queryset.order_by().values("pk")[limit : limit + 1].exists()


@dataclass(frozen=True)
class Export:
    """A registered export: builds its spec from (user, page query, account pk or None)."""

    build: Callable[[object, QueryDict, int | None], ExportSpec]
    what: str  # "activities": what the progress page says it writes
    back: str  # the URL name of the list it was started from


# export name -> Export; the name is what an export job stores. Apps register theirs in ready().
EXPORTS: dict[str, Export] = {}


def register_export(name: str, build, *, what: str, back: str) -> None:
    EXPORTS[name] = Export(build, what, back)


def export_spec(name: str, *, user, query: QueryDict, account: int | None = None) -> ExportSpec:
    return EXPORTS[name].build(user, query, account)


def export_or_queue(request, name: str, *, account: int | None = None):
    """The CSV at once when it is small; otherwise an export job and its progress page."""
    spec = export_spec(name, user=request.user, query=request.GET, account=account)
    if not spec.exceeds(settings.ABM_EXPORT_INLINE_MAX_ROWS):
        return csv_response(spec.filename, spec.header, spec.rows())
    run = export_enqueue(name=name, by=request.user, query=request.GET, account=account)
    return redirect("accounts:export_job", pk=run.pk)


def export_enqueue(*, name: str, by, query: QueryDict, account: int | None = None) -> Job:
    params = {"export": name, "user": by.pk, "query": query.urlencode(), "account": account}
    return run_enqueue(kind=RunKind.EXPORT, task="abm.export_csv", requested_by=by, params=params)


def export_job_execute(*, run: Job) -> dict:
    """Write the run's CSV; a re-delivered run writes a new file and the old one is never linked."""
    params = run.params
    user = get_user_model().objects.get(pk=params["user"])
    spec = export_spec(
        params["export"], user=user, query=QueryDict(params["query"]), account=params["account"]
    )
    total = spec.count()
    run_progress(run, phase=f"0 of {total:,} rows written", percent=0)
    folder = export_dir()
    name = f"export-{run.pk}-{secrets.token_hex(8)}.csv"
    partial = folder / f"{name}.part"
    written = _write(partial, spec, run=run, total=total)
    # Renamed only once complete, so a download never serves half a file.
    os.replace(partial, folder / name)
    return {"rows": written, "file": name, "filename": spec.filename}


def _write(path: Path, spec: ExportSpec, *, run: Job, total: int) -> int:
    written = -1  # the header is the first line after the byte-order mark
    with path.open("wb") as out:
        for index, line in enumerate(csv_lines(spec.header, spec.rows())):
            out.write(line.encode())
            if index == 0:
                continue
            written += 1
            if written and written % PROGRESS_EVERY == 0:
                percent = int(99 * written / total) if total else 99
                run_progress(run, phase=f"{written:,} of {total:,} rows written", percent=percent)
    return max(written, 0)


def exports_of(user):
    """Export runs only their requester may follow and download; anyone else gets a 404."""
    if not user.is_authenticated:
        return Job.objects.none()
    return Job.objects.filter(kind=RunKind.EXPORT, requested_by=user)


def export_file(run: Job, *, now: dt.datetime | None = None) -> Path | None:
    """The finished run's file, or None when there is none or it expired (then it is deleted)."""
    if run.status != RunStatus.DONE or not run.result.get("file"):
        return None
    path = export_dir() / Path(run.result["file"]).name
    if not path.exists():
        return None
    if _expired(path, now=now):
        path.unlink(missing_ok=True)
        return None
    return path


def export_files_delete_old(*, now: dt.datetime | None = None) -> list[str]:
    """Delete export files (and abandoned partial files) older than the maximum age."""
    folder = export_dir()
    deleted = []
    for path in folder.glob("export-*.csv*"):
        if _expired(path, now=now):
            path.unlink(missing_ok=True)
            deleted.append(path.name)
    return deleted


def export_dir() -> Path:
    folder = Path(settings.ABM_EXPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _expired(path: Path, *, now: dt.datetime | None) -> bool:
    now = now or timezone.now()
    max_age = dt.timedelta(hours=settings.ABM_EXPORT_MAX_AGE_HOURS)
    modified = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    return now - modified > max_age
