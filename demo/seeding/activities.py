"""Touches: what we send, what accounts do on their own, and how they answer."""

from __future__ import annotations

import numpy as np

from abm.lib.channels import ActivityKind, Channel, Direction
from demo.seeding.bulk_writing import _indexes_rebuilt, _insert, _next_id
from demo.seeding.catalogue import (
    CH,
    CHANNELS,
    DAY,
    INBOUND_CHANNELS,
    INBOUND_MIX,
    INBOUND_PER_YEAR,
    INBOUND_TOUCHES,
    IS_OUTBOUND_KIND,
    KD,
    KINDS,
    OUTBOUND_CHANNELS,
    OUTBOUND_MIX,
    OUTBOUND_PER_YEAR,
    OUTBOUND_TOUCHES,
    PLAYBOOK_PER_YEAR,
    PLAYBOOK_RESPONSE_BOOST,
    RESPONSE_DELAY,
    RESPONSES,
    UNREACHED_SHARE,
    WINDOW_DAYS,
)
from demo.seeding.columns import _Accounts, _Clock, _Enrolments, _Programme, _Touches
from demo.seeding.sampling import (
    _costs,
    _pick_contacts,
    _pick_per_channel,
    _pick_per_group,
    _time_of_day,
    _to_weekday,
)
from playbooks.models import (
    Activity,
    ActivitySource,
)

# --- activities --------------------------------------------------------------------------------


def _activities(
    *,
    rng: np.random.Generator,
    acc: _Accounts,
    enrol: _Enrolments,
    programmes: dict[int, _Programme],
    clock: _Clock,
) -> _Touches:
    parts = []
    first, last = clock.first_day, clock.last_day

    # Always-on outbound (newsletters, ads, prospecting), over the whole year.
    # Some non-target accounts are not in our marketing database at all: deals there come from
    # sales and partners alone, so not every opportunity is marketing-influenced.
    reached = (acc.group > 0) | (rng.random(len(acc.ids)) >= UNREACHED_SHARE)
    acc.reached = reached
    count = rng.poisson(np.asarray(OUTBOUND_PER_YEAR)[acc.group] * reached)
    account = np.repeat(np.arange(len(acc.ids)), count)
    channel = _pick_per_group(
        rng=rng, group=acc.group[account], choices=OUTBOUND_CHANNELS, mix=OUTBOUND_MIX
    )
    day = rng.integers(first, last + 1, len(account))
    background = _outbound(
        rng=rng,
        acc=acc,
        account=account,
        channel=channel,
        day=day,
        step=np.full(len(account), -1),
        clock=clock,
    )
    parts += [background, _responses(rng=rng, acc=acc, touches=background, boost=1.0, clock=clock)]

    # What accounts do unprompted: visits, downloads, events; partly in a burst of research.
    count = rng.poisson(np.asarray(INBOUND_PER_YEAR)[acc.group] * acc.interest * reached)
    account = np.repeat(np.arange(len(acc.ids)), count)
    channel = _pick_per_group(
        rng=rng, group=acc.group[account], choices=INBOUND_CHANNELS, mix=INBOUND_MIX
    )
    in_burst = rng.random(len(account)) < 0.45
    burst = np.round(acc.burst_day[account] + rng.normal(0, 18, len(account))).astype(np.int64)
    day = np.where(
        in_burst, np.clip(burst, first, last), rng.integers(first, last + 1, len(account))
    )
    parts.append(
        _inbound(
            rng=rng,
            acc=acc,
            account=account,
            channel=channel,
            day=day,
            step=np.full(len(account), -1),
            clock=clock,
        )
    )

    # Playbook touches for enrolled accounts outside the holdout, after enrolment.
    treated = np.flatnonzero(~enrol.holdout)
    enrolled_day = enrol.enrolled_s[treated] // DAY
    share_of_year = (last - enrolled_day) / WINDOW_DAYS
    count = rng.poisson(np.asarray(PLAYBOOK_PER_YEAR)[enrol.tier[treated]] * share_of_year)
    which = np.repeat(treated, count)
    account = enrol.account[which]
    step = np.full(len(which), -1, dtype=np.int64)
    channel = np.empty(len(which), dtype=np.int64)
    for number, programme in programmes.items():
        mask = enrol.tier[which] == number
        pick = rng.choice(len(programme.step_ids), size=mask.sum(), p=programme.step_weights)
        step[mask] = programme.step_ids[pick]
        channel[mask] = programme.step_channels[pick]
    start = enrol.enrolled_s[which] // DAY + 1
    day = start + (rng.random(len(which)) * (last + 1 - start)).astype(np.int64)
    is_outbound = np.isin(channel, [CH[c] for c in OUTBOUND_CHANNELS])
    sent = _outbound(
        rng=rng,
        acc=acc,
        account=account[is_outbound],
        channel=channel[is_outbound],
        day=day[is_outbound],
        step=step[is_outbound],
        clock=clock,
    )
    # An invitation to an event or a landing page only shows when the account takes it up.
    taken = ~is_outbound & (rng.random(len(which)) < np.minimum(0.9, 0.5 * acc.interest[account]))
    parts += [
        sent,
        _responses(rng=rng, acc=acc, touches=sent, boost=PLAYBOOK_RESPONSE_BOOST, clock=clock),
        _inbound(
            rng=rng,
            acc=acc,
            account=account[taken],
            channel=channel[taken],
            day=day[taken],
            step=step[taken],
            clock=clock,
        ),
    ]
    return _Touches.concat(parts)


