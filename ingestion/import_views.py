"""The CSV import pages: upload, map the columns against a preview, run, read the result.

Thin over ingestion/import_jobs.py, which does the work for these pages, the command and the task.
Imports are team work: every marketer and admin sees every job; nobody else sees any.
"""

import re
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from abm.job_progress import Progress
from abm.lib.permissions import role_required
from abm.models import RunStatus
from ingestion import importing
from ingestion.import_jobs import (
    IMPORT_ROLES,
    import_job_check_enqueue,
    import_job_create,
    import_job_enqueue,
    import_job_preview,
    import_job_rejects_file,
)
from ingestion.importing import FIELDS, ImportRefused, missing_columns
from ingestion.models import ImportJob, ImportKind

RECENT_JOBS = 20
PREVIEW_ROWS = 10
SHOWN_REJECTS = 20
SAMPLE_VALUES = 3
IGNORE = "-"

DELIMITER_NAMES = {",": "Comma", ";": "Semicolon", "\t": "Tab", "|": "Pipe"}
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1",
}
FIELD_LABELS = {
    "external_id": "External ID (CRM id)",
    "account_external_id": "Account external ID",
    "contact_external_id": "Contact external ID",
    "account_domain": "Account domain",
    "account_name": "Account name",
    "contact_email": "Contact email",
}
KIND_HELP = {
    ImportKind.ACCOUNTS: "Target companies, matched by domain or CRM id.",
    ImportKind.CONTACTS: "People at those companies, matched by CRM id or email.",
    ImportKind.OPPORTUNITIES: "Deals on the accounts, matched by CRM id.",
    ImportKind.LEADS: "Hand-offs from marketing to sales, matched by CRM id.",
    ImportKind.ACTIVITIES: "Touches: emails, calls, events and ads, matched by id.",
}


def _size_limit() -> str:
    """settings.ABM_IMPORT_MAX_BYTES in MB, as people say it: '50 MB', '0.5 MB'."""
    megabytes = settings.ABM_IMPORT_MAX_BYTES / 1024 / 1024
    return f"{megabytes:.1f}".removesuffix(".0") + " MB"


def _field_label(name: str) -> str:
    return FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label="What to import", choices=ImportKind.choices)
    file = forms.FileField(
        label="CSV file",
        allow_empty_file=True,  # the engine says "The file is empty." in its own words
        widget=forms.FileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            f"Up to {_size_limit()}. Comma, semicolon or tab separated; UTF-8 or Excel's "
            "Windows encoding. The first line names the columns."
        )
        # static/js/import.js refuses a bigger file before sending it, in the server's words.
        self.fields["file"].widget.attrs.update(
            {"data-max-bytes": settings.ABM_IMPORT_MAX_BYTES, "data-limit": _size_limit()}
        )


# --- Upload and the list of jobs ----------------------------------------------------------------


@role_required(*IMPORT_ROLES)
@require_http_methods(["GET", "POST"])
def import_upload(request):
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = import_job_create(
                    kind=form.cleaned_data["kind"],
                    upload=upload,
                    name=upload.name,
                    by=request.user,
                )
            except ImportRefused as refused:
                form.add_error("file", str(refused))
            else:
                _check(job, request.user, None)
                return redirect("ingestion:import_job", pk=job.pk)
    else:
        kind = request.GET.get("kind")
        form = ImportUploadForm(initial={"kind": kind if kind in ImportKind.values else None})
    return _upload_page(request, form)


def import_upload_too_large(request, size: int):
    """The upload page refusing a body of `size` bytes that was never read (ingestion/middleware.py)."""
    form = ImportUploadForm({})
    form.is_valid()
    form.errors.clear()
    try:
        importing.check_size(size, limit=settings.ABM_IMPORT_MAX_BYTES)
    except ImportRefused as refused:
        form.add_error("file", str(refused))
    return _upload_page(request, form, status=413)


