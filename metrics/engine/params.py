"""Every setting the metrics computation needs, read once per run.

``EngineParams.from_settings(settings)`` is the one place that reads ``settings.ABM_*`` for the
engine; the loaders, the pure compute modules and the writer take the params instead, so the
computation can run (and be tested) with no Django at all. This module imports no Django: the
caller passes its settings object (``django.conf.settings`` in the runner).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class EngineParams:
    # Engagement score (DOMAIN.md "Engagement score").
    engagement_points: Mapping[str, float]
    seniority_multipliers: Mapping[str | None, float]
    engagement_window_days: int = 90
    engagement_half_life_days: float = 30.0
    daily_points_cap: float = 20.0
    spike_ratio: float = 2.0
    spike_min_points: float = 10.0
    # Journey stages.
    engaged_score: float = 10.0
    mqa_score: float = 50.0
    mqa_min_engaged_contacts: int = 2
    # Attribution.
    attribution_window_days: int = 180
    time_decay_half_life_days: float = 7.0
    # Lift, leads and the rollups' months.
    lift_min_group: int = 30
    lift_period_days: int = 365
    lift_resamples: int = 2000
    lift_seed: int = 20260101
    follow_up_sla_hours: float = 48
    lead_conversion_days: int = 90
    rollup_months: int = 24

    def __post_init__(self) -> None:
        # Frozen all the way down: a run's rules cannot change halfway through it.
        for name in ("engagement_points", "seniority_multipliers"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @classmethod
    def from_settings(cls, settings: Any) -> EngineParams:
        """The params of a run, from Django's settings (``django.conf.settings``)."""
        return cls(
            engagement_points=settings.ABM_ENGAGEMENT_POINTS,
            seniority_multipliers=settings.ABM_SENIORITY_MULTIPLIERS,
            engagement_window_days=settings.ABM_ENGAGEMENT_WINDOW_DAYS,
            engagement_half_life_days=settings.ABM_ENGAGEMENT_HALF_LIFE_DAYS,
            daily_points_cap=settings.ABM_DAILY_POINTS_CAP,
            spike_ratio=settings.ABM_SPIKE_RATIO,
            spike_min_points=settings.ABM_SPIKE_MIN_POINTS,
            engaged_score=settings.ABM_ENGAGED_SCORE,
            mqa_score=settings.ABM_MQA_SCORE,
            mqa_min_engaged_contacts=settings.ABM_MQA_MIN_ENGAGED_CONTACTS,
            attribution_window_days=settings.ABM_ATTRIBUTION_WINDOW_DAYS,
            time_decay_half_life_days=settings.ABM_TIME_DECAY_HALF_LIFE_DAYS,
            lift_min_group=settings.ABM_LIFT_MIN_GROUP,
            lift_period_days=settings.ABM_LIFT_PERIOD_DAYS,
            lift_resamples=settings.ABM_LIFT_RESAMPLES,
            lift_seed=settings.ABM_LIFT_SEED,
            follow_up_sla_hours=settings.ABM_FOLLOW_UP_SLA_HOURS,
            lead_conversion_days=settings.ABM_LEAD_CONVERSION_DAYS,
            rollup_months=settings.ABM_ROLLUP_MONTHS,
        )

    def engagement_kwargs(self) -> dict:
        """The keyword arguments ``metrics.engagement.score_history`` takes."""
        return {
            "points": self.engagement_points,
            "seniority_multipliers": self.seniority_multipliers,
            "window_days": self.engagement_window_days,
            "half_life_days": self.engagement_half_life_days,
            "daily_cap": self.daily_points_cap,
        }

    def scoring_kwargs(self) -> dict:
        """The keyword arguments ``metrics.engagement.score_accounts`` takes: the spike too."""
        return {
            **self.engagement_kwargs(),
            "spike_ratio": self.spike_ratio,
            "spike_min_points": self.spike_min_points,
        }
