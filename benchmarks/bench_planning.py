"""Times the reverse-funnel planner's compute (issue #18: the plan for 10k accounts < 300 ms).

Run from the repository root: ``.venv/bin/python -m benchmarks.bench_planning [--accounts N]``.
The journeys frame is synthetic (no database): N target accounts over tiers 1..3, each reaching
every later stage with a fixed chance and a random lag, as the loader's frame would hold them.
One timed plan = ``rates_for_scope`` (tiers 1-2, 400 bootstrap draws over accounts) +
``assumptions_from`` + ``plan_backwards`` (6 months, 8 channels, 400 draws for the ranges): the
whole computation a plan preview runs after loading. The database reads are not in the figure.
Prints the median and the worst of ``--repeat`` runs, in milliseconds.

``--database`` also times the whole preview on whatever DATABASE_URL points at (seed first:
``manage.py seed_demo --accounts 10000``): ``preview_plan`` for the demo director (loading the
journeys, spend, credits and pool, then the same computation) and the JSON the API answers,
through the service in this process (server time without HTTP, network or browser).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

import numpy as np
import pandas as pd

from metrics.engine.compute.planning import (
    PLAN_STAGES,
    ChannelCost,
    assumptions_from,
    plan_backwards,
    rates_for_scope,
)

CHANNELS = ["email", "linkedin", "paid_social", "display", "event", "webinar", "phone", "content"]
CHANCE = (0.45, 0.4, 0.35, 0.3)  # of reaching each stage after targeted, given the one before


def synthetic_journeys(accounts: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, accounts), "D")
    frame = pd.DataFrame(
        {
            "account_id": np.arange(1, accounts + 1),
            "tier": rng.integers(1, 4, accounts),
            "playbook_id": np.where(
                rng.random(accounts) < 0.5, rng.integers(1, 6, accounts), np.nan
            ),
        }
    )
    at = pd.Series(start)
    alive = np.ones(accounts, dtype=bool)
    frame["targeted_at"] = at
    for stage, chance in zip(PLAN_STAGES[1:], CHANCE, strict=True):
        alive &= rng.random(accounts) < chance
        at = at + pd.to_timedelta(rng.integers(0, 60, accounts), "D")
        frame[f"{stage}_at"] = at.where(alive)
    frame["won_amount"] = np.where(alive, rng.lognormal(10.5, 0.6, accounts), 0.0)
    return frame


def one_plan(journeys: pd.DataFrame, costs: list[ChannelCost]):
    # As of the latest date in the frame: the censoring rule runs as in a preview.
    as_of = max(journeys[f"{s}_at"].max() for s in PLAN_STAGES)
    rates = rates_for_scope(journeys, tiers=(1, 2), as_of=as_of)
    assumptions = assumptions_from(rates, costs)
    months = [date(2027, m, 1) for m in range(1, 7)]
    pool = {s: len(journeys) // 2 for s in PLAN_STAGES}
    return plan_backwards(
        target=2_000_000,
        kind="revenue",
        months=months,
        assumptions=assumptions,
        costs=costs,
        pool=pool,
        rates=rates,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database", action="store_true", help="also time preview_plan")
    args = parser.parse_args()
    if args.database:
        time_preview(args.repeat)
    journeys = synthetic_journeys(args.accounts)
    costs = [
        ChannelCost(c, 10_000.0 * (i + 1), 50.0, 20.0, 5.0 + i, 20_000.0 * (8 - i))
        for i, c in enumerate(CHANNELS)
    ]
    one_plan(journeys, costs)  # warm-up: imports, numpy caches
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        one_plan(journeys, costs)
        times.append((time.perf_counter() - t0) * 1000)
    print(
        f"plan compute for {args.accounts} accounts (synthetic journeys): "
        f"median {statistics.median(times):.0f} ms, worst {max(times):.0f} ms "
        f"over {args.repeat} runs (goal < 300 ms)"
    )


def time_preview(repeat: int) -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abm.settings")
    os.environ.setdefault("ABM_DEV", "1")
    django.setup()
    from django.db import connection

    from abm.models import User
    from accounts.models import Account
    from metrics.planning import preview_plan
    from metrics.planning_output import plan_json

    user = User.objects.get(username="director")
    targets = Account.objects.filter(tier__in=(1, 2, 3)).count()

    def preview():
        # Overrides only where the demo's history may not measure a rate.
        return plan_json(
            preview_plan(
                user=user,
                target=2_000_000,
                kind="revenue",
                start=date(2027, 1, 1),
                end=date(2027, 6, 30),
                tiers=(1, 2),
                model="w_shaped",
            )
        )

    preview()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        preview()
        times.append((time.perf_counter() - t0) * 1000)
    print(
        f"preview_plan + JSON on {connection.vendor}, {targets} target accounts: "
        f"median {statistics.median(times):.0f} ms, worst {max(times):.0f} ms over {repeat} runs"
    )


if __name__ == "__main__":
    main()
