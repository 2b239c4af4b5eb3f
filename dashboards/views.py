"""The three dashboards. Each reads stored results only; filters live in the URL."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from abm.lib.permissions import role_required
from abm.models import Role
from dashboards.director import director_page_context
from dashboards.filters import filter_choices, filter_form, parse_filters, rollup_horizon
from dashboards.marketer import marketer_context
from dashboards.plan_actual import plan_vs_actual
from dashboards.sales import sales_context
from dashboards.support import export_response, run_context
from metrics.touch_rule_store import touch_rule_line

DIRECTOR_ROLES = (Role.DIRECTOR, Role.MARKETER, Role.ADMIN)
HOME_BY_ROLE = {
    Role.DIRECTOR: "dashboards:director",
    Role.MARKETER: "dashboards:marketer",
    Role.SALES: "dashboards:sales",
    Role.ADMIN: "dashboards:director",
}


@login_required
def dashboard_home(request):
    """/metrics/ opens the dashboard made for the user's role, keeping any filters."""
    role = Role.ADMIN if request.user.is_superuser else request.user.role
    target = HOME_BY_ROLE.get(role, "dashboards:sales")
    query = request.GET.urlencode()
    return redirect(f"{_reverse(target)}{'?' + query if query else ''}")


@role_required(*DIRECTOR_ROLES)
def director(request):
    plan = plan_vs_actual(request.user, plan_id=request.GET.get("plan"), now=timezone.now())
    return _dashboard(
        request,
        director_page_context,
        "dashboards/director.html",
        export_prefix="roi",
        extra={"plan_actual": plan},
    )


@role_required(*DIRECTOR_ROLES)
def marketer(request):
    return _dashboard(
        request, marketer_context, "dashboards/marketer.html", export_prefix="playbooks"
    )


@login_required
def sales(request):
    return _dashboard(request, sales_context, "dashboards/sales.html", export_prefix="sales")


def _dashboard(request, build, template: str, *, export_prefix: str, extra: dict | None = None):
    """Filters from the URL, the figures, then a table's CSV (``?export=``) or the page."""
    # The filter bar's choices once for both forms (two queries a form).
    choices = filter_choices(request.user)
    filters = parse_filters(request.GET, user=request.user, choices=choices)
    context = build(request.user, filters)
    response = export_response(request, context["tables"], prefix=export_prefix)
    if response is not None:
        return response
    runs = run_context(request.user)
    return render(
        request,
        template,
        {
            **context,
            **runs,
            **_filter_context(request, filters, show_model=True, choices=choices),
            "touch_rule": touch_rule_line(request.user, runs["last_run"]),
            **(extra or {}),
        },
    )


def _filter_context(request, filters, *, show_model: bool, choices=None) -> dict:
    return {
        "filters": filters,
        "form": filter_form(filters, user=request.user, choices=choices),
        "show_model": show_model,
        "horizon": rollup_horizon(timezone.now().date()),
        "dashboards": _tabs(request),
    }


def _tabs(request) -> list[dict]:
    """The dashboards this user may open, for the tab strip."""
    user = request.user
    tabs = []
    if user.sees_everything:
        tabs.append(("ROI (director)", "dashboards:director"))
        tabs.append(("Playbooks (marketer)", "dashboards:marketer"))
    tabs.append(("Sales" if user.sees_everything else "My accounts", "dashboards:sales"))
    name = request.resolver_match.view_name if request.resolver_match else ""
    return [{"label": label, "url": _reverse(url), "active": url == name} for label, url in tabs]


def _reverse(name: str) -> str:
    return reverse(name)
