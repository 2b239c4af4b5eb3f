"""Opportunities with their stage history, and leads with their follow-ups."""

from __future__ import annotations

import numpy as np
import pandas as pd

from abm.lib.channels import Channel
from accounts.models import (
    Lead,
    LeadStatus,
    Opportunity,
    OpportunitySource,
    OpportunityStage,
    OpportunityStageChange,
)
from demo.seeding.bulk_writing import _insert, _next_id
from demo.seeding.catalogue import (
    CH,
    CHANNELS,
    CREATION_PULL,
    CYCLE_DAYS_MEDIAN,
    DAY,
    DEAL_SIZE_MEDIAN,
    ENGAGEMENT_DAYS,
    GROUPS,
    HOUR,
    IS_OUTBOUND_KIND,
    KD,
    LEAD_KINDS,
    LEAD_SHARE,
    OPEN_STAGES,
    OPPORTUNITIES_PER_ACCOUNT,
    OPPORTUNITY_CANDIDATES,
    OUTBOUND_TOUCHES,
    PRODUCTS,
    SALES_CHANNELS,
    UNREACHED_OPPORTUNITIES_PER_ACCOUNT,
    WIN_PULL,
    WIN_RATE,
    WIN_TIER_BONUS,
)
from demo.seeding.columns import _Accounts, _Clock, _Opportunities, _Touches
from demo.seeding.sampling import (
    _calibrate,
    _Keyed,
    _pick_per_channel,
    _sigmoid,
    _time_of_day,
    _to_weekday,
)

# --- opportunities and leads -------------------------------------------------------------------


def _opportunities(
    *, rng: np.random.Generator, acc: _Accounts, touches: _Touches, clock: _Clock
) -> _Opportunities:
    first, last = clock.first_day, clock.last_day
    inbound = ~IS_OUTBOUND_KIND[touches.kind]
    answers = _Keyed(touches.account[inbound], touches.at[inbound])
    marketing = inbound & ~np.isin(touches.channel, [CH[c] for c in SALES_CHANNELS])
    marketing_answers = _Keyed(touches.account[marketing], touches.at[marketing])

    # Candidate moments, half of them just after the account's research burst; the engagement of
    # the 90 days before each decides whether it becomes an opportunity.
    group = acc.group
    count = rng.poisson(np.asarray(OPPORTUNITY_CANDIDATES)[group])
    account = np.repeat(np.arange(len(acc.ids)), count)
    size = len(account)
    after_burst = acc.burst_day[account] + rng.integers(0, 40, size)
    day = np.where(
        rng.random(size) < 0.5, np.minimum(after_burst, last), rng.integers(first, last + 1, size)
    )
    day = _to_weekday(rng=rng, days=day, low=first, high=last)
    created = day * DAY + _time_of_day(rng=rng, size=size, business=True)
    engagement = np.log1p(answers.count_before(account, created, seconds=ENGAGEMENT_DAYS * DAY))
    pull = CREATION_PULL * engagement
    chance = np.zeros(size)
    # Accounts marketing never reached are a group of their own: their deals come from sales.
    calibration = np.where(acc.reached, group, GROUPS)
    rates = (*OPPORTUNITIES_PER_ACCOUNT, UNREACHED_OPPORTUNITIES_PER_ACCOUNT)
    for g, rate in enumerate(rates):
        mask = calibration[account] == g
        offset = _calibrate(pull[mask], rate * (calibration == g).sum())
        chance[mask] = _sigmoid(offset + pull[mask])
    keep = np.flatnonzero(rng.random(size) < chance)
    account, created, engagement = account[keep], created[keep], engagement[keep]
    order = np.lexsort((account, created))
    account, created, engagement = account[order], created[order], engagement[order]
    size = len(account)
    tier_group = group[account]

    bonus = np.asarray(WIN_TIER_BONUS)[tier_group] + WIN_PULL * engagement
    wins = rng.random(size) < _sigmoid(_calibrate(bonus, WIN_RATE * size) + bonus)
    # Lost deals drop out after qualification .. negotiation; won ones pass all four.
    lost_after = rng.choice(4, size=size, p=[0.35, 0.3, 0.2, 0.15])
    last_open = np.where(wins, 3, lost_after)
    cycle = np.asarray(CYCLE_DAYS_MEDIAN)[tier_group] * rng.lognormal(0, 0.45, size)
    cycle_s = np.clip(cycle, 10, 400) * DAY
    shares = np.cumsum(rng.dirichlet([2, 3, 3, 2], size), axis=1)
    moments = created[:, None] + np.round(
        np.hstack([np.zeros((size, 1)), shares]) * cycle_s[:, None]
    ).astype(np.int64)
    # At least an hour between two stage changes, so the history is strictly ordered.
    hours = np.arange(5) * HOUR
    moments = np.maximum.accumulate(moments - hours, axis=1) + hours
    end = moments[np.arange(size), last_open + 1]
    closed = end < clock.now_s
    reached = np.where(closed, last_open, np.sum(moments[:, :4] < clock.now_s, axis=1) - 1)
    reached = np.minimum(reached, last_open)
    stage_values = np.asarray(
        [*OPEN_STAGES, OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST], dtype=object
    )
    final = np.where(wins, 4, 5)
    stage = np.where(closed, final, reached)
    closed_at = np.where(closed, end, -1)
    expected = np.where(closed, end, created + cycle_s.astype(np.int64))

    amount = np.asarray(DEAL_SIZE_MEDIAN)[tier_group] * rng.lognormal(0, 0.6, size)
    amount *= (np.maximum(acc.employees[account], 50) / 1000) ** 0.15
    amount = np.maximum(np.round(amount, -2), 1_000.0)
    touched = marketing_answers.count_before(account, created, seconds=ENGAGEMENT_DAYS * DAY) > 0
    source = np.where(
        touched,
        rng.choice(4, size=size, p=[0.55, 0.33, 0.08, 0.04]),
        rng.choice(4, size=size, p=[0.0, 0.78, 0.14, 0.08]),
    )
    sources = np.asarray(
        [
            OpportunitySource.MARKETING,
            OpportunitySource.SALES,
            OpportunitySource.PARTNER,
            OpportunitySource.OTHER,
        ],
        dtype=object,
    )
    product = rng.integers(0, len(PRODUCTS), size)
    ids = _next_id(Opportunity) + np.arange(size, dtype=np.int64)
    _insert(
        model=Opportunity,
        columns={
            "id": ids,
            "account": acc.ids[account],
            "name": [
                f"{acc.names[a]} - {PRODUCTS[p]}"
                for a, p in zip(account.tolist(), product.tolist(), strict=True)
            ],
            "amount": amount,
            "stage": stage_values[stage],
            "created_at": created,
            "close_date": expected // DAY,
            "closed_at": closed_at,
            "source": sources[source],
            "external_id": [f"OPP-{n:06d}" for n in range(1, size + 1)],
            "updated_at": clock.now_s,
        },
    )

    # Stage history: one row per open stage entered, then the close.
    rows = np.arange(5)[None, :] <= np.where(closed, last_open + 1, reached)[:, None]
    which, position = np.nonzero(rows)
    is_close = position > last_open[which]
    to_stage = np.where(is_close, final[which], position)
    from_stage = np.where(position == 0, -1, np.where(is_close, last_open[which], position - 1))
    _insert(
        model=OpportunityStageChange,
        columns={
            "id": _next_id(OpportunityStageChange) + np.arange(len(which), dtype=np.int64),
            "opportunity": ids[which],
            "from_stage": np.where(from_stage < 0, "", stage_values[from_stage]).astype(object),
            "to_stage": stage_values[to_stage],
            "changed_at": moments[which, position],
        },
    )
    return _Opportunities(account=account, created_s=created, closed_s=closed_at, won=closed & wins)


