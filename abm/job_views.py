from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from abm.job_progress import progress_of
from abm.models import RunStatus
from abm.visibility import jobs_visible_to


@login_required
def run_status(request, pk: int):
    """A background job's progress partial, polled by htmx every second while the job runs."""
    run = get_object_or_404(jobs_visible_to(request.user).select_related("requested_by"), pk=pk)
    progress = progress_of(run)
    response = render(request, progress.template, progress.context)
    if progress.reload_when_finished and run.status in (RunStatus.DONE, RunStatus.FAILED):
        response["HX-Refresh"] = "true"
    response["Cache-Control"] = "no-store"
    return response
