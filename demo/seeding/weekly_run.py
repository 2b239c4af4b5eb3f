"""A year of playbooks run week by week through the production services.

Each simulated week: the enrolment waves due are enrolled (`enrol_accounts(now=...)`); journey
stages are evaluated as of the week's end with the metrics engine's pure functions (engagement
score, then the stage rules) and written as the recompute writes them (account stage and a stage
change row); `run_playbooks(now=...)` advances enrolments and creates the tasks due; each new task
is then done (mostly on time), skipped, or left open, and the work done records its activity as
`task_complete` does; the accounts answer it (opens, clicks, meetings) as they answer any touch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from django.conf import settings

from accounts.models import Account
from demo.seeding.activities import _responses
from demo.seeding.catalogue import (
    CH,
    CHANNELS,
    DAY,
    HOUR,
    IS_OUTBOUND_KIND,
    KD,
    KINDS,
    PLAYBOOK_RESPONSE_BOOST,
    SENIORITIES,
)
from demo.seeding.columns import _Accounts, _Clock, _Opportunities, _Touches
from demo.seeding.playbooks_simulation import Wave
from demo.seeding.task_completion import complete_tasks
from metrics import engagement, stages
from metrics.engine.params import EngineParams
from metrics.models import JourneyStageChange
from playbooks.enrolment import enrol_accounts
from playbooks.models import OwnerRole, Task, TaskStatus
from playbooks.tasking import run_playbooks

WEEK = 7 * DAY
# What becomes of a task: done on time, done late, skipped; the rest is forgotten (left open,
# then skipped at the monthly review if still open a few weeks after it was due).
TASK_OUTCOMES = (0.82, 0.08, 0.07)
# Median hours from due to done, for marketing and for sales tasks (reps batch their calls).
ON_TIME_HOURS = {OwnerRole.MARKETING: 48.0, OwnerRole.SALES: 96.0}
LATE_DAYS = 9.0  # median delay of a late task
REVIEW_DAYS = 21


def run_year(
    *,
    rng: np.random.Generator,
    acc: _Accounts,
    touches: _Touches,
    opps: _Opportunities,
    waves: list[Wave],
    marketer,
    clock: _Clock,
    progress: Callable[[str], None],
) -> tuple[_Touches, int]:
    """Run the weeks; the answers to the tasks' touches (not yet written), and tasks created."""
    index = {int(pk): i for i, pk in enumerate(acc.ids.tolist())}
    frame = _activity_frame(acc, touches)
    tier = pd.Series(np.where(acc.group > 0, acc.group, np.nan), index=acc.ids)
    stage_now = pd.Series("", index=pd.Index(acc.ids, name="account_id"), dtype=object)
    answers, created = [], 0
    pending = sorted(waves, key=lambda w: (w.at, w.playbook.pk))
    week_ends = list(range(clock.first_day * DAY + WEEK, clock.now_s, WEEK)) + [clock.now_s]
    for end_s in week_ends:
        now = datetime.fromtimestamp(end_s, UTC)
        while pending and pending[0].at <= now:
            wave = pending.pop(0)
            enrol_accounts(
                playbook=wave.playbook,
                account_ids=wave.account_ids,
                by=marketer,
                seed=wave.seed,
                now=wave.at,
                queue_tasks=False,
            )
        stage_now = _write_stages(frame, tier, opps, acc, stage_now, end_s, now)
        before = Task.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        run_playbooks(now=now)
        new = list(Task.objects.filter(pk__gt=before).select_related("step").order_by("pk"))
        created += len(new)
        done = _settle(rng=rng, tasks=new, clock=clock)
        if done:
            work = _task_touches(done, index)
            answered = _responses(
                rng=rng, acc=acc, touches=work, boost=PLAYBOOK_RESPONSE_BOOST, clock=clock
            )
            answers.append(answered)
            frame = pd.concat(
                [frame, _activity_frame(acc, work), _activity_frame(acc, answered)],
                ignore_index=True,
            )
    progress(f"  {'weeks simulated':<28}{len(week_ends):>12,}")
    empty = touches.take(np.zeros(0, dtype=np.int64))
    return _Touches.concat([empty, *answers]), created