def _upload_page(request, form: ImportUploadForm, *, status: int = 200):
    jobs = (
        ImportJob.objects.select_related("uploaded_by", "run")
        # Rejects can run to every row of a big file; the list needs only the counts.
        .defer("rejects", "headers", "mapping")[:RECENT_JOBS]
    )
    return render(
        request,
        "accounts/import.html",
        {
            "form": form,
            "jobs": [_with_status(job) for job in jobs],
            "recent": RECENT_JOBS,
            "size_limit": _size_limit(),
            "kinds": [
                {
                    "label": label,
                    "help": KIND_HELP[value],
                    "fields": [_field_label(name) for name in FIELDS[value]],
                }
                for value, label in ImportKind.choices
            ],
        },
        status=status,
    )


def _with_status(job: ImportJob) -> ImportJob:
    run = job.run
    if run is None:
        job.status, job.status_label = "draft", "Not started"
    else:
        job.status, job.status_label = run.status, run.get_status_display()
    job.has_result = run is not None and run.status == RunStatus.DONE
    return job


# --- One job: mapping preview, progress, result ---------------------------------------------------


def _job(pk: int) -> ImportJob:
    return get_object_or_404(
        ImportJob.objects.select_related("uploaded_by", "run", "check_run"), pk=pk
    )


def _busy(job: ImportJob) -> bool:
    return job.run is not None and job.run.status in (RunStatus.QUEUED, RunStatus.RUNNING)


@role_required(*IMPORT_ROLES)
@require_http_methods(["GET", "POST"])
def import_job_detail(request, pk: int):
    job = _job(pk)
    if request.method == "GET":
        failed = job.run is not None and job.run.status == RunStatus.FAILED
        return _render_job(request, job, editing=job.run is None or failed or "edit" in request.GET)
    action = request.POST.get("action", "")
    if action in ("start", "rerun") and _busy(job):
        messages.info(request, "This import is already running; it is shown below.")
        return redirect("ingestion:import_job", pk=job.pk)
    if action == "rerun":
        try:
            import_job_enqueue(job=job, by=request.user)
        except ImportRefused as refused:
            return _render_job(request, job, editing=True, mapping_error=str(refused))
        return redirect("ingestion:import_job", pk=job.pk)
    mapping = _posted_mapping(job, request.POST)
    if action == "start":
        try:
            import_job_enqueue(job=job, by=request.user, mapping=mapping)
        except ImportRefused as refused:
            return _render_job(
                request, job, editing=True, mapping=mapping, mapping_error=str(refused)
            )
        return redirect("ingestion:import_job", pk=job.pk)
    # "Update preview": read the rows again with the chosen columns and check the whole file
    # with them; nothing is saved.
    _check(job, request.user, mapping)
    return _render_job(request, job, editing=True, mapping=mapping)


def _check(job: ImportJob, by, mapping: dict[str, str] | None) -> None:
    """Queue the whole-file check; a mapping that cannot work is explained by the page itself."""
    try:
        import_job_check_enqueue(job=job, by=by, mapping=mapping)
    except ImportRefused:
        pass


def _posted_mapping(job: ImportJob, data: QueryDict) -> dict[str, str]:
    # Columns are posted by position: headers are free text and may repeat a field's name.
    return {
        header: data.get(f"map-{index}", "") or IGNORE for index, header in enumerate(job.headers)
    }


def _render_job(
    request,
    job: ImportJob,
    *,
    editing: bool,
    mapping: dict[str, str] | None = None,
    mapping_error: str = "",
):
    run = job.run
    context = {
        "job": _with_status(job),
        "run": run,
        "busy": _busy(job),
        "editing": editing,
        "encoding": ENCODING_NAMES.get(job.encoding, job.encoding),
        "delimiter": DELIMITER_NAMES.get(job.delimiter, repr(job.delimiter)),
        "mapping_error": mapping_error,
        "used_mapping": [(header, _field_label(field)) for header, field in job.mapping.items()],
    }
    if editing:
        context.update(_mapping_context(job, mapping))
    if job.has_result:
        context["rejects"] = job.rejects[:SHOWN_REJECTS]
        context["shown_rejects"] = SHOWN_REJECTS
    return render(request, "accounts/import_job.html", context)


