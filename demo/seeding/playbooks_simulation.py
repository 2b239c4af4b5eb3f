"""The demo playbooks and the plan of their enrolment waves.

The waves are enrolled by the production service (`enrol_accounts`) during the weekly run
(`weekly_run`); the holdout of each wave is known in advance because the service draws it with
`holdout_draw` from a seed we choose here, so the background touches can leave it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from abm.models import User
from demo.seeding.catalogue import CH, DAY, DEFAULT_ACCOUNTS, HOUR, PLAYBOOKS, STAGES
from demo.seeding.columns import _Accounts, _Clock, _Enrolments, _Programme
from playbooks.enrolment import holdout_draw
from playbooks.models import (
    OwnerRole,
    Playbook,
    PlaybookStatus,
    Stage,
    Step,
    default_holdout_share,
)


def _playbooks(*, marketer: User, accounts: int) -> dict[int, _Programme]:
    # Budgets in PLAYBOOKS are for the default 300 accounts; a bigger book costs more to run.
    scale = accounts / DEFAULT_ACCOUNTS
    programmes = {}
    for spec in PLAYBOOKS:
        playbook = Playbook.objects.create(
            name=spec["name"],
            objective=spec["objective"],
            audience_tiers=[spec["tier"]],
            owner=marketer,
            status=PlaybookStatus.ACTIVE,
            budget=round(spec["budget"] * scale, -2),
            holdout_share=spec.get("holdout_share", default_holdout_share()),
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
            # Imported programme touches come from the marketing platforms; sales work is tasks.
            marketing = [step.owner_role == OwnerRole.MARKETING for step in created]
            weights += [share * m / max(sum(marketing), 1) for m in marketing]
        programmes[spec["tier"]] = _Programme(
            playbook=playbook,
            stage_ids=stage_ids,
            step_ids=np.array(step_ids, dtype=np.int64),
            step_channels=np.array(channels, dtype=np.int64),
            step_weights=np.array(weights) / sum(weights),
        )
    return programmes


# --- enrolment waves ----------------------------------------------------------------------------

# Days after the window's start when each wave of a playbook is enrolled, and its share of the
# playbook's audience: half at launch, the rest (new targets) month by month.
WAVES = ((14, 0.5), *((44 + 30 * month, 0.5 / 11) for month in range(11)))


@dataclass(frozen=True)
class Wave:
    playbook: Playbook
    account_ids: list[int]
    seed: int
    at: datetime


def _enrolment_plan(
    *,
    rng: np.random.Generator,
    acc: _Accounts,
    programmes: dict[int, _Programme],
    clock: _Clock,
) -> tuple[_Enrolments, list[Wave]]:
    """Who is enrolled in which wave, and the holdout that `enrol_accounts` will draw for it."""
    parts, waves = [], []
    for number, programme in sorted(programmes.items()):
        members = np.flatnonzero(acc.group == number)
        order = rng.permutation(len(members))
        bounds = np.round(np.cumsum([share for _, share in WAVES]) * len(members)).astype(int)
        start = 0
        for (day, _), end in zip(WAVES, bounds, strict=True):
            wave = np.sort(members[order[start:end]])
            start = end
            if not len(wave):
                continue
            seed = int(rng.integers(0, 2**31 - 1))
            at_s = (clock.first_day + day) * DAY + 9 * HOUR
            ids = acc.ids[wave]
            held = holdout_draw(ids.tolist(), share=programme.playbook.holdout_share, seed=seed)
            parts.append(
                (
                    wave,
                    np.full(len(wave), number),
                    np.full(len(wave), at_s),
                    np.isin(ids, list(held)),
                    np.full(len(wave), seed),
                    np.full(len(wave), programme.playbook.pk),
                )
            )
            waves.append(
                Wave(programme.playbook, ids.tolist(), seed, datetime.fromtimestamp(at_s, UTC))
            )
    columns = [np.concatenate(c) for c in zip(*parts, strict=True)]
    enrol = _Enrolments(
        ids=np.zeros(len(columns[0]), dtype=np.int64),
        account=columns[0].astype(np.int64),
        tier=columns[1].astype(np.int64),
        enrolled_s=columns[2].astype(np.int64),
        holdout=columns[3].astype(bool),
        holdout_seed=columns[4].astype(np.int64),
        playbook=columns[5].astype(np.int64),
    )
    return enrol, waves
