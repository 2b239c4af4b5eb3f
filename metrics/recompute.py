"""The full recompute: engagement, journey stages, attribution and the dashboards' rollups.

Load (metrics/loading.py) -> compute (pure modules) -> write in one transaction. Recompute-and-
overwrite makes a re-run, or a re-delivered task, harmless; the incremental run (after a burst of
changes, abm/change_feed.py) is this same computation, which takes seconds for 1M activities.

Each phase is timed (``result["seconds"]``) for ``manage.py recompute_metrics`` and the benchmark.
On PostgreSQL results go in with binary COPY (no text formatting or parsing of 1.5M credit rows);
credits are rewritten only where a digest per (model, kind, deal) changed (``write_credits``);
and two recomputes never overlap: the second waits on an advisory lock.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from abm.jobs import run_enqueue, run_progress
from abm.lib.db_stats import analyze
from abm.lib.timeconv import instant_ns, series_ns
from abm.models import Job, RunKind
from accounts.follow_up import follow_up_outcomes
from accounts.models import Account, Contact, Lead
from metrics import attribution, engagement, leads, lift, loading, roi, rollups, stages
from metrics.goal_tracking import update_goal_progress
from metrics.models import (
    AttributionCredit,
    BudgetLine,
    CreditDigest,
    EngagementHistory,
    EngagementScore,
    JourneyStageChange,
    MetricRollup,
)
from metrics.touch_rule_store import load_touch_rules
from metrics.touch_rules import TouchRules, attribution_touches
from metrics.writing import insert_rows, replace_rows
from playbooks.models import Activity, Step
from playbooks.task_generation import tasks_enqueue

_DAY = pd.Timedelta(days=1)
# pg_advisory_lock key: "abm recompute".
_LOCK_KEY = 0x61626D_7263


def setting(name: str):
    return getattr(settings, name)


def engagement_params() -> dict:
    return {
        "points": settings.ABM_ENGAGEMENT_POINTS,
        "seniority_multipliers": settings.ABM_SENIORITY_MULTIPLIERS,
        "window_days": settings.ABM_ENGAGEMENT_WINDOW_DAYS,
        "half_life_days": settings.ABM_ENGAGEMENT_HALF_LIFE_DAYS,
        "daily_cap": settings.ABM_DAILY_POINTS_CAP,
    }


@dataclass
class Stopwatch:
    """Wall-clock seconds per phase, in the order the phases ran, and this process's CPU
    seconds (the database's work shows in the wall clock only)."""

    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def start(self, name: str) -> None:
        self._started = (name, time.perf_counter(), time.process_time())

    def stop(self, name: str) -> None:
        started_name, wall, cpu = self._started
        if started_name != name:
            raise RuntimeError(f"stopping {name!r} while {started_name!r} runs")
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - wall
        self.cpu_seconds[name] = self.cpu_seconds.get(name, 0.0) + time.process_time() - cpu

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.start(name)
        try:
            yield
        finally:
            self.stop(name)


@dataclass
class Inputs:
    accounts: pd.DataFrame
    opportunities: pd.DataFrame
    activities: pd.DataFrame
    enrolments: pd.DataFrame
    leads: pd.DataFrame
    budget_lines: pd.DataFrame
    first_mqa: pd.DataFrame  # account_id, mqa_at: the first change of each account to mqa
    horizon: pd.Timestamp  # first month of the monthly rollups (naive, UTC)
    touch_rules: TouchRules  # which activities are attribution touches


def recompute_all(
    *,
    run: Job | None = None,
    now: dt.datetime | None = None,
    rewrite_credits: bool = False,
    queue_tasks: bool = True,
) -> dict:
    """Recompute everything as of ``now``; ``rewrite_credits`` rewrites every credit row
    instead of those whose digest changed. ``queue_tasks=False`` leaves out the task job that
    stage changes queue (the demo seeder, computing as of a simulated day, runs its cadence)."""
    now = pd.Timestamp(now or timezone.now()).tz_convert("UTC")
    watch = Stopwatch()
    # Percents follow each phase's share of the time on 10 000 accounts (see the benchmark).
    with _exclusive():
        _progress(run, "loading accounts, deals and activities", 2)
        with watch.phase("load"):
            data = load_inputs(now)

        _progress(run, f"scoring engagement of {len(data.accounts):,} accounts", 26)
        with watch.phase("engagement"):
            scores = _scores(data, now)
            history_start = _history_start(now)
            history = engagement.score_history(
                data.activities, history_start, now.date(), **engagement_params()
            )
            history = history.loc[history["score"] > 0]
            engaged_months, engaged_in_period = _engaged(data, now)

        _progress(run, "evaluating journey stages", 41)
        with watch.phase("stages"):
            new_stages = journey_stages_now(
                data.accounts, scores, data.opportunities, data.activities, now
            )
            previous = data.accounts.set_index("account_id")["stage"]
            changes = stages.stage_changes(previous, new_stages)
            first_mqa = _with_new_mqa(data.first_mqa, changes, now)

        _progress(run, f"attributing {len(data.opportunities):,} deals with 8 models", 43)
        with watch.phase("attribution"):
            touches = attribution_touches(data.activities, first_mqa, data.touch_rules)
            credits = attribution_credits(touches, data.opportunities, now)

        _progress(run, "rolling up spend, ROI, lift and leads", 64)
        with watch.phase("rollups"):
            rollup = build_rollups(
                data,
                credits,
                touches,
                first_mqa,
                new_stages,
                engaged_months,
                engaged_in_period,
                now,
            )

        _progress(run, f"saving {len(credits):,} credits and {len(rollup):,} rollups", 77)
        # One transaction: dashboards see the previous run or this one, never a mix.
        with transaction.atomic():
            with watch.phase("write engagement"):
                _write_engagement(scores, now)
                _replace(
                    EngagementHistory.objects.filter(date__gte=history_start),
                    pd.DataFrame(
                        {
                            "account_id": history["account_id"].to_numpy(),
                            "date": pd.to_datetime(history["date"]).dt.date.to_numpy(),
                            "score": history["score"].round(4).to_numpy(),
                        }
                    ),
                )
            with watch.phase("write stages"):
                _write_stages(changes, now)
            with watch.phase("write credits"):
                credits_written = write_credits(credits, rewrite=rewrite_credits)
            with watch.phase("write rollups"):
                _replace(MetricRollup.objects.all(), rollup)
                update_goal_progress(now=now.to_pydatetime())  # after this run's stage changes
            watch.start("commit")
        watch.stop("commit")
        if queue_tasks and len(changes):
            # Accounts that moved may enter a playbook stage: its tasks due now follow at once.
            tasks_enqueue(reason=f"{len(changes):,} journey stage changes")
        with watch.phase("analyze"):
            analyze(MetricRollup, AttributionCredit)
    return {
        "accounts": len(data.accounts),
        "activities": len(data.activities),
        "opportunities": len(data.opportunities),
        "stage_changes": len(changes),
        "credit_rows": len(credits),
        "credit_rows_written": credits_written,
        "rollup_rows": len(rollup),
        "as_of": now.isoformat(),
        "touch_rules": data.touch_rules.as_dict(),  # the rule these figures follow (dashboards)
        "seconds": {name: round(s, 3) for name, s in watch.seconds.items()},
        "cpu_seconds": {name: round(s, 3) for name, s in watch.cpu_seconds.items()},
    }


# --- Load -------------------------------------------------------------------------------------


def load_inputs(now: pd.Timestamp) -> Inputs:
    accounts = loading.load_accounts()
    opportunities = loading.load_opportunities()
    window = pd.Timedelta(days=settings.ABM_ATTRIBUTION_WINDOW_DAYS)
    engagement_days = pd.Timedelta(days=settings.ABM_ENGAGEMENT_WINDOW_DAYS)
    horizon = _month_start(now) - pd.DateOffset(months=setting("ABM_ROLLUP_MONTHS") - 1)
    # Enough history for today's scores, every deal's attribution window and the rollups' months.
    since = min(now - engagement_days - _DAY, horizon.tz_localize("UTC") - engagement_days)
    if not opportunities.empty:
        since = min(since, opportunities["created_at"].min() - window)
    return Inputs(
        accounts=accounts,
        opportunities=opportunities,
        activities=load_touchpoints(since=since.to_pydatetime(), until=now.to_pydatetime()),
        enrolments=loading.load_enrolments(),
        leads=load_leads(),
        budget_lines=load_budget_lines(),
        first_mqa=load_first_mqa(),
        horizon=horizon,
        touch_rules=load_touch_rules(),
    )


def load_touchpoints(*, since=None, until=None) -> pd.DataFrame:
    """Activities with their contact's seniority and their step's playbook and ``owner_role``.

    The contact's seniority and the step's playbook and owner are mapped from those small
    tables here rather than joined per activity, and PostgreSQL sends times as integer
    microseconds: parsing a million timestamp strings was most of the load.
    """
    activities = Activity.objects.order_by()
    if since is not None:
        activities = activities.filter(occurred_at__gt=since)
    if until is not None:
        activities = activities.filter(occurred_at__lte=until)
    occurred = "occurred_at"
    if connection.vendor == "postgresql":
        column = f"{connection.ops.quote_name(Activity._meta.db_table)}.occurred_at"
        activities = activities.annotate(
            occurred_us=RawSQL(f"(extract(epoch FROM {column}) * 1000000)::bigint", ())
        )
        occurred = "occurred_us"
    frame = loading.frame_from_queryset(
        activities,
        {
            "activity_id": "id",
            "account_id": "account_id",
            "contact_id": "contact_id",
            "channel": "channel",
            "kind": "kind",
            "direction": "direction",
            "occurred_at": occurred,
            "cost": "cost",
            "step_id": "step_id",
        },
        datetimes=() if occurred == "occurred_us" else ("occurred_at",),
        numbers=("cost",),
    )
    if occurred == "occurred_us":
        micros = frame["occurred_at"].to_numpy(dtype=np.int64)
        frame["occurred_at"] = pd.DatetimeIndex(micros.astype("datetime64[us]"), tz="UTC").as_unit(
            "ns"
        )
    contacts = pd.Series(dict(Contact.objects.values_list("id", "seniority")), dtype=object)
    seniority = _lookup(contacts, frame["contact_id"])
    steps = pd.DataFrame.from_records(
        list(Step.objects.values_list("id", "stage__playbook_id", "owner_role")),
        columns=["step_id", "playbook_id", "owner_role"],
    ).set_index("step_id")
    playbook = _lookup(steps["playbook_id"].astype(float), frame["step_id"], missing=np.nan)
    owner_role = _lookup(steps["owner_role"].astype(object), frame["step_id"], missing="")
    frame = frame.drop(columns="step_id")
    frame.insert(3, "seniority", pd.Series(seniority, index=frame.index, dtype=object))
    frame["playbook_id"] = playbook.astype(float)
    frame["owner_role"] = owner_role
    return frame


def _lookup(table: pd.Series, keys: pd.Series, *, missing=None) -> np.ndarray:
    """``table[key]`` for each key; ``missing`` for null or unknown keys."""
    at = table.index.get_indexer(keys.to_numpy(dtype=float, na_value=np.nan))
    values = np.append(table.to_numpy(dtype=object), [missing])
    return values[np.where(at < 0, len(table), at)]


def load_leads() -> pd.DataFrame:
    return loading.frame_from_queryset(
        Lead.objects.order_by(),
        {
            "lead_id": "id",
            "account_id": "account_id",
            "source_channel": "source_channel",
            "handed_off_at": "handed_off_at",
            "first_follow_up_at": "first_follow_up_at",
        },
        datetimes=("handed_off_at", "first_follow_up_at"),
    )


def load_budget_lines() -> pd.DataFrame:
    frame = loading.frame_from_queryset(
        BudgetLine.objects.order_by(),
        {"playbook_id": "playbook_id", "channel": "channel", "date": "date", "amount": "amount"},
        numbers=("amount",),
        texts=("channel",),
    )
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def load_first_mqa() -> pd.DataFrame:
    rows = (
        JourneyStageChange.objects.filter(to_stage="mqa")
        .values("account_id")
        .annotate(mqa_at=Min("changed_at"))
        .order_by()
        .values_list("account_id", "mqa_at")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["account_id", "mqa_at"])
    frame["mqa_at"] = pd.to_datetime(frame["mqa_at"], utc=True)
    return frame


# --- Engagement and stages --------------------------------------------------------------------


def _scores(data: Inputs, now: pd.Timestamp) -> pd.DataFrame:
    scores = engagement.score_accounts(
        data.activities,
        now,
        spike_ratio=settings.ABM_SPIKE_RATIO,
        spike_min_points=settings.ABM_SPIKE_MIN_POINTS,
        **engagement_params(),
    )
    scores = data.accounts[["account_id"]].merge(scores, on="account_id", how="left")
    scores["score"] = scores["score"].fillna(0.0)
    scores["engaged_contacts"] = scores["engaged_contacts"].fillna(0).astype(int)
    scores["spike"] = scores["spike"].fillna(False).astype(bool)
    for column, empty in (("by_channel", {}), ("top_activities", [])):
        scores[column] = [v if isinstance(v, dict | list) else empty for v in scores[column]]
    return scores


def _engaged(data: Inputs, now: pd.Timestamp) -> tuple[pd.DataFrame, set]:
    """Target accounts engaged (daily score >= the engaged score on >= 1 day) per month, and in
    the lift period. Only targets: the engaged split is within targets."""
    targets = data.accounts.loc[data.accounts["tier"].notna(), "account_id"]
    acts = data.activities.loc[data.activities["account_id"].isin(targets)]
    lift_start = now - pd.Timedelta(days=setting("ABM_LIFT_PERIOD_DAYS"))
    empty = pd.DataFrame(
        {"account_id": pd.Series(dtype="int64"), "month": pd.Series(dtype="M8[ns]")}
    )
    if acts.empty:
        return empty, set()
    # No score before the first activity: start there, or at the earliest month we need.
    first_day = acts["occurred_at"].min().tz_convert("UTC").tz_localize(None).normalize()
    start = max(first_day, min(data.horizon, lift_start.tz_localize(None).normalize()))
    daily = engagement.score_history(acts, start, now.date(), **engagement_params())
    days = pd.DatetimeIndex(pd.unique(daily["date"]))
    accounts = pd.unique(daily["account_id"])
    if len(daily) != len(accounts) * len(days):
        raise ValueError("score_history no longer returns one row per account and day")
    grid = daily["score"].to_numpy().reshape(len(accounts), len(days))  # account-major
    hot = grid >= settings.ABM_ENGAGED_SCORE
    months = days.to_period("M")
    bounds = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
    per_month = np.logical_or.reduceat(hot, bounds, axis=1)
    account_at, month_at = np.nonzero(per_month)
    engaged_months = pd.DataFrame(
        {
            "account_id": accounts[account_at],
            "month": months[bounds].start_time.to_numpy()[month_at],
        }
    )
    in_period = hot[:, days >= lift_start.tz_localize(None).normalize()].any(axis=1)
    return engaged_months, set(accounts[in_period].tolist())


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


def _with_new_mqa(first_mqa: pd.DataFrame, changes: pd.DataFrame, now: pd.Timestamp):
    """Accounts this run moves to mqa for the first time became mqa now."""
    new = changes.loc[
        (changes["to_stage"] == "mqa") & ~changes["account_id"].isin(first_mqa["account_id"]),
        ["account_id"],
    ].assign(mqa_at=now)
    if new.empty:
        return first_mqa
    return pd.concat([first_mqa, new], ignore_index=True)


# --- Attribution ------------------------------------------------------------------------------


def attribution_credits(
    touches: pd.DataFrame, opportunities: pd.DataFrame, now: pd.Timestamp
) -> pd.DataFrame:
    """Credits per (model, kind, opportunity, channel, playbook) for every model and both kinds.

    Every model returns the same rows (one per counted touch) for a kind, so the grouping per
    (opportunity, channel, playbook) is computed once per kind and each model only sums into it.
    """
    window = pd.Timedelta(days=settings.ABM_ATTRIBUTION_WINDOW_DAYS)
    pipeline = opportunities.loc[opportunities["created_at"] <= now].assign(
        ts=lambda f: f["created_at"], start=lambda f: f["created_at"] - window
    )
    won = opportunities.loc[
        (opportunities["stage"] == "closed_won") & (opportunities["closed_at"] <= now)
    ].assign(ts=lambda f: f["closed_at"], start=lambda f: f["created_at"] - window)
    frames = []
    for kind, conversions in (("pipeline", pipeline), ("revenue", won)):
        journeys = _journey_touches(touches, conversions, now, window)
        conv = conversions.rename(columns={"opportunity_id": "journey_id", "amount": "value"})
        conv = conv[["journey_id", "ts", "value"]]
        groups = None
        for model in attribution.MODELS:
            rows = attribution.credit(
                journeys, conv, model, half_life_days=settings.ABM_TIME_DECAY_HALF_LIFE_DAYS
            )
            if groups is None or not groups.matches(rows):
                groups = _CreditGroups.of(rows, conversions)
            frames.append(groups.credits(rows, model, kind))
    frames = [f for f in frames if len(f)]
    if not frames:
        return _empty_credits()
    credits = pd.concat(frames, ignore_index=True)
    credits["channel"] = credits["channel"].astype(object)
    # In the order of the table's (account, opportunity) index: COPY then appends to it.
    order = np.lexsort((credits["opportunity_id"].to_numpy(), credits["account_id"].to_numpy()))
    return credits.take(order).reset_index(drop=True)


@dataclass
class _CreditGroups:
    """Rows of a kind's credit output grouped by (journey, channel, playbook)."""

    journey: np.ndarray
    touch: np.ndarray
    code: np.ndarray  # group per row
    first: np.ndarray  # a row of each group
    size: np.ndarray  # touches per group
    meta: pd.DataFrame  # conversions indexed by opportunity_id

    @classmethod
    def of(cls, rows: pd.DataFrame, conversions: pd.DataFrame) -> _CreditGroups:
        journey = rows["journey_id"].to_numpy()
        channel = pd.Categorical(rows["channel"]).codes.astype(np.int64)
        playbook = rows["playbook_id"].to_numpy(dtype=float)
        playbook = np.where(np.isnan(playbook), -1, playbook).astype(np.int64)
        _, playbook = np.unique(playbook, return_inverse=True)
        n_channel, n_playbook = channel.max(initial=0) + 1, playbook.max(initial=0) + 1
        key = (journey.astype(np.int64) * n_channel + channel) * n_playbook + playbook
        code, uniques = pd.factorize(key)
        first = np.full(len(uniques), -1, dtype=np.int64)
        first[code[::-1]] = np.arange(len(code))[::-1]
        return cls(
            journey=journey,
            touch=rows["touch_id"].to_numpy(),
            code=code,
            first=first,
            size=np.bincount(code, minlength=len(uniques)),
            meta=conversions.set_index("opportunity_id")[["account_id", "ts"]],
        )

    def matches(self, rows: pd.DataFrame) -> bool:
        return np.array_equal(self.touch, rows["touch_id"].to_numpy()) and np.array_equal(
            self.journey, rows["journey_id"].to_numpy()
        )

    def credits(self, rows: pd.DataFrame, model: str, kind: str) -> pd.DataFrame:
        weight = np.bincount(self.code, weights=rows["weight"].to_numpy(), minlength=len(self.size))
        credit = np.bincount(self.code, weights=rows["credit"].to_numpy(), minlength=len(self.size))
        keep = weight > 0
        at = self.first[keep]
        journeys = self.journey[at]
        meta = self.meta.iloc[self.meta.index.get_indexer(journeys)]
        return pd.DataFrame(
            {
                "model": model,
                "kind": kind,
                "opportunity_id": journeys,
                "account_id": meta["account_id"].to_numpy(),
                "converted_at": meta["ts"].array,
                "channel": rows["channel"].array.take(at),
                "playbook_id": rows["playbook_id"].to_numpy(dtype=float)[at],
                "weight": np.clip(weight[keep], 0, 1).round(6),
                "credit": credit[keep].round(4),
                "touches": self.size[keep],
            }
        )


def _empty_credits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": pd.Series(dtype=object),
            "kind": pd.Series(dtype=object),
            "opportunity_id": pd.Series(dtype="int64"),
            "account_id": pd.Series(dtype="int64"),
            "converted_at": pd.Series(dtype="datetime64[ns, UTC]"),
            "channel": pd.Series(dtype=object),
            "playbook_id": pd.Series(dtype=float),
            "weight": pd.Series(dtype=float),
            "credit": pd.Series(dtype=float),
            "touches": pd.Series(dtype="int64"),
        }
    )