def _mapping_context(job: ImportJob, mapping: dict[str, str] | None) -> dict:
    chosen = job.mapping if mapping is None else mapping
    try:
        preview = import_job_preview(job=job, rows=PREVIEW_ROWS, mapping=chosen)
    except ImportRefused as refused:
        return {"preview_error": str(refused)}
    fields = list(FIELDS[job.kind])
    mapped = preview.mapping
    columns = []
    for index, header in enumerate(preview.headers):
        samples: list[str] = []
        for row in preview.rows:
            cell = row["cells"][index].strip() if index < len(row["cells"]) else ""
            if cell and cell not in samples:
                samples.append(cell)
            if len(samples) == SAMPLE_VALUES:
                break
        columns.append(
            {
                "index": index,
                "header": header,
                "field": mapped.get(header, ""),
                "samples": samples,
            }
        )
    check = job.check_run
    if check is not None and check.params.get("mapping") != mapped:
        check = None  # checked with other columns: "Update preview" checks these
    checked = check is not None and check.status == RunStatus.DONE
    rows = preview.rows
    if checked:
        # The check ran the run's rules on every row: its reasons are the ones that count.
        reasons = {reject["line"]: reject["reason"] for reject in check.result["rejects"]}
        rows = [{**row, "errors": reasons.get(row["line"], "")} for row in rows]
    return {
        "columns": columns,
        "choices": [(field, _field_label(field)) for field in fields],
        "missing": preview.missing,
        "needed": missing_columns(job.kind, {}),
        "preview_rows": [_preview_row(row, preview.headers, mapped) for row in rows],
        "preview_problems": sum(1 for row in rows if row["errors"]),
        "preview_headers": [(header, header in mapped) for header in preview.headers],
        "check": check,
        "checked": check.result if checked else None,
    }


def _preview_row(row: dict, headers: list[str], mapped: dict[str, str]) -> dict:
    """The row's cells, each with the problem found in it (a row-wide problem marks no cell)."""
    problems: dict[int, str] = {}
    for problem in filter(None, row["errors"].split("; ")):
        # Reasons start with the column's header ("Annual Revenue '£x' ...", "unknown Tier ...").
        header = next(
            (
                h
                for h in sorted(mapped, key=len, reverse=True)
                if problem.removeprefix("unknown ").startswith(h + " ")
            ),
            None,
        )
        if header is not None:
            index = headers.index(header)
            problems[index] = f"{problems[index]}; {problem}" if index in problems else problem
    cells = row["cells"]
    return {
        "line": row["line"],
        "errors": row["errors"],
        "cells": [
            {
                "value": cells[i] if i < len(cells) else "",
                "problem": problems.get(i, ""),
                "mapped": headers[i] in mapped,
            }
            for i in range(len(headers))
        ],
    }


@role_required(*IMPORT_ROLES)
@require_GET
def import_job_rejects(request, pk: int):
    """The rejected rows as the engine wrote them: line, reason, the cells (formulas escaped)."""
    job = get_object_or_404(ImportJob.objects.defer("rejects"), pk=pk)
    path = import_job_rejects_file(job)
    if path is None or not path.is_file():
        raise Http404("This import rejected no rows.")
    stem = re.sub(r"[^\w.-]+", "-", Path(job.original_name).stem).strip("-.") or f"import-{job.pk}"
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{stem}-rejects.csv",
        content_type="text/csv; charset=utf-8",
    )


def import_progress(run) -> Progress:
    """An import's progress partial, or its whole-file check's; the page reloads when either
    finishes, for the counts, rejected rows and checked mapping the partial does not hold."""
    if run.params.get("check"):
        return Progress(
            "accounts/_import_check.html",
            {"check": run, "checked": None},
            reload_when_finished=True,
        )
    job = ImportJob.objects.filter(run=run).first()
    return Progress(
        "accounts/import_progress.html", {"run": run, "job": job}, reload_when_finished=True
    )
