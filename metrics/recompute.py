"""The full recompute: engagement, journey stages and attribution, loaded, computed, stored.

Load (metrics/loading.py) -> compute (pure modules) -> write in one transaction
(metrics/writing.py). Recompute-and-overwrite makes a re-run, or a re-delivered task, harmless.
"""

import datetime as dt

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from metrics import attribution, engagement, loading, stages
from metrics.models import (
    AttributionCredit,
    EngagementHistory,
    EngagementScore,
    JourneyStageChange,
    MetricRun,
    RunKind,
)
from metrics.runs import run_enqueue, run_progress
from metrics.writing import insert_rows, replace_rows

_DAY = pd.Timedelta(days=1)


def engagement_params() -> dict:
    return {
        "points": settings.ABM_ENGAGEMENT_POINTS,
        "seniority_multipliers": settings.ABM_SENIORITY_MULTIPLIERS,
        "window_days": settings.ABM_ENGAGEMENT_WINDOW_DAYS,
        "half_life_days": settings.ABM_ENGAGEMENT_HALF_LIFE_DAYS,
        "daily_cap": settings.ABM_DAILY_POINTS_CAP,
    }


def recompute_all(*, run: MetricRun | None = None, now: dt.datetime | None = None) -> dict:
    now = pd.Timestamp(now or timezone.now()).tz_convert("UTC")
    _progress(run, "loading accounts and opportunities", 2)
    accounts = loading.load_accounts()
    opportunities = loading.load_opportunities()
    window = pd.Timedelta(days=settings.ABM_ATTRIBUTION_WINDOW_DAYS)
    engagement_days = pd.Timedelta(days=settings.ABM_ENGAGEMENT_WINDOW_DAYS)
    since = now - engagement_days - _DAY
    if not opportunities.empty:
        since = min(since, opportunities["created_at"].min() - window)
    _progress(run, "loading activities", 8)
    activities = loading.load_activities(since=since.to_pydatetime(), until=now.to_pydatetime())

    _progress(run, f"scoring engagement of {len(accounts)} accounts", 30)
    params = engagement_params()
    scores = engagement.score_accounts(
        activities, now, spike_ratio=settings.ABM_SPIKE_RATIO, **params
    )
    scores = accounts[["account_id"]].merge(scores, on="account_id", how="left")
    scores["score"] = scores["score"].fillna(0.0)
    scores["engaged_contacts"] = scores["engaged_contacts"].fillna(0).astype(int)
    scores["spike"] = scores["spike"].fillna(False).astype(bool)
    for column, empty in (("by_channel", {}), ("top_activities", [])):
        scores[column] = [v if isinstance(v, dict | list) else empty for v in scores[column]]

    history_start = _history_start(now)
    history = engagement.score_history(activities, history_start, now.date(), **params)
    history = history.loc[history["score"] > 0]

    _progress(run, "evaluating journey stages", 45)
    new_stages = journey_stages_now(accounts, scores, opportunities, activities, now)
    previous = accounts.set_index("account_id")["stage"]
    changes = stages.stage_changes(previous, new_stages)

    _progress(run, "attributing pipeline and revenue", 55)
    credits = attribution_credits(activities, opportunities, now)

    _progress(run, "saving results", 85)
    # One transaction: dashboards see the previous run or this one, never a mix.
    with transaction.atomic():
        _write_engagement(scores, now)
        replace_rows(
            EngagementHistory.objects.filter(date__gte=history_start),
            pd.DataFrame(
                {
                    "account_id": history["account_id"].to_numpy(),
                    "date": [d.date() for d in pd.to_datetime(history["date"])],
                    "score": history["score"].round(4).to_numpy(),
                }
            ),
        )
        _write_stages(changes, now)
        replace_rows(AttributionCredit.objects.all(), credits)
    return {
        "accounts": len(accounts),
        "activities": len(activities),
        "opportunities": len(opportunities),
        "stage_changes": len(changes),
        "credit_rows": len(credits),
        "as_of": now.isoformat(),
    }


