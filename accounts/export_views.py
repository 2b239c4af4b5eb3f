"""A large export's progress page and its download, for the user who asked and nobody else."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from accounts.export_jobs import export_file, exports_of


@login_required
def export_job(request, pk: int):
    run = get_object_or_404(exports_of(request.user), pk=pk)
    return render(request, "accounts/export_job.html", export_progress_context(run))


def export_progress_context(run) -> dict:
    """What the export page and its progress partial (accounts/_export_progress.html) show."""
    return {
        "run": run,
        "expired": run.status == "done" and export_file(run) is None,
        "back_url": _back_url(run.params),
        "what": _WHAT.get(run.params.get("export"), run.params.get("export", "the")),
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


_WHAT = {"activity_list": "activities", "opportunity_list": "opportunities", "lead_list": "leads"}
# export name -> the list it was started from
_LISTS = {
    "activity_list": "accounts:activities",
    "opportunity_list": "accounts:opportunities",
    "lead_list": "accounts:leads",
}


def _back_url(params: dict) -> str:
    if params.get("account"):
        return reverse("accounts:detail", args=[params["account"]])
    url = reverse(_LISTS.get(params.get("export"), "accounts:list"))
    return f"{url}?{params['query']}" if params.get("query") else url
