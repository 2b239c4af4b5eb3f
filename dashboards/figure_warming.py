"""The director's figures built in the worker once a run is done, so that the first look after
a run reads them instead of building them in the request (110-210 ms of rollup reads and pandas
at 10 000 accounts, README Benchmarks).

A finished run (``abm.jobs.run_finished``) queues ``dashboards.warm_figures``; the task builds the
ROI dashboard's figures and their panels' HTML into the shared cache under the key every user
who may open it computes (dashboards/figure_cache.py): the default view first, then the views
one filter away from it (every other period, tier and attribution model: the first thing a
director changes; tiers and models only when the default view has figures, an empty workspace
has none to show), then the views opened lately (an owner's or a playbook's, a custom period).
Any other view is built on its first look. A separate task, not the run's receiver: the run's sender may still change what
the key stamps (a sharded finish forgets the change feed after marking the run done).
"""

from __future__ import annotations

import logging

from django.db.models import Q
from django.http import QueryDict

from abm.job_sending import BROKER_DOWN, task_named
from abm.models import EVERYTHING_ROLES, Job, RunKind, User
from dashboards.director import director_figures
from dashboards.figure_cache import cached_figures, looked_at
from dashboards.filters import DEFAULT_MODEL, DEFAULT_PRESET, PRESETS, TIER_CHOICES, parse_filters
from metrics.models import AttributionModel

log = logging.getLogger(__name__)

WARM_TASK = "dashboards.warm_figures"
# Runs after which the stored figures change.
_METRIC_RUNS = (RunKind.FULL, RunKind.INCREMENTAL)


def warm_after_run(sender, run: Job, **kwargs) -> None:
    """Receiver of ``run_finished``: queue the build after a metrics run. A broker that is down
    costs only the warm figures (the next look builds them), never the finished run."""
    if run.kind not in _METRIC_RUNS:
        return
    try:
        task_named(WARM_TASK).delay()
    except BROKER_DOWN as exc:
        log.warning("director figures not queued for building after run %s: %s", run.pk, exc)


def warm_director_figures() -> bool:
    """Build (or find) the figures of the views ``views_to_warm`` lists; False when nobody may
    open the dashboard. Any user who sees everything stands for them all (one key,
    figure_cache.py)."""
    user = (
        User.objects.filter(is_active=True)
        .filter(Q(role__in=EVERYTHING_ROLES) | Q(is_superuser=True))
        .order_by("pk")
        .first()
    )
    if user is None:
        return False
    default = cached_figures(director_figures, user, parse_filters(QueryDict(), user=user))
    built = set()
    # No figure in the default period: none under another tier or model either (~0.1 s each).
    for query in views_to_warm(same_period=default["has_data"])[1:]:
        filters = parse_filters(QueryDict(query), user=user)
        if filters not in built:
            built.add(filters)
            cached_figures(director_figures, user, filters)
    return True


def views_to_warm(*, same_period: bool = True) -> list[str]:
    """Query strings, the default view first: each other period, tier and model alone (tiers
    and models only if ``same_period``), then the views opened lately (figure_cache.looked_at)."""
    one_filter_away = [f"preset={p}" for p in PRESETS if p not in (DEFAULT_PRESET, "custom")]
    if same_period:
        one_filter_away += [f"tier={t}" for t, _ in TIER_CHOICES if t]
        one_filter_away += [f"model={m}" for m in AttributionModel.values if m != DEFAULT_MODEL]
    return ["", *one_filter_away, *looked_at()]
