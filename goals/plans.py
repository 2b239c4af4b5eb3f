"""Saved reverse-funnel plans (issue #18): who may see and save them, and the one save service.

Scoping rule (plans_visible_to): marketers, directors and admins see every plan; a sales rep sees
none. A plan's figures (rates, pool, gap, budget) are sums over every target account of its tiers
and playbook, and a plan is never scoped to one rep's accounts, so no plan rests only on accounts
a rep may see: showing them one would reveal other reps' accounts in aggregate. A rep asking for a
plan gets a 404, as for any object outside their scope.

Directors and admins save plans and make goals from them; marketers read them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet

from abm.lib.permissions import user_role
from abm.models import Role
from goals.models import Plan, PlanKind

PLANNERS = (Role.DIRECTOR, Role.ADMIN)


def plans_visible_to(user) -> QuerySet[Plan]:
    if not user.is_authenticated or not user.sees_everything:
        return Plan.objects.none()
    return Plan.objects.all()


def can_read_plans(user) -> bool:
    return user.is_authenticated and user.sees_everything


def can_save_plans(user) -> bool:
    return user.is_authenticated and user_role(user) in PLANNERS


@transaction.atomic
def plan_save(
    *,
    by,
    name: str,
    target: Decimal,
    kind: str,
    start: dt.date,
    end: dt.date,
    tiers: list[int],
    playbook,
    model: str,
    result: dict,
) -> Plan:
    """Keep a computed plan with what it was asked and its assumptions, as it stands today.

    ``result`` is the plan as the API shows it (metrics/planning_output.py ``plan_json`` of
    ``preview_plan`` for ``by``): one format for the API, the pages and the saved snapshot."""
    if not can_save_plans(by):
        raise PermissionDenied
    if kind not in PlanKind.values:
        raise ValueError(f"kind must be revenue or pipeline, not {kind!r}")
    return Plan.objects.create(
        name=name.strip(),
        created_by=by,
        target=target,
        kind=kind,
        start_date=start,
        end_date=end,
        tiers=sorted({int(t) for t in tiers}),
        playbook=playbook,
        attribution_model=model,
        assumptions=result.get("assumptions") or {},
        result=result,
    )


def plan_save_asked(*, by, asked: dict, result: dict) -> Plan:
    """``plan_save`` with what was asked as the planner form and the API validate it: name,
    target, kind, start, end, tiers, playbook (optional) and model."""
    return plan_save(
        by=by,
        name=asked["name"],
        target=asked["target"],
        kind=asked["kind"],
        start=asked["start"],
        end=asked["end"],
        tiers=asked["tiers"],
        playbook=asked.get("playbook"),
        model=asked["model"],
        result=result,
    )
