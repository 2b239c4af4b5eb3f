from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from abm.lib.permissions import role_required
from metrics.dashboard_support import RECOMPUTE_ROLES


@require_POST
@role_required(*RECOMPUTE_ROLES)
def recompute(request):
    """ "Recompute now": the full recompute as a background job with a progress bar."""
    from metrics.recompute import recompute_enqueue

    run = recompute_enqueue(by=request.user)
    messages.info(request, "Metrics are being recomputed; the figures update when it is done.")
    return redirect(f"{reverse('metrics:dashboards')}?run={run.pk}")
