"""Every figure the engine stores, as comparable rows: for runs that must agree to 1e-9."""

from __future__ import annotations

import math
from decimal import Decimal

from accounts.models import Account
from metrics.models import (
    AttributionCredit,
    EngagementHistory,
    EngagementScore,
    JourneyStageChange,
    MarkovCredit,
    MetricRollup,
    RemovalEffect,
)

_ROLLUP_KEY = ("metric", "period", "model", "kind", "channel", "playbook", "tier", "owner")


def stored_figures() -> dict[str, dict]:
    """Table -> {row key: stored values}; floats compare with ``assert_same_figures``."""
    return {
        "credits": {
            r[:5]: r[5:]
            for rows in (AttributionCredit.objects, MarkovCredit.objects)
            for r in rows.values_list(
                "model",
                "kind",
                "opportunity_id",
                "channel",
                "playbook_id",
                "account_id",
                "converted_at",
                "weight",
                "credit",
                "touches",
            )
        },
        "removal_effects": {
            (kind, channel): (effect,)
            for kind, channel, effect in RemovalEffect.objects.values_list(
                "kind", "channel", "effect"
            )
        },
        "rollups": {
            r[:9]: (r[9], r[10], _sorted_json(r[11]))
            for r in MetricRollup.objects.values_list(
                *_ROLLUP_KEY, "segment", "value", "count", "data"
            )
        },
        "scores": {
            r[0]: r[1:]
            for r in EngagementScore.objects.values_list(
                "account_id",
                "score",
                "engaged_contacts",
                "spike",
                "engaged_in_period",
                "by_channel",
                "top_activities",
            )
        },
        "history": {
            (a, d): (s,)
            for a, d, s in EngagementHistory.objects.values_list("account", "date", "score")
        },
        "stages": {
            pk: (stage, score, spike)
            for pk, stage, score, spike in Account.objects.values_list(
                "pk", "stage", "engagement_score", "spike"
            )
        },
        "stage_changes": {
            (a, at): (f, t)
            for a, at, f, t in JourneyStageChange.objects.values_list(
                "account", "changed_at", "from_stage", "to_stage"
            )
        },
    }


def assert_same_figures(left: dict, right: dict, *, tolerance: float = 1e-9) -> None:
    for table in left:
        assert left[table].keys() == right[table].keys(), f"{table}: different rows"
        for key, values in left[table].items():
            other = right[table][key]
            for a, b in zip(values, other, strict=True):
                if isinstance(a, float | Decimal) or isinstance(b, float | Decimal):
                    assert math.isclose(float(a), float(b), rel_tol=tolerance, abs_tol=tolerance), (
                        f"{table} {key}: {values} != {other}"
                    )
                else:
                    assert a == b, f"{table} {key}: {values} != {other}"


def _sorted_json(value):
    return repr(sorted(value.items())) if isinstance(value, dict) else repr(value)