def journey_stages_now(accounts, scores, opportunities, activities, now) -> pd.Series:
    recent = activities["occurred_at"] > now - pd.Timedelta(
        days=settings.ABM_ENGAGEMENT_WINDOW_DAYS
    )
    inbound = activities.loc[recent & (activities["direction"] == "inbound"), "account_id"]
    created = opportunities.loc[opportunities["created_at"] <= now]
    frame = accounts[["account_id", "tier"]].merge(
        scores[["account_id", "score", "engaged_contacts"]], on="account_id", how="left"
    )
    frame["has_inbound_90d"] = frame["account_id"].isin(inbound.unique())
    open_ = created["closed_at"].isna() | (created["closed_at"] > now)
    frame["has_open_opportunity"] = frame["account_id"].isin(created.loc[open_, "account_id"])
    won = (created["stage"] == "closed_won") & (created["closed_at"] <= now)
    frame["has_won_opportunity"] = frame["account_id"].isin(created.loc[won, "account_id"])
    return stages.journey_stages(
        frame,
        engaged_score=settings.ABM_ENGAGED_SCORE,
        mqa_score=settings.ABM_MQA_SCORE,
        mqa_min_contacts=settings.ABM_MQA_MIN_ENGAGED_CONTACTS,
    )


def attribution_credits(
    activities: pd.DataFrame, opportunities: pd.DataFrame, now: pd.Timestamp
) -> pd.DataFrame:
    """Credits per (model, kind, opportunity, channel, playbook) for every model and both kinds."""
    points = activities["kind"].map(settings.ABM_ENGAGEMENT_POINTS).fillna(0)
    touches = activities.loc[(points > 0) | (activities["cost"] > 0)]
    touches = _mark_mqa_touches(touches)
    window = pd.Timedelta(days=settings.ABM_ATTRIBUTION_WINDOW_DAYS)
    frames = []
    pipeline = opportunities.loc[opportunities["created_at"] <= now].assign(
        ts=lambda f: f["created_at"], start=lambda f: f["created_at"] - window
    )
    won = opportunities.loc[
        (opportunities["stage"] == "closed_won") & (opportunities["closed_at"] <= now)
    ].assign(ts=lambda f: f["closed_at"], start=lambda f: f["created_at"] - window)
    for kind, conversions in (("pipeline", pipeline), ("revenue", won)):
        journeys = _journey_touches(touches, conversions, now, window)
        conv = conversions.rename(columns={"opportunity_id": "journey_id", "amount": "value"})
        conv = conv[["journey_id", "ts", "value"]]
        for model in attribution.MODELS:
            rows = attribution.credit(
                journeys,
                conv,
                model,
                half_life_days=settings.ABM_TIME_DECAY_HALF_LIFE_DAYS,
            )
            frames.append(_per_channel_and_playbook(rows, conversions, model, kind))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def _journey_touches(touches, conversions, now, window) -> pd.DataFrame:
    """Touches of each converting journey, plus non-converting paths for the Markov model."""
    joined = touches.merge(
        conversions[["opportunity_id", "account_id", "ts", "start"]],
        on="account_id",
        suffixes=("", "_conversion"),
    )
    inside = (joined["occurred_at"] >= joined["start"]) & (joined["occurred_at"] <= joined["ts"])
    converting = joined.loc[inside].rename(columns={"opportunity_id": "journey_id"})
    # Non-converting paths: accounts with touches and no conversion in the window before now.
    quiet = ~touches["account_id"].isin(
        conversions.loc[conversions["ts"] > now - window, "account_id"]
    )
    recent = touches["occurred_at"] > now - window
    idle = touches.loc[quiet & recent].assign(journey_id=lambda f: -f["account_id"])
    columns = ["journey_id", "activity_id", "occurred_at", "channel", "is_mqa", "playbook_id"]
    both = pd.concat([converting[columns], idle[columns]], ignore_index=True)
    both = both.rename(columns={"activity_id": "touch_id", "occurred_at": "ts"})
    return both.sort_values(["journey_id", "ts", "touch_id"], kind="stable", ignore_index=True)


