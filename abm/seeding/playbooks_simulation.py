"""The demo playbooks and their enrolments."""

from __future__ import annotations

import numpy as np

from abm.models import User
from abm.seeding.bulk_writing import _insert, _next_id
from abm.seeding.catalogue import CH, DAY, IS_OUTBOUND_KIND, PLAYBOOKS, STAGES
from abm.seeding.columns import _Accounts, _Clock, _Enrolments, _Opportunities, _Programme, _Touches
from abm.seeding.sampling import _Keyed, _time_of_day, _to_weekday
from playbooks.models import (
    Enrolment,
    EnrolmentStageChange,
    EnrolmentStatus,
    Playbook,
    PlaybookStatus,
    Stage,
    Step,
)


def _playbooks(*, marketer: User) -> dict[int, _Programme]:
    programmes = {}
    for spec in PLAYBOOKS:
        playbook = Playbook.objects.create(
            name=spec["name"],
            objective=spec["objective"],
            audience_tiers=[spec["tier"]],
            owner=marketer,
            status=PlaybookStatus.ACTIVE,
            budget=spec["budget"],
        )
        stage_ids, step_ids, channels, weights = [], [], [], []
        for order, ((name, exit_stage, share), steps) in enumerate(
            zip(STAGES, spec["stages"], strict=True)
        ):
            stage = Stage.objects.create(
                playbook=playbook, order=order, name=name, exit_stage=exit_stage
            )
            stage_ids.append(stage.pk)
            created = Step.objects.bulk_create(
                Step(stage=stage, order=i, **step) for i, step in enumerate(steps)
            )
            step_ids += [s.pk for s in created]
            channels += [CH[s.channel] for s in created]
            weights += [share / len(created)] * len(created)
        programmes[spec["tier"]] = _Programme(
            playbook=playbook,
            stage_ids=stage_ids,
            step_ids=np.array(step_ids, dtype=np.int64),
            step_channels=np.array(channels, dtype=np.int64),
            step_weights=np.array(weights) / sum(weights),
        )
    return programmes


# --- enrolments --------------------------------------------------------------------------------


def _enrolments(
    *,
    rng: np.random.Generator,
    acc: _Accounts,
    programmes: dict[int, _Programme],
    clock: _Clock,
) -> _Enrolments:
    account = np.flatnonzero(acc.group > 0)
    size = len(account)
    # Most accounts were enrolled when the programmes started, the rest along the year.
    early = rng.random(size) < 0.6
    day = np.where(
        early,
        rng.integers(clock.first_day, clock.first_day + 30, size),
        rng.integers(clock.first_day + 30, clock.last_day - 60, size),
    )
    enrolled_s = _to_weekday(rng=rng, days=day, low=clock.first_day, high=clock.last_day) * DAY
    enrolled_s += _time_of_day(rng=rng, size=size, business=True)

    tier = acc.group[account]
    holdout = np.zeros(size, dtype=bool)
    holdout_seed = np.zeros(size, dtype=np.int64)
    for number, programme in sorted(programmes.items()):
        members = np.flatnonzero(tier == number)  # in account-id order
        draw_seed = int(rng.integers(0, 2**31))
        share = programme.playbook.holdout_share
        chosen = np.random.default_rng(draw_seed).permutation(len(members))
        holdout[members[chosen[: round(share * len(members))]]] = True
        holdout_seed[members] = draw_seed
    return _Enrolments(
        ids=_next_id(Enrolment) + np.arange(size, dtype=np.int64),
        account=account,
        tier=tier,
        enrolled_s=enrolled_s,
        holdout=holdout,
        holdout_seed=holdout_seed,
    )


def _write_enrolments(
    *,
    enrol: _Enrolments,
    acc: _Accounts,
    touches: _Touches,
    opps: _Opportunities,
    programmes: dict[int, _Programme],
    marketer: User,
    clock: _Clock,
) -> None:
    """Place each enrolment in the stage its account's history leads to (exit rules of STAGES).

    Find exits when the account is aware (first answer after enrolment), Nurture at mqa
    (approximated by the eighth answer), Convert at its first opportunity. Holdout accounts get no
    playbook work, so they stay in Find.
    """
    inbound = ~IS_OUTBOUND_KIND[touches.kind]
    answers = _Keyed(touches.account[inbound], touches.at[inbound])
    created = _Keyed(opps.account, opps.created_s)
    never = np.iinfo(np.int64).max
    entered = np.full((len(enrol.ids), len(STAGES)), never, dtype=np.int64)
    entered[:, 0] = enrol.enrolled_s
    entered[:, 1] = answers.nth_after(enrol.account, enrol.enrolled_s, nth=1, missing=never)
    entered[:, 2] = answers.nth_after(enrol.account, enrol.enrolled_s, nth=8, missing=never)
    entered[:, 3] = created.nth_after(enrol.account, enrol.enrolled_s, nth=1, missing=never)
    entered[enrol.holdout, 1:] = never
    # A later stage reached means the earlier ones were passed, at the latest then.
    entered = np.minimum.accumulate(entered[:, ::-1], axis=1)[:, ::-1]
    reached = entered < never
    current = reached.sum(axis=1) - 1

    stage_ids = np.array([programmes[t].stage_ids for t in sorted(programmes)])
    playbook_ids = np.array([programmes[t].playbook.pk for t in sorted(programmes)])
    row = enrol.tier - 1
    _insert(
        model=Enrolment,
        columns={
            "id": enrol.ids,
            "account": acc.ids[enrol.account],
            "playbook": playbook_ids[row],
            "current_stage": stage_ids[row, current],
            "entered_stage_at": entered[np.arange(len(current)), current],
            "status": np.where(enrol.holdout, EnrolmentStatus.HOLDOUT, EnrolmentStatus.ACTIVE),
            "holdout_seed": enrol.holdout_seed,
            "enrolled_at": enrol.enrolled_s,
            "enrolled_by": marketer.pk,
        },
    )
    which, stage = np.nonzero(reached)
    _insert(
        model=EnrolmentStageChange,
        columns={
            "id": _next_id(EnrolmentStageChange) + np.arange(len(which), dtype=np.int64),
            "enrolment": enrol.ids[which],
            "stage": stage_ids[row[which], stage],
            "entered_at": entered[which, stage],
        },
    )
