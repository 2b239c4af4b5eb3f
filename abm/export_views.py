"""A large export's progress page and its download, for the user who asked and nobody else."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from abm.exports import EXPORTS, export_file, exports_of
from abm.job_progress import Progress


@login_required
def export_job(request, pk: int):
    run = get_object_or_404(exports_of(request.user), pk=pk)
    return render(request, "accounts/export_job.html", export_progress_context(run))


def export_progress(run) -> Progress:
    return Progress("accounts/_export_progress.html", export_progress_context(run))


def export_progress_context(run) -> dict:
    """What the export page and its progress partial (accounts/_export_progress.html) show."""
    return {
        "run": run,
        "expired": run.status == "done" and export_file(run) is None,
        "back_url": _back_url(run.params),
        "what": _what(run.params),
        "inline_max": settings.ABM_EXPORT_INLINE_MAX_ROWS,
        "max_age_hours": settings.ABM_EXPORT_MAX_AGE_HOURS,
    }


@login_required
def export_download(request, pk: int):
    run = get_object_or_404(exports_of(request.user), pk=pk)
    path = export_file(run)
    if path is None:
        raise Http404("This export is not ready, or it has expired.")
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=run.result.get("filename") or "export.csv",
        content_type="text/csv; charset=utf-8",
    )
    response["Cache-Control"] = "no-store"
    return response


def _what(params: dict) -> str:
    export = EXPORTS.get(params.get("export"))
    return export.what if export else params.get("export", "the")


def _back_url(params: dict) -> str:
    if params.get("account"):
        return reverse("accounts:detail", args=[params["account"]])
    export = EXPORTS.get(params.get("export"))
    url = reverse(export.back if export else "accounts:list")
    return f"{url}?{params['query']}" if params.get("query") else url