def _outbound(
    *,
    rng: np.random.Generator,
    acc: _Accounts,
    account: np.ndarray,
    channel: np.ndarray,
    day: np.ndarray,
    step: np.ndarray,
    clock: _Clock,
) -> _Touches:
    size = len(account)
    kind = _pick_per_channel(rng=rng, channel=channel, table=OUTBOUND_TOUCHES)
    day = _to_weekday(rng=rng, days=day, low=clock.first_day, high=clock.last_day)
    at = day * DAY + _time_of_day(rng=rng, size=size, business=True)
    personal = kind != KD[ActivityKind.AD_IMPRESSION]
    return _made(
        rng=rng,
        acc=acc,
        account=account,
        at=at,
        channel=channel,
        kind=kind,
        step=step,
        known=personal,
    )


def _inbound(
    *,
    rng: np.random.Generator,
    acc: _Accounts,
    account: np.ndarray,
    channel: np.ndarray,
    day: np.ndarray,
    step: np.ndarray,
    clock: _Clock,
) -> _Touches:
    size = len(account)
    kind = _pick_per_channel(rng=rng, channel=channel, table=INBOUND_TOUCHES)
    # Events and webinars happen on weekdays; people browse at weekends too.
    weekday_share = np.where(np.isin(channel, [CH[Channel.EVENT], CH[Channel.WEBINAR]]), 1.0, 0.7)
    day = _to_weekday(
        rng=rng, days=day, low=clock.first_day, high=clock.last_day, share=weekday_share
    )
    at = day * DAY + _time_of_day(rng=rng, size=size, business=False)
    anonymous = np.isin(kind, [KD[ActivityKind.WEB_VISIT], KD[ActivityKind.INTENT_SIGNAL]])
    known = ~anonymous | ((kind == KD[ActivityKind.WEB_VISIT]) & (rng.random(size) < 0.35))
    return _made(
        rng=rng, acc=acc, account=account, at=at, channel=channel, kind=kind, step=step, known=known
    )


def _made(*, rng, acc: _Accounts, account, at, channel, kind, step, known) -> _Touches:
    """Touches with their contacts (where ``known``) and costs; no duration (not a call)."""
    return _Touches(
        account=account,
        at=at,
        channel=channel,
        kind=kind,
        contact=_pick_contacts(rng=rng, acc=acc, account=account, mask=known),
        step=step,
        cost=_costs(rng=rng, channel=channel, kind=kind),
        duration=np.full(len(account), -1, dtype=np.int64),
    )


def _responses(
    *, rng: np.random.Generator, acc: _Accounts, touches: _Touches, boost: float, clock: _Clock
) -> _Touches:
    rate = np.zeros(len(CHANNELS))
    for channel, (base, _) in RESPONSES.items():
        rate[CH[channel]] = base
    chance = np.minimum(0.95, rate[touches.channel] * acc.interest[touches.account] * boost)
    answered = touches.take(np.flatnonzero(rng.random(len(touches)) < chance))
    size = len(answered)
    kind = _pick_per_channel(
        rng=rng, channel=answered.channel, table={c: kinds for c, (_, kinds) in RESPONSES.items()}
    )
    median = np.ones(len(KINDS))
    for response_kind, seconds in RESPONSE_DELAY.items():
        median[KD[response_kind]] = seconds
    delay = np.round(median[kind] * rng.lognormal(0, 0.8, size)).astype(np.int64)
    at = answered.at + np.maximum(delay, 1)
    # Someone clicked an ad: sometimes we know who. Intent is about the account, not a person.
    contact = np.where(
        answered.contact >= 0,
        answered.contact,
        _pick_contacts(rng=rng, acc=acc, account=answered.account, mask=rng.random(size) < 0.3),
    )
    contact[kind == KD[ActivityKind.INTENT_SIGNAL]] = -1
    duration = np.full(size, -1, dtype=np.int64)
    meeting = kind == KD[ActivityKind.MEETING]
    duration[meeting] = rng.choice([30, 45, 60], size=meeting.sum(), p=[0.5, 0.2, 0.3])
    call = kind == KD[ActivityKind.CALL_CONNECTED]
    duration[call] = rng.integers(3, 25, call.sum())
    result = _Touches(
        account=answered.account,
        at=at,
        channel=answered.channel,
        kind=kind,
        contact=contact,
        step=answered.step,
        cost=np.zeros(size),
        duration=duration,
    )
    return result.take(np.flatnonzero(at < clock.now_s))


def _write_activities(
    *, touches: _Touches, acc: _Accounts, clock: _Clock, prefix: str = "demo"
) -> int:
    order = np.lexsort((touches.kind, touches.account, touches.at))
    t = touches.take(order)
    size = len(t)
    direction = np.where(IS_OUTBOUND_KIND[t.kind], Direction.OUTBOUND, Direction.INBOUND)
    kinds = np.asarray(KINDS, dtype=object)
    with _indexes_rebuilt(Activity):
        _insert(
            model=Activity,
            columns={
                "id": _next_id(Activity) + np.arange(size, dtype=np.int64),
                "account": acc.ids[t.account],
                "contact": t.contact,
                "channel": np.asarray(CHANNELS, dtype=object)[t.channel],
                "kind": kinds[t.kind],
                "direction": direction.astype(object),
                "occurred_at": t.at,
                "cost": t.cost,
                "step": t.step,
                "source": ActivitySource.IMPORT,
                # Zero-padded so that text order is creation order.
                "external_id": [f"{prefix}-{n:07d}" for n in range(1, size + 1)],
                "duration_minutes": t.duration,
                "notes": "",
                "created_at": clock.now_s,
            },
        )
    return size
