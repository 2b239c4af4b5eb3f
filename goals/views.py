"""Goal pages: the list, the form with its live SMART check, the detail with its burn-up chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from itertools import groupby

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from abm.visibility import users_visible_to
from accounts.visibility import accounts_visible_to
from goals.access import can_edit_goal, can_set_goals, goal_teams_for, goals_editable_by
from goals.charts import burn_up_figure
from goals.choices import GoalMetric, GoalTeam
from goals.forms import GoalForm, MilestoneFormSet, milestone_initial, unit_scale
from goals.models import Goal
from goals.progress import (
    ADDITIVE_METRICS,
    Scope,
    children_total,
    expected_curve,
    format_value,
    previous_period,
    value_unit,
)
from goals.smart import (
    ERROR,
    OK,
    PENDING,
    RULES,
    describe_scope,
    period_label,
    smart_check,
)
from goals.tracking import goal_delete, goal_save, goal_series, measure_record
from goals.visibility import goal_as_seen_by, goals_visible_to
from playbooks.visibility import playbooks_visible_to

_RELATED = ("owner", "scope_playbook", "scope_owner", "parent")
HIDDEN_ATTAINABLE = (
    "Weighed against the baseline over accounts beyond yours: marketers and directors see it."
)


def _visible_goal(user, pk: int) -> Goal:
    return get_object_or_404(goals_visible_to(user).select_related(*_RELATED), pk=pk)


def _person(user) -> str | None:
    return (user.get_full_name() or user.username) if user else None


def _scope_label(goal: Goal) -> str:
    return describe_scope(
        goal.scope_tiers,
        goal.scope_playbook.name if goal.scope_playbook else None,
        _person(goal.scope_owner),
    )


def _percent_of_target(goal: Goal) -> int | None:
    if goal.current_value is None or not goal.target:
        return None
    return round(max(0.0, min(100.0, float(goal.current_value) / float(goal.target) * 100)))


# --- List ---------------------------------------------------------------------------------------


@login_required
def goal_list(request):
    """Every visible goal, grouped by team and then by period, in one query."""
    user = request.user
    goals = [
        goal_as_seen_by(goal, user)
        for goal in goals_visible_to(user)
        .select_related(*_RELATED)
        .order_by("team", "-start_date", "end_date", "name", "pk")
    ]
    teams = goal_teams_for(user)
    for goal in goals:
        goal.progress = _percent_of_target(goal)
        goal.scope_label = _scope_label(goal)
        goal.period_label = period_label(goal.start_date, goal.end_date)
        goal.editable = goal.team in teams
    team_labels = dict(GoalTeam.choices)
    groups = [
        {
            "team": team_labels.get(team, team),
            "count": len(team_goals),
            "periods": [
                {"label": label, "goals": list(period_goals)}
                for label, period_goals in groupby(team_goals, key=lambda g: g.period_label)
            ],
        }
        for team, team_goals in ((t, list(g)) for t, g in groupby(goals, key=lambda g: g.team))
    ]
    return render(
        request,
        "goals/goal_list.html",
        {"goals": goals, "groups": groups, "can_create": bool(teams)},
    )


# --- Detail -------------------------------------------------------------------------------------


@login_required
def goal_detail(request, pk: int):
    user = request.user
    goal = goal_as_seen_by(_visible_goal(user, pk), user)
    now = timezone.now()
    milestones = list(goal.milestones.all())
    children = [
        goal_as_seen_by(child, user)
        for child in goals_visible_to(user)
        .filter(parent=goal)
        .select_related("owner", "scope_playbook")
    ]
    for child in children:
        child.progress = _percent_of_target(child)
        child.scope_label = _scope_label(child)
    # Parts add up only where they measure what the goal does: a revenue goal's opportunity and
    # mqa children (a plan's) are its leading indicators, not its parts.
    parts = [child for child in children if child.metric == goal.metric]
    total = children_total(goal.metric, [float(child.target) for child in parts]) if parts else None
    times, values = expected_curve(
        metric=goal.metric,
        baseline=None if goal.baseline is None else float(goal.baseline),
        target=float(goal.target),
        start=goal.start_date,
        end=goal.end_date,
        milestones=[(m.date, float(m.value)) for m in milestones],
    )
    # No chart of a goal whose figures are hidden: its line is the sum they may not read.
    figure = (
        None
        if goal.figures_hidden
        else burn_up_figure(
            metric=goal.metric,
            actual=goal_series(goal=goal, now=now),
            expected_times=times,
            expected_values=values,
            target=float(goal.target),
            start=goal.start_date,
            end=goal.end_date,
            milestones=[(m.date, float(m.value)) for m in milestones],
        )
    )
    prev_start, prev_end = previous_period(goal.start_date, goal.end_date)
    return render(
        request,
        "goals/goal_detail.html",
        {
            "goal": goal,
            "scope_label": _scope_label(goal),
            "period_label": period_label(goal.start_date, goal.end_date),
            "progress": _percent_of_target(goal),
            "milestones": [
                {"date": m.date, "value": format_value(m.value, goal.metric)} for m in milestones
            ],
            "children": children,
            "children_total": None if total is None else format_value(total, goal.metric),
            "children_gap": None
            if total is None
            else format_value(abs(float(goal.target) - total), goal.metric),
            "children_add_up": total is not None and abs(float(goal.target) - total) < 0.005,
            "children_over": total is not None and total > float(goal.target) + 0.005,
            "additive": total is not None,
            "metric_adds_up": goal.metric in ADDITIVE_METRICS,
            "playbooks": playbooks_visible_to(user).filter(goal=goal).order_by("name"),
            "figure": figure,
            "baseline_period": period_label(prev_start, prev_end),
            "checks": _stored_checks(goal),
            "can_edit": can_edit_goal(user, goal),
            "fmt": {
                "target": format_value(goal.target, goal.metric),
                "current": format_value(goal.current_value, goal.metric),
                "expected": format_value(goal.expected_value, goal.metric),
                "baseline": format_value(goal.baseline, goal.metric),
            },
        },
    )


def _stored_checks(goal: Goal):
    checks = smart_check(
        name=goal.name,
        metric=goal.metric,
        target=float(goal.target),
        has_owner=True,
        tiers=tuple(goal.scope_tiers or ()),
        playbook=goal.scope_playbook.name if goal.scope_playbook else None,
        scope_owner=_person(goal.scope_owner),
        start=goal.start_date,
        end=goal.end_date,
        baseline=None if goal.baseline is None else float(goal.baseline),
        pace_limit=settings.ABM_GOAL_ATTAINABLE_PACE,
        today=None,  # its dates were checked when they were set; an ended goal is a report
    )
    if not getattr(goal, "figures_hidden", False):  # set by goal_as_seen_by
        return checks
    # Attainable weighs the target against the baseline, a figure this reader may not see.
    return [
        replace(check, level=PENDING, message=HIDDEN_ATTAINABLE, field=None)
        if check.rule == "attainable"
        else check
        for check in checks
    ]


# --- Create, edit, split, delete -----------------------------------------------------------------


@login_required
def goal_create(request):
    if not can_set_goals(request.user):
        raise PermissionDenied
    # "Set a goal" from a playbook's page starts scoped to that playbook.
    playbook = request.GET.get("scope_playbook", "")
    initial = {"scope_playbook": int(playbook)} if playbook.isdigit() else {}
    return _goal_form_page(request, goal=Goal(), parent=None, initial=initial)


@login_required
def goal_create_part(request, pk: int):
    """Break a goal down: a child goal on part of its scope (a playbook, a tier, a rep)."""
    parent = _visible_goal(request.user, pk)
    if not can_edit_goal(request.user, parent):
        raise PermissionDenied
    return _goal_form_page(request, goal=Goal(parent=parent), parent=parent)


@login_required
def goal_edit(request, pk: int):
    goal = _visible_goal(request.user, pk)
    if not can_edit_goal(request.user, goal):
        raise PermissionDenied
    return _goal_form_page(request, goal=goal, parent=goal.parent)


def _goal_form_page(request, *, goal: Goal, parent: Goal | None, initial: dict | None = None):
    user = request.user
    data = request.POST if request.method == "POST" else None
    form = GoalForm(data, instance=goal, user=user, parent=parent, initial=initial)
    formset = MilestoneFormSet(
        data, initial=milestone_initial(goal) if goal.pk else None, prefix="milestones"
    )
    if data is not None:
        form_ok = form.is_valid()
        formset.goal_data = form.cleaned_data if form_ok else None
        if form_ok and formset.is_valid():
            creating = goal.pk is None
            goal = goal_save(goal=form.save(commit=False), milestones=formset.milestones(), by=user)
            messages.success(
                request,
                f"“{goal.name}” {'created' if creating else 'saved'}; progress is measured.",
            )
            for check in form.warnings():
                messages.warning(request, f"{check.label}: {check.message}")
            return redirect("goals:goal_detail", pk=goal.pk)
    return render(
        request,
        "goals/goal_form.html",
        {
            "form": form,
            "formset": formset,
            "goal": goal,
            "parent": parent,
            "rules": RULES,
            "units": {metric: value_unit(metric) for metric in GoalMetric.values},
        },
    )


@login_required
def goal_delete_view(request, pk: int):
    goal = get_object_or_404(goals_editable_by(request.user).select_related(*_RELATED), pk=pk)
    if request.method == "POST":
        name = goal.name
        goal_delete(goal=goal, by=request.user)
        messages.success(request, f"“{name}” deleted.")
        return redirect("goals:goals")
    return render(
        request,
        "goals/goal_delete.html",
        {"goal": goal, "children": goal.children.count(), "playbooks": goal.playbooks.count()},
    )


# --- The live SMART check -----------------------------------------------------------------------


class BadParameter(ValueError):
    pass


@login_required
@require_GET
def goal_check(request):
    """The SMART check and the previous period's baseline for what the form holds so far.

    Missing values are failing checks (200); malformed ones are a 400 naming the parameter.
    The baseline counts only the accounts the user may see.
    """
    user = request.user
    try:
        params = _check_params(request.GET, user)
    except BadParameter as error:
        return JsonResponse({"error": str(error)}, status=400)
    metric, start, end = params["metric"], params["start"], params["end"]
    known = metric in GoalMetric.values
    scope = Scope(
        tiers=params["tiers"],
        playbook_id=params["playbook"].pk if params["playbook"] else None,
        owner_id=params["scope_owner"].pk if params["scope_owner"] else None,
    )
    record = None
    dates_ok = start is not None and end is not None and start < end
    if known and dates_ok:
        record = measure_record(
            metric=metric,
            scope=scope,
            start=start,
            end=end,
            accounts=None if user.sees_everything else accounts_visible_to(user),
        )
    baseline = None if record is None else record.baseline
    target = params["target"]
    if target is not None:
        target = float(target / unit_scale(metric))
    checks = smart_check(
        name=params["name"],
        metric=metric or None,
        target=target,
        has_owner=params["has_owner"],
        tiers=scope.tiers,
        playbook=params["playbook"].name if params["playbook"] else None,
        scope_owner=_person(params["scope_owner"]),
        start=start,
        end=end,
        baseline=baseline,
        record=record,
        pace_limit=settings.ABM_GOAL_ATTAINABLE_PACE,
        today=_today_unless_kept(params["goal"], start, end),
    )
    previous = previous_period(start, end) if dates_ok else None
    return JsonResponse(
        {
            "checks": [check.as_dict() for check in checks],
            "smart": all(check.level == OK for check in checks),
            "errors": sum(check.level == ERROR for check in checks),
            "baseline": baseline,
            "baseline_display": format_value(baseline, metric) if known else None,
            "previous_period": None
            if previous is None
            else {
                "start": previous[0].isoformat(),
                "end": previous[1].isoformat(),
                "label": period_label(*previous),
            },
            "unit": value_unit(metric) if known else None,
            "best_on_record": None
            if record is None or record.best is None
            else {
                "value": record.best,
                "display": format_value(record.best, metric),
                "label": period_label(record.best_start, record.best_end),
                "periods": record.periods,
            },
        }
    )


def _today_unless_kept(goal: Goal | None, start, end) -> dt.date | None:
    """As the form does: an existing goal whose dates are unchanged is not checked against
    today (it may have ended and still be renamed)."""
    if goal is not None and (goal.start_date, goal.end_date) == (start, end):
        return None
    return timezone.now().date()


def _check_params(query, user) -> dict:
    metric = query.get("metric", "").strip()
    if len(metric) > 64:
        raise BadParameter("metric is too long")
    tiers = []
    for raw in query.getlist("scope_tiers"):
        if raw not in ("1", "2", "3"):
            raise BadParameter(f"scope_tiers must be 1, 2 or 3, not {raw[:20]!r}")
        tiers.append(int(raw))
    return {
        "name": query.get("name", "")[:200],
        "metric": metric,
        "target": _decimal_param(query, "target"),
        "tiers": tuple(sorted(set(tiers))),
        "playbook": _object_param(
            query, "scope_playbook", playbooks_visible_to(user).filter(is_starter=False)
        ),
        # Names only of the people the user works with: the check names the scope's rep.
        "scope_owner": _object_param(
            query, "scope_owner", users_visible_to(user).filter(is_active=True)
        ),
        "has_owner": _object_param(query, "owner", users_visible_to(user).filter(is_active=True))
        is not None,
        "start": _date_param(query, "start_date"),
        "end": _date_param(query, "end_date"),
        "goal": _object_param(query, "goal", goals_visible_to(user)),
    }


def _decimal_param(query, name: str) -> Decimal | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadParameter(f"{name} must be a number, not {raw[:20]!r}") from None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 12:
        raise BadParameter(f"{name} must be a finite number below 1,000,000,000,000")
    return value


def _date_param(query, name: str) -> dt.date | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(f"{name} must be a date as YYYY-MM-DD, not {raw[:20]!r}") from None


def _object_param(query, name: str, queryset):
    raw = query.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise BadParameter(f"{name} must be an id, not {raw[:20]!r}")
    found = queryset.filter(pk=int(raw)).first()
    if found is None:
        raise BadParameter(f"{name} {raw} does not exist or is not visible to you")
    return found