def _journey_touches(touches, conversions, now, window) -> pd.DataFrame:
    """Touches of each converting journey, plus non-converting paths for the Markov model, in
    (journey_id, ts, touch_id) order.

    Touches sorted by (account, time, id) make every journey a contiguous run, found for all
    conversions at once by ``searchsorted`` on one packed (account, microsecond) key.
    """
    columns = ["journey_id", "touch_id", "ts", "channel", "is_mqa", "playbook_id"]
    account = touches["account_id"].to_numpy()
    micros = series_ns(touches["occurred_at"]) // 1000
    order = np.lexsort(
        (touches["activity_id"].to_numpy(), series_ns(touches["occurred_at"]), account)
    )
    accounts, code = np.unique(account[order], return_inverse=True)
    micros = micros[order]
    starts, ends = series_ns(conversions["start"]) // 1000, series_ns(conversions["ts"]) // 1000
    instants = np.concatenate([micros, starts, ends])
    origin = int(instants.min()) if len(instants) else 0
    shift = int(instants.max(initial=origin) - origin + 2).bit_length()
    if shift + int(len(accounts) + 1).bit_length() > 62:
        raise ValueError("too many accounts over too long a time to pack into one key")
    key = (code.astype(np.int64) << shift) | (micros - origin)

    conv_account = conversions["account_id"].to_numpy()
    conv_code = np.searchsorted(accounts, conv_account)
    # A conversion on an account without touches has an empty journey.
    known = np.append(accounts, -1)[conv_code] == conv_account
    conv_key = conv_code.astype(np.int64) << shift
    low = np.searchsorted(key, conv_key | (starts - origin), "left")
    high = np.searchsorted(key, conv_key | (ends - origin), "right")
    high = np.where(known, high, low)
    by_journey = np.argsort(conversions["opportunity_id"].to_numpy(), kind="stable")
    low, high = low[by_journey], high[by_journey]
    sizes = high - low
    journey_ids = np.repeat(conversions["opportunity_id"].to_numpy()[by_journey], sizes)
    # Row positions low..high-1 of every journey, concatenated.
    rows = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes - low, sizes)

    # Non-converting paths: accounts with touches and no conversion in the window before now.
    converted = conversions.loc[conversions["ts"] > now - window, "account_id"].to_numpy()
    idle = ~np.isin(account[order], converted) & (micros > (instant_ns(now - window) // 1000))
    idle_rows = np.flatnonzero(idle)
    # Journey ids -account_id ascending: accounts descending, each still in time order.
    idle_rows = idle_rows[np.argsort(-account[order][idle_rows], kind="stable")]
    picked = order[np.concatenate([idle_rows, rows])]
    frame = pd.DataFrame(
        {
            "journey_id": np.concatenate([-account[order][idle_rows], journey_ids]),
            "touch_id": touches["activity_id"].to_numpy()[picked],
            "ts": touches["occurred_at"].array.take(picked),
            "channel": touches["channel"].array.take(picked),
            "is_mqa": touches["is_mqa"].to_numpy()[picked],
            "playbook_id": touches["playbook_id"].to_numpy(dtype=float)[picked],
        }
    )
    return frame[columns]


# --- Rollups ----------------------------------------------------------------------------------


def build_rollups(
    data: Inputs,
    credits: pd.DataFrame,
    touches: pd.DataFrame,
    first_mqa: pd.DataFrame,
    new_stages: pd.Series,
    engaged_months: pd.DataFrame,
    engaged_in_period: set,
    now: pd.Timestamp,
) -> pd.DataFrame:
    accounts = data.accounts
    window = settings.ABM_ATTRIBUTION_WINDOW_DAYS
    parts = [
        rollups.credit_rollup(roi.credit_rows(credits, accounts)),
        rollups.spend_rollup(roi.spend_rows(data.activities, data.budget_lines, accounts)),
        rollups.mqa_rollup(roi.mqa_rows(touches, first_mqa, accounts, window_days=window)),
        rollups.deal_rollups(_deals(data, touches, engaged_months, now)),
        rollups.engaged_accounts_rollup(roi.account_dimensions(engaged_months, accounts)),
        _lead_rollups(data, now),
        rollups.accounts_rollup(
            roi.account_dimensions(
                pd.DataFrame(
                    {"account_id": new_stages.index, "stage": new_stages.to_numpy(dtype=object)}
                ),
                accounts,
            )
        ),
        _lift_snapshot(data, engaged_in_period, now),
        rollups.holdout_rollup(
            lift.holdout_lift(
                data.enrolments,
                data.opportunities,
                now=now,
                min_group=settings.ABM_LIFT_MIN_GROUP,
                resamples=setting("ABM_LIFT_RESAMPLES"),
                seed=setting("ABM_LIFT_SEED"),
            )
        ),
    ]
    frame = rollups.assemble(parts)
    monthly = pd.notna(frame["period"].to_numpy())
    recent = np.array([p is None or p >= data.horizon.date() for p in frame["period"]])
    return frame.loc[~monthly | recent].reset_index(drop=True)


def _deals(data: Inputs, touches, engaged_months, now) -> pd.DataFrame:
    created = data.opportunities.loc[data.opportunities["created_at"] <= now]
    deals = lift.opportunity_outcomes(created)
    origins = leads.pipeline_origins(
        created, touches, window_days=settings.ABM_ATTRIBUTION_WINDOW_DAYS
    )
    deals = roi.account_dimensions(deals, data.accounts).assign(
        month=roi.month_of(deals["created_at"]),
        sourced=origins["sourced"].to_numpy(),
        influenced=origins["influenced"].to_numpy(),
    )
    engaged = pd.MultiIndex.from_frame(engaged_months[["account_id", "month"]])
    is_engaged = pd.MultiIndex.from_frame(deals[["account_id", "month"]]).isin(engaged)
    deals["segment"] = np.where(
        deals["tier"].fillna(0).to_numpy() > 0,
        np.where(is_engaged, "engaged", "not_engaged"),
        "",
    )
    return deals


def _lead_rollups(data: Inputs, now) -> pd.DataFrame:
    frame = roi.account_dimensions(data.leads, data.accounts).assign(
        month=roi.month_of(data.leads["handed_off_at"]),
        channel=data.leads["source_channel"].astype(object),
    )
    follow_ups = follow_up_outcomes(frame, now=now, sla_hours=settings.ABM_FOLLOW_UP_SLA_HOURS)
    conversions = leads.lead_conversions(
        frame, data.opportunities, days=setting("ABM_LEAD_CONVERSION_DAYS"), now=now
    )
    return rollups.lead_rollups(follow_ups, conversions)


def _lift_snapshot(data: Inputs, engaged_in_period: set, now) -> pd.DataFrame:
    accounts = data.accounts.assign(engaged=data.accounts["account_id"].isin(engaged_in_period))
    start = now - pd.Timedelta(days=setting("ABM_LIFT_PERIOD_DAYS"))
    end = now + pd.Timedelta(microseconds=1)  # up to and including now
    metrics = lift.segment_metrics(data.opportunities, accounts, start=start, end=end)
    return rollups.lift_rollup(metrics, lift.lifts(metrics))


# --- Write ------------------------------------------------------------------------------------


def _history_start(now: pd.Timestamp) -> dt.date:
    """Continue the daily history where it stopped, at most one engagement window back."""
    floor = (now - pd.Timedelta(days=settings.ABM_ENGAGEMENT_WINDOW_DAYS - 1)).date()
    last = EngagementHistory.objects.order_by("-date").values_list("date", flat=True).first()
    if last is None:
        return floor
    return max(floor, min(last, now.date()))


def _write_engagement(scores: pd.DataFrame, now: pd.Timestamp) -> None:
    _replace(
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
    _update_accounts(
        scores["account_id"].to_numpy(),
        scores["score"].round(4).to_numpy(),
        scores["spike"].to_numpy(),
    )


def _update_accounts(ids: np.ndarray, scores: np.ndarray, spikes: np.ndarray) -> None:
    """Copy each account's score and spike flag onto it, touching only rows that changed."""
    if connection.vendor != "postgresql":
        rows = [
            Account(pk=int(pk), engagement_score=float(score), spike=bool(spike))
            for pk, score, spike in zip(ids, scores, spikes, strict=True)
        ]
        Account.objects.bulk_update(rows, ["engagement_score", "spike"], batch_size=2_000)
        return
    from psycopg2.extras import execute_values

    table = connection.ops.quote_name(Account._meta.db_table)
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            f"UPDATE {table} AS a SET engagement_score = v.score, spike = v.spike "
            "FROM (VALUES %s) AS v (id, score, spike) WHERE a.id = v.id "
            "AND (a.engagement_score <> v.score OR a.spike <> v.spike)",
            list(zip(ids.tolist(), scores.tolist(), spikes.tolist(), strict=True)),
            template="(%s::bigint, %s::double precision, %s::boolean)",
            page_size=20_000,
        )


def _write_stages(changes: pd.DataFrame, now: pd.Timestamp) -> None:
    if changes.empty:
        return
    # A re-run as of the same instant replaces its own changes: A -> B then B -> C is A -> C.
    at_now = JourneyStageChange.objects.filter(changed_at=now)
    changing = set(changes["account_id"].tolist())
    replaced = {a: f for a, f in at_now.values_list("account_id", "from_stage") if a in changing}
    if replaced:
        at_now.filter(account_id__in=list(replaced)).delete()
        from_stage = changes["account_id"].map(replaced).fillna(changes["from_stage"])
        changes = changes.assign(from_stage=from_stage)
        moved = changes["from_stage"] != changes["to_stage"]
        changes.loc[~moved].pipe(_set_stages)
        changes = changes.loc[moved]
    _set_stages(changes)
    _insert(
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


def _set_stages(changes: pd.DataFrame) -> None:
    by_stage = changes.groupby("to_stage")["account_id"].apply(list)
    for stage, ids in by_stage.items():
        Account.objects.filter(pk__in=[int(i) for i in ids]).update(stage=stage)


_DIGEST_KEY = ["model", "kind", "opportunity_id"]
# Rewriting everything beats deleting by key once this share of the credits changed.
_REWRITE_SHARE = 0.5


def write_credits(credits: pd.DataFrame, *, rewrite: bool = False) -> int:
    """Store the credits, rewriting only those of (model, kind, deal) whose digest changed.

    The digest covers every stored column, so an unchanged digest means unchanged rows. A
    (model, kind) slice that mostly changed (Markov's, every run) is rewritten whole with one
    sequential delete; a few changed deals are deleted by key through the (account,
    opportunity) index. Returns the number of credit rows written.
    """
    digests = credit_digests(credits)
    if connection.vendor != "postgresql" or rewrite:
        return _rewrite_credits(credits, digests)
    old = loading.frame_from_queryset(
        CreditDigest.objects.order_by(),
        {c: c for c in ["model", "kind", "opportunity_id", "account_id", "digest", "rows"]},
    )
    if old.empty or int(old["rows"].sum()) != AttributionCredit.objects.count():
        return _rewrite_credits(credits, digests)
    # Nullable integers: an outer merge must not turn 64-bit digests into floats.
    both = digests.astype({"digest": "Int64"}).merge(
        old.astype({"digest": "Int64"}),
        on=_DIGEST_KEY,
        how="outer",
        suffixes=("", "_old"),
        indicator=True,
    )
    new, gone = both["_merge"] == "left_only", both["_merge"] == "right_only"
    differs = (both["_merge"] == "both") & (both["digest"] != both["digest_old"]).fillna(True)
    changed = new | gone | differs
    if changed.sum() > _REWRITE_SHARE * max(len(both), 1):
        return _rewrite_credits(credits, digests)
    share = changed.groupby([both["model"], both["kind"]]).mean()
    slices = [key for key, part in share.items() if part > _REWRITE_SHARE]
    in_slice = pd.MultiIndex.from_frame(both[["model", "kind"]]).isin(slices)
    stale = both.loc[(gone | differs) & ~in_slice]
    fresh = both.loc[(new | differs) & ~in_slice, _DIGEST_KEY]
    _delete_credit_slices(slices)
    _delete_credit_keys(
        pd.DataFrame(
            {
                "model": stale["model"].to_numpy(),
                "kind": stale["kind"].to_numpy(),
                "opportunity_id": stale["opportunity_id"].to_numpy(),
                "account_id": stale["account_id_old"].to_numpy(),
            }
        )
    )
    slice_rows = pd.MultiIndex.from_frame(credits[["model", "kind"]]).isin(slices)
    rows = pd.concat([credits.loc[slice_rows], credits.merge(fresh, on=_DIGEST_KEY)])
    digest_rows = pd.MultiIndex.from_frame(digests[["model", "kind"]]).isin(slices)
    _insert(AttributionCredit, rows[list(credits.columns)])
    _insert(
        CreditDigest,
        pd.concat([digests.loc[digest_rows], digests.merge(fresh, on=_DIGEST_KEY)])[
            list(digests.columns)
        ],
    )
    return len(rows)


def _rewrite_credits(credits: pd.DataFrame, digests: pd.DataFrame) -> int:
    _replace(CreditDigest.objects.all(), digests)
    return _replace(AttributionCredit.objects.all(), credits)


def _delete_credit_slices(slices: list[tuple[str, str]]) -> None:
    if not slices:
        return
    pairs = ", ".join(["(%s, %s)"] * len(slices))
    params = [value for pair in slices for value in pair]
    with connection.cursor() as cursor:
        for model in (AttributionCredit, CreditDigest):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE (model, kind) IN ({pairs})", params)


def credit_digests(credits: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, kind, opportunity): a 64-bit digest of its rows, and their number."""
    hashed = pd.util.hash_pandas_object(
        credits[
            [
                "account_id",
                "converted_at",
                "channel",
                "playbook_id",
                "weight",
                "credit",
                "touches",
            ]
        ],
        index=False,
    ).to_numpy()
    model, models = pd.factorize(credits["model"])
    kind, kinds = pd.factorize(credits["kind"])
    key = (credits["opportunity_id"].to_numpy() * len(models) + model) * len(kinds) + kind
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else order
    at = order[starts]
    # A sum is order-independent and wraps at 2**64: the digest of the group's set of rows.
    digest = np.add.reduceat(hashed[order], starts) if len(key) else hashed
    return pd.DataFrame(
        {
            "model": credits["model"].to_numpy()[at],
            "kind": credits["kind"].to_numpy()[at],
            "opportunity_id": credits["opportunity_id"].to_numpy()[at],
            "account_id": credits["account_id"].to_numpy()[at],
            "digest": digest.view(np.int64),
            "rows": np.diff(np.r_[starts, len(key)]),
        }
    )


def _delete_credit_keys(keys: pd.DataFrame) -> None:
    """Delete the credits and digests of these (model, kind, opportunity, account) keys."""
    if keys.empty:
        return
    credit_table = connection.ops.quote_name(AttributionCredit._meta.db_table)
    digest_table = connection.ops.quote_name(CreditDigest._meta.db_table)
    fields = {f.column: f for f in AttributionCredit._meta.concrete_fields}
    payload = copy_binary([_encode(keys[name], fields[name]) for name in keys.columns])
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE stale_credit_keys (model varchar(16), kind varchar(16), "
            "opportunity_id bigint, account_id bigint) ON COMMIT DROP"
        )
        cursor.cursor.copy_expert(
            "COPY stale_credit_keys (model, kind, opportunity_id, account_id) "
            "FROM STDIN WITH (FORMAT binary)",
            payload,
        )
        cursor.execute("ANALYZE stale_credit_keys")
        cursor.execute(
            f"DELETE FROM {credit_table} c USING stale_credit_keys k "
            "WHERE c.account_id = k.account_id AND c.opportunity_id = k.opportunity_id "
            "AND c.model = k.model AND c.kind = k.kind"
        )
        cursor.execute(
            f"DELETE FROM {digest_table} d USING stale_credit_keys k "
            "WHERE d.opportunity_id = k.opportunity_id AND d.model = k.model AND d.kind = k.kind"
        )
        cursor.execute("DROP TABLE stale_credit_keys")


def _replace(queryset: QuerySet, frame: pd.DataFrame) -> int:
    if connection.vendor != "postgresql":
        return replace_rows(queryset, frame)
    queryset._raw_delete(queryset.db)  # result tables: no signals or cascades, plain DELETE
    return _insert(queryset.model, frame)


def _insert(model: type[Model], frame: pd.DataFrame) -> int:
    if connection.vendor != "postgresql":
        return insert_rows(model, frame)
    if frame.empty:
        return 0
    fields = {f.column: f for f in model._meta.concrete_fields}
    columns = [(name, fields[name]) for name in frame.columns]
    payload = copy_binary([_encode(frame[name], f) for name, f in columns])
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(name) for name, _ in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {table} ({names}) FROM STDIN WITH (FORMAT binary)", payload
        )
    return len(frame)


# --- PostgreSQL binary COPY -------------------------------------------------------------------
# Text COPY of 1.5M credit rows spends more time formatting and parsing numbers and timestamps
# than storing them; the binary format is fixed-width big-endian fields numpy writes directly.

_PG_EPOCH = pd.Timestamp("2000-01-01", tz="UTC")
_PG_EPOCH_DAYS = 10_957  # 2000-01-01 in days since 1970-01-01
_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)


@dataclass
class _Column:
    """One encoded column: per-row field length (-1 for NULL) and per-row value."""

    lengths: np.ndarray  # int32
    values: np.ndarray  # fixed dtype per row; for text an "S<max>" array


def copy_binary(columns: list[_Column]) -> io.BytesIO:
    """A COPY ... (FORMAT binary) stream of the rows. Rows are grouped by their layout (the length
    of each field), so each group is one numpy structured array written in one go."""
    n = len(columns[0].lengths)
    lengths = np.stack([c.lengths for c in columns], axis=1)
    varying = [i for i in range(len(columns)) if (lengths[:, i] != lengths[0, i]).any()]
    key = np.zeros(n, dtype=np.int64)
    for i in varying:  # lengths are small: pack them into one integer per row
        key = key * (int(lengths[:, i].max()) + 2) + lengths[:, i] + 1
    layout, layouts = pd.factorize(key)
    chunks = [_HEADER]
    order = np.argsort(layout, kind="stable")
    bounds = np.searchsorted(layout[order], np.arange(len(layouts) + 1))
    for g in range(len(layouts)):
        rows = order[bounds[g] : bounds[g + 1]]
        first = lengths[rows[0]]
        spec = [("n", ">i2")]
        for i, column in enumerate(columns):
            spec.append((f"l{i}", ">i4"))
            if first[i] > 0:  # NULL (-1) and empty text (0) carry no bytes
                spec.append((f"v{i}", _field_dtype(column.values.dtype, int(first[i]))))
        record = np.empty(len(rows), dtype=spec)
        record["n"] = len(columns)
        for i, column in enumerate(columns):
            record[f"l{i}"] = first[i]
            if first[i] > 0:
                record[f"v{i}"] = column.values[rows]
        chunks.append(record.tobytes())
    chunks.append(b"\xff\xff")
    return io.BytesIO(b"".join(chunks))


def _field_dtype(dtype: np.dtype, length: int):
    if dtype.kind == "S":
        return f"S{length}"
    return dtype


def _encode(series: pd.Series, model_field) -> _Column:
    kind = model_field.get_internal_type()
    null = series.isna().to_numpy()
    if kind == "JSONField":
        text = [None if v is None else b"\x01" + json.dumps(v).encode() for v in series]
        return _text(np.array(text, dtype=object), null=np.array([t is None for t in text]))
    if kind in ("CharField", "TextField"):
        return _text(series, null=null)
    if kind == "BooleanField":
        return _fixed(series.fillna(False).to_numpy(dtype=bool), "?", null)
    if kind == "FloatField":
        return _fixed(series.to_numpy(dtype=float, na_value=np.nan), ">f8", null)
    if kind == "DecimalField":
        return _numeric(series.to_numpy(dtype=float, na_value=np.nan), model_field, null)
    if kind == "DateTimeField":
        stamps = pd.DatetimeIndex(pd.to_datetime(series, utc=True))
        micros = (stamps - _PG_EPOCH) // pd.Timedelta(microseconds=1)
        return _fixed(np.asarray(micros.fillna(0), dtype=np.int64), ">i8", null)
    if kind == "DateField":
        days = pd.to_datetime(series).to_numpy().astype("datetime64[D]").astype(np.int64)
        return _fixed(days - _PG_EPOCH_DAYS, ">i4", null)
    # Integers and foreign keys: the width of the column PostgreSQL has.
    db_type = model_field.db_type(connection).split()[0]
    width = {"bigint": ">i8", "integer": ">i4", "smallint": ">i2"}[db_type]
    if pd.api.types.is_float_dtype(series):  # nullable ids read as floats: exact below 2**53
        values = np.nan_to_num(series.to_numpy(dtype=float)).astype(np.int64)
    else:
        values = pd.array(series, dtype="Int64").to_numpy(dtype=np.int64, na_value=0)
    return _fixed(values, width, null)


def _fixed(values: np.ndarray, dtype: str, null: np.ndarray) -> _Column:
    dtype = np.dtype(dtype)
    lengths = np.where(null, -1, dtype.itemsize).astype(np.int32)
    return _Column(lengths, values.astype(dtype))


def _text(series, *, null: np.ndarray) -> _Column:
    codes, uniques = pd.factorize(pd.Series(series, dtype=object), use_na_sentinel=True)
    encoded = [u if isinstance(u, bytes) else str(u).encode() for u in uniques]
    table = np.array(encoded + [b""], dtype=f"S{max([len(e) for e in encoded] + [1])}")
    sizes = np.array([len(e) for e in encoded] + [-1], dtype=np.int32)
    lengths = sizes[codes]
    lengths[null] = -1
    return _Column(lengths, table[codes])


def _numeric(values: np.ndarray, model_field, null: np.ndarray) -> _Column:
    """NUMERIC as base-10000 digit groups: a fixed count per row (PostgreSQL strips the leading
    and trailing zero groups), the scale a whole group so rounding stays decimal."""
    scale = model_field.decimal_places
    fraction_groups = math.ceil(scale / 4)
    integer_groups = math.ceil((model_field.max_digits - scale) / 4)
    groups = integer_groups + fraction_groups
    if model_field.max_digits + 4 * fraction_groups - scale > 18:
        raise ValueError(f"{model_field} is too wide for int64 digit groups")
    # Whole and fractional parts apart: x * 10**scale in floats loses the last digit of large x.
    magnitude = np.abs(np.nan_to_num(values))
    whole = np.floor(magnitude)
    part = np.rint((magnitude - whole) * 10**scale).astype(np.int64)
    scaled = whole.astype(np.int64) * 10**scale + part
    scaled *= 10 ** (4 * fraction_groups - scale)
    record = np.zeros((len(values), 4 + groups), dtype=">i2")
    record[:, 0] = groups
    record[:, 1] = integer_groups - 1  # weight of the first group
    record[:, 2] = np.where(values < 0, 0x4000, 0)
    record[:, 3] = scale
    for g in range(groups):
        record[:, 4 + g] = (scaled // 10_000 ** (groups - 1 - g)) % 10_000
    lengths = np.where(null, -1, 2 * (4 + groups)).astype(np.int32)
    return _Column(lengths, record.view(np.dtype((np.void, 2 * (4 + groups)))).ravel())


@contextmanager
def _exclusive() -> Iterator[None]:
    """Serialise recomputes on PostgreSQL: a second one waits rather than interleaving writes."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


def _month_start(now: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(year=now.year, month=now.month, day=1)


def _progress(run: Job | None, phase: str, percent: int) -> None:
    if run is not None:
        run_progress(run, phase=phase, percent=percent)


def recompute_enqueue(*, by=None) -> Job:
    return run_enqueue(kind=RunKind.FULL, task="metrics.recompute_all", requested_by=by)
