"""CSV imports as jobs: store the upload, preview and map it, check it, run it as a Job.

The upload is kept under var/imports/ with an ImportJob row (kind, mapping, counts, rejects); each
run is a Job, so the page shows a progress bar and a re-delivered task does nothing twice.
Used alike by the upload pages, `manage.py import_csv` and the `ingestion.import_csv` task.

The check of the mapping page reads the whole file through the run's own path (`import_read`,
then `upsert_rows` with dry_run), so the rows it says will be rejected are the rows the run
rejects; only a database refusal at write time (a race with another import) can add to them.
On PostgreSQL the run writes activities by COPY and one upsert (import_activity_copy.py) under the
batch writer's rules, held to the same outcome by tests/ingestion/test_import_activity_copy.py.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone

from abm.audit import AuditAction, audit_record
from abm.change_feed import announce_change
from abm.jobs import execute_run, run_enqueue, run_progress
from abm.lib.csv_safety import write_csv
from abm.lib.db_stats import vacuum
from abm.lib.permissions import user_role
from abm.models import Job, Role, RunKind
from accounts.models import Account, Contact, Lead, Opportunity
from ingestion import importing
from ingestion.import_activity_copy import copy_activities
from ingestion.import_upsert import Counts, upsert_rows
from ingestion.importing import ImportRefused, Preview, Reject
from ingestion.models import ImportJob, ImportKind
from playbooks.models import Activity

# A large import changes the table enough for the planner's row counts to mislead it; vacuumed
# too, so the engine reads the new activities from their covering index alone.
ANALYZE_AFTER_ROWS = 10_000
# The check keeps this many of its rejects (the first lines) for the mapping page.
CHECK_KEPT_REJECTS = 200

IMPORT_ROLES = frozenset({Role.MARKETER, Role.ADMIN})
_COPY_CHUNK = 1024 * 1024


def import_allowed(user) -> bool:
    return user_role(user) in IMPORT_ROLES


def _check_allowed(by) -> None:
    if by is None or not import_allowed(by):
        raise PermissionDenied("Only marketers and admins may import.")


def imports_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def import_job_file(job: ImportJob) -> Path:
    return Path(settings.VAR_DIR) / job.path


def import_job_rejects_file(job: ImportJob) -> Path | None:
    return Path(settings.VAR_DIR) / job.rejects_path if job.rejects_path else None


def import_job_create(
    *, kind: str, upload: BinaryIO, name: str, by, size: int | None = None
) -> ImportJob:
    """Store an uploaded file and read its header; ImportRefused when it is no CSV we can read.

    The size is checked before a byte is parsed (an upload's `size`, else `size`, else by
    seeking), and again while copying in case it lied.
    """
    _check_allowed(by)
    importing.check_kind(kind)
    limit = settings.ABM_IMPORT_MAX_BYTES
    if size is None:
        size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
        upload.seek(0)
    importing.check_size(size, limit=limit)
    directory = imports_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{uuid.uuid4().hex}.csv"
    try:
        written = _copy(upload, target, limit=limit)
        importing.check_size(written, limit=limit)
        table = importing.read_table(target.read_bytes(), limit=0)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return ImportJob.objects.create(
        kind=kind,
        original_name=Path(name).name[:255] or target.name,
        path=str(target.relative_to(settings.VAR_DIR)),
        size=written,
        encoding=table.encoding,
        delimiter=table.delimiter,
        headers=table.headers,
        mapping=importing.suggest_mapping(kind, table.headers),
        uploaded_by=by,
    )


def _copy(upload: BinaryIO, target: Path, *, limit: int) -> int:
    chunks = (
        upload.chunks()
        if hasattr(upload, "chunks")
        else iter(lambda: upload.read(_COPY_CHUNK), b"")
    )
    written = 0
    with target.open("wb") as out:
        for chunk in chunks:
            written += len(chunk)
            if written > limit:
                break  # check_size explains; no need to store the rest
            out.write(chunk)
    return written


def import_labels(mapping: dict[str, str]) -> dict[str, str]:
    """field -> the file's header, so reasons speak the file's words."""
    return {field: header for header, field in mapping.items()}


def import_read(
    *, kind: str, data: bytes, mapping: dict[str, str], by, dry_run: bool, progress=None
) -> tuple[Counts, list[Reject], importing.Parsed, set[int] | None]:
    """Every row of the file through the same rules: read and validate, then find, plan and
    (unless `dry_run`) write. Counts include the rows refused while reading. Last, the ids of
    the accounts whose rows changed, or None when the kind does not tell (every account).

    Activities are written on PostgreSQL by COPY and one upsert (import_activity_copy.py); a
    database refusal there (a race with another import) redoes the file through the batch writer,
    which finds what is written and rejects only the failing rows."""
    parsed = importing.parse(data, kind, tz=timezone.get_default_timezone(), mapping=mapping)
    labels = import_labels(parsed.mapping)
    touched = set() if kind == ImportKind.ACTIVITIES else None
    if progress is not None and parsed.rows:
        progress(0, len(parsed.rows))
    result = None
    if touched is not None and not dry_run and connection.vendor == "postgresql":
        try:
            counts, rejected, touched = copy_activities(
                parsed.rows, by=by, labels=labels, progress=progress
            )
            result = counts, rejected
        except (IntegrityError, DataError):
            touched = set()
    if result is None:
        result = upsert_rows(
            kind=kind,
            rows=parsed.rows,
            by=by,
            progress=progress,
            labels=labels,
            dry_run=dry_run,
            touched=touched,
        )
    counts, rejected = result
    counts.rejected += len(parsed.rejects)
    rejects = sorted(parsed.rejects + rejected, key=lambda reject: reject.line)
    return counts, rejects, parsed, touched


def import_job_check_enqueue(*, job: ImportJob, by, mapping: dict[str, str] | None = None) -> Job:
    """Queue the whole-file check of a mapping; ImportRefused when the mapping cannot work."""
    _check_allowed(by)
    chosen = importing.check_mapping(
        job.kind, job.headers, job.mapping if mapping is None else mapping
    )
    run = run_enqueue(
        kind=RunKind.IMPORT,
        task="ingestion.import_check",
        requested_by=by,
        params={"import_job": job.pk, "check": True, "mapping": chosen},
    )
    ImportJob.objects.filter(pk=job.pk).update(check_run=run)
    job.check_run = run
    return run


def import_job_check_execute(*, run: Job) -> dict:
    """The check's body: what the run would count, with nothing written."""
    job = ImportJob.objects.select_related("uploaded_by").get(pk=run.params["import_job"])
    run_progress(run, phase="reading the file", percent=5)

    def checked(done: int, total: int) -> None:
        run_progress(
            run, phase=f"checked {done:,} of {total:,} rows", percent=10 + 85 * done // total
        )

    counts, rejects, _, _ = import_read(
        kind=job.kind,
        data=_read(job),
        mapping=run.params["mapping"],
        by=job.uploaded_by or run.requested_by,
        dry_run=True,
        progress=checked,
    )
    return {
        "import_job": job.pk,
        "check": True,
        "rows": counts.created + counts.updated + counts.unchanged + counts.rejected,
        **counts.as_dict(),
        "rejects": [{"line": r.line, "reason": r.reason} for r in rejects[:CHECK_KEPT_REJECTS]],
    }


