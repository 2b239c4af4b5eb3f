"""Links from a dashboard figure to the records behind it, carrying the dashboard's filters.

The lists (dashboards/opportunity_views.py, ingestion/activity_views.py, the account list) use UTC
days; a dashboard range is whole UTC months, so the days are the range's first and last.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from urllib.parse import urlencode

from django.urls import get_script_prefix, get_urlconf, reverse

from dashboards.filters import NON_TARGET, TARGETS, DashboardFilters, add_months

# The spend list's ``playbook`` besides an id: outside any playbook, or on any playbook.
NO_PLAYBOOK, ANY_PLAYBOOK = "none", "any"


def opportunities_url(filters: DashboardFilters, *, kind: str = "pipeline", **params) -> str:
    """Opportunities created (pipeline) or closed (revenue) in the range, within the filters."""
    dates = "closed" if kind == "revenue" else "created"
    query = {
        f"{dates}_from": filters.first_day.isoformat(),
        f"{dates}_to": filters.last_day.isoformat(),
        "tier": filters.tier,
        "owner": filters.owner,
    }
    if kind == "revenue":
        query["stage"] = "won"
    # Credit-based figures list the deals credited (to their channel / playbook) under the
    # model, and the list sums that credit: a deal without touches has none to show.
    credited = params.pop("credited", True)
    if credited and filters.playbook is not None:
        params.setdefault("playbook", filters.playbook)
    if credited:
        query.update(model=filters.model, kind=kind)
    query.update(params)
    return _url("accounts:opportunities", query)


def spend_url(filters: DashboardFilters, **params) -> str:
    """The costs behind a spend figure (dashboards/spend_views.py): the dashboard's own filters, plus
    ``channel`` and ``playbook`` (an id, "none" outside playbooks, "any" for playbook work)."""
    query = filters.params(model="")
    query.update(params)
    return _url("dashboards:spend", query)


def leads_url(filters: DashboardFilters, *, month=None, **params) -> str:
    """Leads handed off in the range (or in one month of it), within the filters."""
    start = month or filters.first_day
    end = (add_months(month, 1) - dt.timedelta(days=1)) if month else filters.last_day
    query = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "tier": filters.tier,
        "owner": filters.owner,
    }
    query.update(params)
    return _url("accounts:leads", query)


def accounts_url(filters: DashboardFilters, **params) -> str:
    """The account list under the filters; the playbook filter means enrolled in it (not the
    holdout), as the list's ``playbook`` parameter does."""
    tier = {NON_TARGET: "untiered"}.get(filters.tier, filters.tier)
    query = {"tier": tier, "owner": filters.owner, "playbook": filters.playbook}
    return _url("accounts:list", {**query, **params})


def reached_accounts_url(filters: DashboardFilters, stage: str) -> str:
    """Target accounts that reached ``stage`` (or beyond) in the range: a funnel step's accounts
    (dashboards/funnel.py counts the same set). Under the non-target filter the funnel is empty."""
    if filters.tier == NON_TARGET:
        return ""
    query = {
        "tier": TARGETS if filters.tier in ("", TARGETS) else filters.tier,
        "owner": filters.owner,
        "playbook": filters.playbook,
        "reached": stage,
        "reached_from": filters.first_day.isoformat(),
        "reached_to": filters.last_day.isoformat(),
    }
    return _url("accounts:list", query)


def _url(name: str, query: dict) -> str:
    kept = {k: v for k, v in query.items() if v not in (None, "")}
    path = _path(name, get_script_prefix(), get_urlconf())
    return f"{path}?{urlencode(kept)}" if kept else path


@lru_cache(maxsize=64)
def _path(name: str, prefix: str, urlconf) -> str:
    """``reverse(name)`` once per prefix and urlconf: the director's page links ~200 figures
    (4 ms of reversing a request)."""
    return reverse(name, urlconf=urlconf)
