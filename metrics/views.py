from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from abm.lib.permissions import role_required
from metrics.engine.runner import recompute_enqueue
from metrics.figures_status import RECOMPUTE_ROLES, figures_status


@require_POST
@role_required(*RECOMPUTE_ROLES)
def recompute(request):
    """ "Recompute now": the full recompute as a background job, followed by #metrics-status."""
    recompute_enqueue(by=request.user)
    if request.headers.get("HX-Request"):
        # The line says "Queued" and starts polling; with eager tasks (tests) the run is already
        # over and the page reloads at once.
        return _status_response(request)
    messages.info(request, "Metrics are being recomputed; the figures update when it is done.")
    return redirect("dashboards:dashboards")


@login_required
def status(request):
    """#metrics-status, polled every 2 s while a run is pending; reloads the page once it ends."""
    return _status_response(request)


def _status_response(request):
    figures = figures_status(request.user)
    response = render(request, "metrics/_figures_status.html", {"figures": figures})
    if figures.pending is None:
        response["HX-Refresh"] = "true"
    response["Cache-Control"] = "no-store"
    return response