def _mark_mqa_touches(touches: pd.DataFrame) -> pd.DataFrame:
    """The touch that made an account mqa: its last touch at or before it first became mqa."""
    became = (
        JourneyStageChange.objects.filter(to_stage="mqa")
        .order_by("account_id", "changed_at")
        .values_list("account_id", "changed_at")
    )
    first_mqa = pd.DataFrame.from_records(list(became), columns=["account_id", "mqa_at"])
    touches = touches.assign(is_mqa=False)
    if first_mqa.empty:
        return touches
    first_mqa = first_mqa.drop_duplicates("account_id")
    first_mqa["mqa_at"] = pd.to_datetime(first_mqa["mqa_at"], utc=True)
    candidates = touches.reset_index().merge(first_mqa, on="account_id")
    candidates = candidates.loc[candidates["occurred_at"] <= candidates["mqa_at"]]
    last = candidates.sort_values(["occurred_at", "activity_id"]).groupby("account_id").tail(1)
    touches.loc[last["index"].to_numpy(), "is_mqa"] = True
    return touches


def _per_channel_and_playbook(rows, conversions, model: str, kind: str) -> pd.DataFrame:
    rows = rows.assign(playbook_id=rows["playbook_id"].astype("Int64"))
    grouped = (
        rows.groupby(["journey_id", "channel", "playbook_id"], dropna=False)
        .agg(weight=("weight", "sum"), credit=("credit", "sum"), touches=("touch_id", "size"))
        .reset_index()
    )
    grouped = grouped.loc[grouped["weight"] > 0]
    meta = conversions.set_index("opportunity_id")
    return pd.DataFrame(
        {
            "model": model,
            "kind": kind,
            "opportunity_id": grouped["journey_id"].to_numpy(),
            "account_id": meta.loc[grouped["journey_id"], "account_id"].to_numpy(),
            "converted_at": meta.loc[grouped["journey_id"], "ts"].to_numpy(),
            "channel": grouped["channel"].to_numpy(),
            "playbook_id": grouped["playbook_id"].to_numpy(),
            "weight": grouped["weight"].clip(0, 1).round(6).to_numpy(),
            "credit": grouped["credit"].round(4).to_numpy(),
            "touches": grouped["touches"].to_numpy(),
        }
    )


def _history_start(now: pd.Timestamp) -> dt.date:
    """Continue the daily history where it stopped, at most one engagement window back."""
    floor = (now - pd.Timedelta(days=settings.ABM_ENGAGEMENT_WINDOW_DAYS - 1)).date()
    last = EngagementHistory.objects.order_by("-date").values_list("date", flat=True).first()
    if last is None:
        return floor
    return max(floor, min(last, now.date()))


def _write_engagement(scores: pd.DataFrame, now: pd.Timestamp) -> None:
    replace_rows(
        EngagementScore.objects.all(),
        pd.DataFrame(
            {
                "account_id": scores["account_id"].to_numpy(),
                "score": scores["score"].round(4).to_numpy(),
                "by_channel": [
                    {k: round(v, 4) for k, v in d.items()} for d in scores["by_channel"]
                ],
                "engaged_contacts": scores["engaged_contacts"].to_numpy(),
                "spike": scores["spike"].to_numpy(),
                "top_activities": scores["top_activities"].to_list(),
                "computed_at": now,
            }
        ),
    )
    rows = [
        Account(pk=int(pk), engagement_score=round(float(score), 4), spike=bool(spike))
        for pk, score, spike in zip(
            scores["account_id"], scores["score"], scores["spike"], strict=True
        )
    ]
    Account.objects.bulk_update(rows, ["engagement_score", "spike"], batch_size=2_000)


def _write_stages(changes: pd.DataFrame, now: pd.Timestamp) -> None:
    if changes.empty:
        return
    insert_rows(
        JourneyStageChange,
        pd.DataFrame(
            {
                "account_id": changes["account_id"].to_numpy(),
                "from_stage": changes["from_stage"].to_numpy(),
                "to_stage": changes["to_stage"].to_numpy(),
                "changed_at": now,
            }
        ),
    )
    by_stage = changes.groupby("to_stage")["account_id"].apply(list)
    for stage, ids in by_stage.items():
        Account.objects.filter(pk__in=[int(i) for i in ids]).update(stage=stage)


def _progress(run: MetricRun | None, phase: str, percent: int) -> None:
    if run is not None:
        run_progress(run, phase=phase, percent=percent)


def recompute_enqueue(*, by=None) -> MetricRun:
    from metrics.tasks import recompute_all_task

    return run_enqueue(kind=RunKind.FULL, task=recompute_all_task, requested_by=by)