def import_job_preview(
    *, job: ImportJob, rows: int = 20, mapping: dict[str, str] | None = None
) -> Preview:
    return importing.preview(
        _read(job),
        job.kind,
        tz=timezone.get_default_timezone(),
        mapping=job.mapping if mapping is None else mapping,
        rows=rows,
    )


def import_job_enqueue(*, job: ImportJob, by, mapping: dict[str, str] | None = None) -> Job:
    """Queue the import on a worker once the surrounding transaction commits."""
    _prepare(job, by, mapping)
    run = run_enqueue(
        kind=RunKind.IMPORT,
        task="ingestion.import_csv",
        requested_by=by,
        params={"import_job": job.pk},
    )
    ImportJob.objects.filter(pk=job.pk).update(run=run)
    job.run = run
    return run


def import_job_run(*, job: ImportJob, by, mapping: dict[str, str] | None = None) -> Job:
    """Run the import here and now, through the same Job machinery as the task."""
    _prepare(job, by, mapping)
    run = Job.objects.create(kind=RunKind.IMPORT, requested_by=by, params={"import_job": job.pk})
    ImportJob.objects.filter(pk=job.pk).update(run=run)
    execute_run(run.pk, lambda claimed: import_job_execute(run=claimed))
    job.refresh_from_db()
    return job.run


def _prepare(job: ImportJob, by, mapping: dict[str, str] | None) -> None:
    _check_allowed(by)
    if mapping is not None:
        job.mapping = mapping
    # Refuse now, while someone is there to read why, rather than in a worker.
    job.mapping = importing.check_mapping(job.kind, job.headers, job.mapping)
    job.save(update_fields=["mapping"])
    audit_record(
        actor=by,
        action=AuditAction.IMPORT_STARTED,
        obj=job,
        changes={"kind": job.kind, "file": job.original_name, "bytes": job.size},
    )


