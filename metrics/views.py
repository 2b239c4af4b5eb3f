from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, Sum
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from abm.lib.permissions import role_required
from abm.models import Role
from accounts.models import CLOSED_STAGES, JourneyStage, OpportunityStage
from accounts.visibility import accounts_visible_to, opportunities_visible_to
from metrics.models import MONEY_METRICS, RATE_METRICS, RunKind, RunStatus
from metrics.visibility import goals_visible_to, metric_runs_visible_to

WON_REVENUE_DAYS = 365


@login_required
def goal_list(request):
    goals = list(
        goals_visible_to(request.user).select_related("owner", "scope_playbook", "scope_owner")
    )
    for goal in goals:
        goal.progress = _progress_percent(goal.current_value, goal.target)
    return render(
        request,
        "metrics/goals.html",
        {"goals": goals, "money_metrics": MONEY_METRICS, "rate_metrics": RATE_METRICS},
    )


def _progress_percent(current, target) -> float | None:
    if current is None or not target:
        return None
    return max(0.0, min(100.0, float(current) / float(target) * 100))


@login_required
def dashboard(request):
    """First overview: reads only stored rows, in three queries whatever the data size."""
    user = request.user
    since = timezone.now() - timedelta(days=WON_REVENUE_DAYS)
    targets = Q(tier__isnull=False)
    account_counts = accounts_visible_to(user).aggregate(
        total=Count("pk"),
        targets=Count("pk", filter=targets),
        **{
            f"stage_{stage}": Count("pk", filter=targets & Q(stage=stage))
            for stage in JourneyStage.values
        },
    )
    money = opportunities_visible_to(user).aggregate(
        open_pipeline=Sum("amount", filter=~Q(stage__in=CLOSED_STAGES)),
        open_count=Count("pk", filter=~Q(stage__in=CLOSED_STAGES)),
        won_revenue=Sum(
            "amount", filter=Q(stage=OpportunityStage.CLOSED_WON, closed_at__gte=since)
        ),
        won_count=Count("pk", filter=Q(stage=OpportunityStage.CLOSED_WON, closed_at__gte=since)),
    )
    last_run = (
        metric_runs_visible_to(user)
        .filter(status=RunStatus.DONE, kind__in=[RunKind.FULL, RunKind.INCREMENTAL])
        .exclude(finished_at=None)
        .order_by("-finished_at")
        .first()
    )
    # The newest run still under way (or the one just requested) shows as a progress bar.
    current_run = (
        metric_runs_visible_to(user)
        .filter(kind__in=[RunKind.FULL, RunKind.INCREMENTAL])
        .filter(
            Q(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]) | Q(pk=_int(request.GET.get("run")))
        )
        .order_by("-created_at")
        .first()
    )
    targets_total = account_counts["targets"]
    funnel = [
        {
            "stage": stage,
            "label": label,
            "count": account_counts[f"stage_{stage}"],
            "share": account_counts[f"stage_{stage}"] / targets_total * 100 if targets_total else 0,
        }
        for stage, label in JourneyStage.choices
    ]
    unstaged = targets_total - sum(row["count"] for row in funnel)
    return render(
        request,
        "metrics/dashboards.html",
        {
            "scoped": not user.sees_everything,
            "accounts_total": account_counts["total"],
            "targets_total": targets_total,
            "funnel": funnel,
            "unstaged": unstaged,
            "customers": account_counts[f"stage_{JourneyStage.CUSTOMER}"],
            "money": money,
            "won_days": WON_REVENUE_DAYS,
            "last_run": last_run,
            "current_run": current_run,
            "can_recompute": user.role in RECOMPUTE_ROLES or user.is_superuser,
        },
    )


RECOMPUTE_ROLES = (Role.MARKETER, Role.DIRECTOR, Role.ADMIN)


@require_POST
@role_required(*RECOMPUTE_ROLES)
def recompute(request):
    """ "Recompute now": the full recompute as a background job with a progress bar."""
    from metrics.recompute import recompute_enqueue

    run = recompute_enqueue(by=request.user)
    messages.info(request, "Metrics are being recomputed; the figures update when it is done.")
    return redirect(f"{reverse('metrics:dashboards')}?run={run.pk}")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
