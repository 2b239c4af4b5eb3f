"""Times ``metrics.attribution.credit`` for every model on synthetic pipeline data.

Run from the repository root: ``.venv/bin/python -m benchmarks.bench_attribution``.
Default: 1M journeys, 5M touches over 8 channels, 80 % of journeys converting, touches sorted by
(journey, ts, touch id) as the loader's ``ORDER BY`` returns them; ``--shuffle`` times the sort.
Target: all eight models under 2 s in total and under 1 GB peak memory.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from metrics.attribution import MODELS, credit

CHANNELS = ["email", "linkedin", "paid_social", "display", "event", "webinar", "phone", "content"]


def synthetic(
    journeys: int, touches: int, seed: int, shuffle: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every journey has >= 1 touch; temporaries are freed early so the peak is credit()'s."""
    rng = np.random.default_rng(seed)
    journey = np.concatenate([np.arange(journeys), rng.integers(0, journeys, touches - journeys)])
    converted_at = (
        pd.Timestamp("2025-01-01", tz="UTC").value + rng.integers(0, 365 * 86_400, journeys) * 10**9
    )
    # Seconds before the conversion: mostly inside the 180-day window, a few after it (ignored).
    # One packed key sorts journeys ascending and, within each, the oldest touch first.
    span = 190 * 86_400
    key = journey * span + rng.integers(0, span, touches)
    key.sort()
    journey = key // span
    ts = converted_at[journey] - (185 * 86_400 - key % span) * 10**9
    del key
    channel = rng.choice(len(CHANNELS), touches, p=[0.3, 0.15, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05])
    frame = pd.DataFrame(
        {
            "journey_id": journey,
            "touch_id": np.arange(touches, dtype=np.int64),
            "ts": pd.DatetimeIndex(ts.view("datetime64[ns]"), tz="UTC"),
            "channel": pd.Categorical.from_codes(channel.astype(np.int8), CHANNELS),
            "is_mqa": rng.random(touches) < 0.03,
            "playbook_id": rng.integers(1, 40, touches, dtype=np.int32),
        },
        copy=False,
    )
    del journey, ts, channel
    if shuffle:
        frame = frame.sample(frac=1, random_state=seed, ignore_index=True)
    converting = np.flatnonzero(rng.random(journeys) < 0.8)
    conversions = pd.DataFrame(
        {
            "journey_id": converting,
            "ts": pd.DatetimeIndex(converted_at[converting].view("datetime64[ns]"), tz="UTC"),
            "value": np.round(rng.lognormal(10, 1, len(converting)), 2),
        }
    )
    return frame, conversions


def report(line: str) -> None:
    print(line)  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--touches", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--shuffle", action="store_true")
    parser.add_argument("--passes", type=int, default=3, help="the first is cold, best of the rest")
    args = parser.parse_args()

    touches, conversions = synthetic(args.journeys, args.touches, args.seed, args.shuffle)
    report(
        f"{len(touches):,} touches, {touches['journey_id'].nunique():,} journeys, "
        f"{len(conversions):,} conversions, {'shuffled' if args.shuffle else 'sorted'}; "
        f"peak memory after generating {peak_mb():,.0f} MB"
    )
    wall: dict[str, list[float]] = {model: [] for model in MODELS}
    cpu: dict[str, list[float]] = {model: [] for model in MODELS}
    for _ in range(args.passes):
        for model in MODELS:
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            result = credit(touches, conversions, model, window_days=180)
            wall[model].append(time.perf_counter() - start_wall)
            cpu[model].append(time.process_time() - start_cpu)
            del result

    # The first pass pays the page faults of a fresh process; later passes are a warm worker.
    report(f"{'model':12} {'cold s':>7} {'warm s':>7} {'warm cpu s':>10} {'M touches/s':>12}")
    for model in MODELS:
        warm = min(wall[model][1:] or wall[model])
        warm_cpu = min(cpu[model][1:] or cpu[model])
        report(
            f"{model:12} {wall[model][0]:7.3f} {warm:7.3f} {warm_cpu:10.3f} "
            f"{len(touches) / warm / 1e6:12.1f}"
        )
    cold_total = sum(w[0] for w in wall.values())
    warm_total = sum(min(w[1:] or w) for w in wall.values())
    warm_cpu_total = sum(min(c[1:] or c) for c in cpu.values())
    report(f"{'total':12} {cold_total:7.3f} {warm_total:7.3f} {warm_cpu_total:10.3f}")
    report(f"peak memory {peak_mb():,.0f} MB")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