def import_file(
    *, kind: str, path: Path | str, by, mapping: dict[str, str] | None = None
) -> ImportJob:
    """Import a file from disk now (the command): store, map (suggestion + `mapping`), run."""
    path = Path(path)
    _check_allowed(by)
    importing.check_size(path.stat().st_size, limit=settings.ABM_IMPORT_MAX_BYTES)
    with path.open("rb") as upload:
        job = import_job_create(kind=kind, upload=upload, name=path.name, by=by)
    chosen = importing.merge_mapping(job.mapping, mapping or {})
    try:
        import_job_run(job=job, by=by, mapping=chosen)
    except ImportRefused:
        job.delete()
        import_job_file(job).unlink(missing_ok=True)
        raise
    job.refresh_from_db()
    return job


def import_job_execute(*, run: Job) -> dict:
    """The job's body: read, validate, upsert batch by batch with progress, keep the rejects.

    Idempotent by natural keys: running it again, even after a crash half-way, finds the rows
    already written and counts them unchanged.
    """
    job = ImportJob.objects.select_related("uploaded_by").get(pk=run.params["import_job"])
    by = job.uploaded_by or run.requested_by
    run_progress(run, phase="reading the file", percent=2)

    def saved(done: int, total: int) -> None:
        phase = f"saved {done:,} of {total:,} rows" if done else f"saving {total:,} rows"
        run_progress(run, phase=phase, percent=10 + 85 * done // total)

    counts, rejects, parsed, touched = import_read(
        kind=job.kind, data=_read(job), mapping=job.mapping, by=by, dry_run=False, progress=saved
    )
    if counts.created >= ANALYZE_AFTER_ROWS:
        vacuum(_imported_model(job.kind))
    rejects_path = _write_rejects(job, parsed.table.headers, rejects)
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            **counts.as_dict(),
            rejects=[{"line": r.line, "reason": r.reason, "values": r.cells} for r in rejects],
            rejects_path=rejects_path,
            finished_at=timezone.now(),
        )
        audit_record(
            actor=by,
            action=AuditAction.IMPORT_FINISHED,
            obj=job,
            changes={"kind": job.kind, "file": job.original_name, **counts.as_dict()},
        )
        # Accounts were fit-scored as they were written (accounts/fitting.py), as over the API.
        if job.kind != ImportKind.ACCOUNTS and (counts.created or counts.updated):
            # Engagement, stages and attribution read contacts, deals, leads and activities.
            # Activities tell which accounts they touched: only those are recomputed.
            announce_change(reason=f"{job.kind} import #{job.pk}", account_ids=touched)
    return {
        "import_job": job.pk,
        "kind": job.kind,
        **counts.as_dict(),
        "rejects_path": rejects_path,
    }


def _imported_model(kind: str):
    return {
        ImportKind.ACCOUNTS: Account,
        ImportKind.CONTACTS: Contact,
        ImportKind.OPPORTUNITIES: Opportunity,
        ImportKind.LEADS: Lead,
        ImportKind.ACTIVITIES: Activity,
    }[kind]


def import_rejects_csv(*, headers: list[str], rejects: list[Reject]) -> bytes:
    """line, reason and the original cells; cells a spreadsheet would run are escaped."""
    width = max([len(headers)] + [len(reject.cells) for reject in rejects])
    header = [
        "line",
        "reason",
        *headers,
        *(f"(column {n})" for n in range(len(headers) + 1, width + 1)),
    ]
    rows = ([reject.line, reject.reason, *reject.cells] for reject in rejects)
    return write_csv(rows, header)


def _write_rejects(job: ImportJob, headers: list[str], rejects: list[Reject]) -> str:
    target = import_job_file(job).with_suffix(".rejects.csv")
    if not rejects:
        target.unlink(missing_ok=True)
        return ""
    partial = target.with_suffix(".tmp")
    partial.write_bytes(import_rejects_csv(headers=headers, rejects=rejects))
    shutil.move(partial, target)  # readers never see half a file
    return str(target.relative_to(settings.VAR_DIR))


def _read(job: ImportJob) -> bytes:
    try:
        return import_job_file(job).read_bytes()
    except FileNotFoundError:
        raise ImportRefused(
            f"The uploaded file of import #{job.pk} is gone; upload it again."
        ) from None