def _leads(
    *,
    rng: np.random.Generator,
    acc: _Accounts,
    touches: _Touches,
    opps: _Opportunities,
    clock: _Clock,
) -> tuple[_Touches, int]:
    """Hand-offs of hand-raisers to sales, and the sales touches that followed them up."""
    hand_raise = np.isin(touches.kind, [KD[k] for k in LEAD_KINDS]) & (touches.contact >= 0)
    candidate = np.flatnonzero(hand_raise)
    share = np.asarray(LEAD_SHARE)[acc.group[touches.account[candidate]]]
    candidate = candidate[rng.random(len(candidate)) < share]
    # One hand-off per contact (the first), at most three per account.
    frame = pd.DataFrame(
        {
            "i": candidate,
            "at": touches.at[candidate],
            "contact": touches.contact[candidate],
            "account": touches.account[candidate],
        }
    ).sort_values(["at", "i"], kind="stable")
    frame = frame.drop_duplicates("contact")
    frame = frame[frame.groupby("account").cumcount() < 3]
    source = touches.take(frame["i"].to_numpy())
    handed = source.at + rng.integers(HOUR // 2, 6 * HOUR, len(source))
    source = source.take(np.flatnonzero(handed < clock.now_s))
    handed = handed[handed < clock.now_s]
    size = len(source)

    u = rng.random(size)
    fast = np.minimum(np.round(8 * HOUR * rng.lognormal(0, 0.9, size)), 47 * HOUR)
    slow = 48 * HOUR + np.round(5 * DAY * rng.lognormal(0, 0.8, size))
    delay = np.where(u < 0.45, fast, slow).astype(np.int64)
    follow_up = handed + np.maximum(delay, 10 * 60)
    followed = (u < 0.7) & (follow_up < clock.now_s)
    follow_up = np.where(followed, follow_up, -1)

    created = _Keyed(opps.account, opps.created_s)
    converted = created.count_before(source.account, handed + 60 * DAY, seconds=60 * DAY) > 0
    status = np.where(
        ~followed,
        LeadStatus.NEW,
        np.where(
            converted,
            LeadStatus.QUALIFIED,
            np.where(rng.random(size) < 0.55, LeadStatus.WORKING, LeadStatus.DISQUALIFIED),
        ),
    ).astype(object)
    _insert(
        model=Lead,
        columns={
            "id": _next_id(Lead) + np.arange(size, dtype=np.int64),
            "account": acc.ids[source.account],
            "contact": source.contact,
            "source_channel": np.asarray(CHANNELS, dtype=object)[source.channel],
            "handed_off_at": handed,
            "first_follow_up_at": follow_up,
            "status": status,
            "external_id": [f"LEAD-{n:06d}" for n in range(1, size + 1)],
        },
    )

    # The first sales touch on the contact, at the recorded follow-up moment.
    done = np.flatnonzero(followed)
    channel = np.where(rng.random(len(done)) < 0.65, CH[Channel.SDR_OUTREACH], CH[Channel.PHONE])
    kind = _pick_per_channel(
        rng=rng,
        channel=channel,
        table={c: OUTBOUND_TOUCHES[c] for c in SALES_CHANNELS},
    )
    follow_ups = _Touches(
        account=source.account[done],
        at=follow_up[done],
        channel=channel,
        kind=kind,
        contact=source.contact[done],
        step=np.full(len(done), -1, dtype=np.int64),
        cost=np.zeros(len(done)),
        duration=np.full(len(done), -1, dtype=np.int64),
    )
    return follow_ups, size