def _settle(*, rng: np.random.Generator, tasks: list[Task], clock: _Clock) -> list:
    """Decide each new task's fate; complete or skip those whose moment has come."""
    if not tasks:
        return []
    due = np.array([int(t.due_at.timestamp()) for t in tasks], dtype=np.int64)
    hours = np.array([ON_TIME_HOURS[t.owner_role] for t in tasks])
    u = rng.random(len(tasks))
    on_time, late, skipped = np.cumsum(TASK_OUTCOMES)
    delay = np.where(
        u < on_time,
        rng.lognormal(np.log(hours * HOUR), 0.8),
        rng.lognormal(np.log(LATE_DAYS * DAY), 0.5, len(tasks)),
    )
    delay = np.where(u < skipped, delay, REVIEW_DAYS * DAY).astype(np.int64)
    at = due + np.maximum(delay, 10 * 60)
    completing, skipping = [], []
    for task, moment, draw in zip(tasks, at.tolist(), u.tolist(), strict=True):
        if moment >= clock.now_s:
            continue  # still open today
        when = datetime.fromtimestamp(moment, UTC)
        (completing if draw < late else skipping).append((task, when))
    for task, when in skipping:
        Task.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(
            status=TaskStatus.SKIPPED, completed_at=when, completed_by=task.assignee_id
        )
    return complete_tasks(completing)


def _task_touches(done: list, index: dict[int, int]) -> _Touches:
    """The activities `complete_tasks` wrote, as columns for the answers and the scores."""
    size = len(done)
    return _Touches(
        account=np.array([index[a.account_id] for a in done], dtype=np.int64),
        at=np.array([int(a.occurred_at.timestamp()) for a in done], dtype=np.int64),
        channel=np.array([CH[a.channel] for a in done], dtype=np.int64),
        kind=np.array([KD[a.kind] for a in done], dtype=np.int64),
        contact=np.array([a.contact_id or -1 for a in done], dtype=np.int64),
        step=np.array([a.step_id or -1 for a in done], dtype=np.int64),
        cost=np.array([float(a.cost) for a in done]),
        duration=np.full(size, -1, dtype=np.int64),
    )


def _activity_frame(acc: _Accounts, t: _Touches) -> pd.DataFrame:
    """Touches as the engine's loader gives activities (metrics/engine/loading.py)."""
    known = t.contact >= 0
    position = np.where(known, t.contact - acc.contact_first[0], 0)
    seniority = np.asarray(SENIORITIES, dtype=object)[acc.contact_seniority[position]]
    return pd.DataFrame(
        {
            "activity_id": np.zeros(len(t), dtype=np.int64),
            "account_id": acc.ids[t.account],
            "contact_id": np.where(known, t.contact, np.nan),
            "seniority": pd.Series(seniority).where(known, None),
            "channel": np.asarray(CHANNELS, dtype=object)[t.channel],
            "kind": np.asarray(KINDS, dtype=object)[t.kind],
            "direction": np.where(IS_OUTBOUND_KIND[t.kind], "outbound", "inbound").astype(object),
            "occurred_at": pd.to_datetime(t.at, unit="s", utc=True),
        }
    )


def _write_stages(frame, tier, opps, acc, previous: pd.Series, end_s: int, now: datetime):
    """Journey stages at the week's end by the engine's rules, written as the recompute does."""
    params = EngineParams.from_settings(settings)
    at = pd.Timestamp(now)
    window = pd.Timedelta(days=params.engagement_window_days)
    recent = frame.loc[(frame["occurred_at"] > at - window) & (frame["occurred_at"] <= at)]
    scores = engagement.score_accounts(recent, at, **params.scoring_kwargs()).set_index(
        "account_id"
    )
    inbound = set(recent.loc[recent["direction"] == "inbound", "account_id"].tolist())
    created = opps.created_s <= end_s
    open_ = created & ((opps.closed_s < 0) | (opps.closed_s > end_s))
    won = created & opps.won & (opps.closed_s <= end_s)
    accounts = pd.DataFrame(
        {
            "account_id": acc.ids,
            "tier": tier.to_numpy(),
            "has_inbound_90d": np.isin(acc.ids, list(inbound)),
            "score": scores["score"].reindex(acc.ids).fillna(0).to_numpy(),
            "engaged_contacts": scores["engaged_contacts"].reindex(acc.ids).fillna(0).to_numpy(),
            "has_open_opportunity": np.isin(acc.ids, acc.ids[opps.account[open_]]),
            "has_won_opportunity": np.isin(acc.ids, acc.ids[opps.account[won]]),
        }
    )
    current = stages.journey_stages(
        accounts,
        engaged_score=params.engaged_score,
        mqa_score=params.mqa_score,
        mqa_min_contacts=params.mqa_min_engaged_contacts,
    )
    changes = stages.stage_changes(previous, current)
    if len(changes):
        JourneyStageChange.objects.bulk_create(
            [
                JourneyStageChange(
                    account_id=row.account_id,
                    from_stage=row.from_stage,
                    to_stage=row.to_stage,
                    changed_at=now,
                )
                for row in changes.itertuples()
            ],
            batch_size=2_000,
        )
        for to_stage, group in changes.groupby("to_stage"):
            Account.objects.filter(pk__in=group["account_id"].tolist()).update(stage=to_stage)
    return current
