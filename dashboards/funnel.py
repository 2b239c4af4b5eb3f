"""The director's funnel: target accounts that reached each journey stage during the period.

Read from the stage history (``JourneyStageChange``) with one grouped query, not from a rollup:
a step counts distinct accounts over the whole range, which monthly sums cannot give (an
account that reached mqa in March and again in May is one account). The history holds one row
per change, so the query reads the period's changes of the accounts in scope, through the
``changed_at`` index.

An account counts for a stage when it has a change into that stage or a later one inside the
period (``accounts.filtering.stages_at_or_beyond``): one that went from engaged straight to
opportunity passed mqa. The account list's ``reached`` filter (``accounts.filtering.reached_q``)
is the same set, so a step's drill-down lists exactly the accounts it counts.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db import connection
from django.db.models import Case, Max, When

from accounts.filtering import ENROLLED_STATUSES
from accounts.list_filters import day_start
from accounts.models import JourneyStage
from accounts.visibility import accounts_visible_to
from dashboards.filters import NON_TARGET, TARGETS, DashboardFilters
from metrics.models import JourneyStageChange

STAGES = tuple(JourneyStage.values)


def funnel_accounts(user, filters: DashboardFilters):
    """Target accounts the user sees under the tier, owner and playbook filters (current tier,
    owner and enrolment); None under the non-target filter (a funnel of targets)."""
    if filters.tier == NON_TARGET:
        return None
    accounts = accounts_visible_to(user).filter(tier__isnull=False)
    if filters.tier not in ("", TARGETS):
        accounts = accounts.filter(tier=int(filters.tier))
    if filters.owner is not None:
        accounts = accounts.filter(owner_id=filters.owner)
    if filters.playbook is not None:
        accounts = accounts.filter(
            enrolments__playbook_id=filters.playbook, enrolments__status__in=ENROLLED_STATUSES
        )
    return accounts


def funnel_reached(user, filters: DashboardFilters) -> dict[str, int]:
    """Accounts that reached each stage (or beyond) on the UTC days of the period: one query."""
    accounts = funnel_accounts(user, filters)
    if accounts is None:
        return dict.fromkeys(STAGES, 0)
    changes = JourneyStageChange.objects.filter(
        account__in=accounts.values("pk"),
        changed_at__gte=day_start(filters.first_day),
        changed_at__lt=day_start(filters.last_day + dt.timedelta(days=1)),
    )
    # Each account's furthest stage inside the period, then how many reached each stage or
    # beyond: one hash aggregate, where a distinct count per stage sorted the rows six times.
    # The accounts per furthest stage are counted there too: six rows come back, not one per
    # account.
    rank = Case(*(When(to_stage=stage, then=n) for n, stage in enumerate(STAGES)))
    furthest = changes.values("account_id").annotate(top=Max(rank)).order_by().values("top")
    sql, params = furthest.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "top", COUNT(*) FROM ({sql}) AS furthest GROUP BY "top"', params)
        counts = dict(cursor.fetchall())
    tops = np.array([counts.get(n, 0) for n in range(len(STAGES))], dtype=np.int64)
    reached = np.cumsum(tops[::-1])[::-1]
    return {stage: int(reached[n]) for n, stage in enumerate(STAGES)}
