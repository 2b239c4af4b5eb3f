"""Times ``metrics.attribution.credit_models`` (all eight models from one journey set-up) on
synthetic pipeline data, for several input variants, against a plain numpy reference.

Run from the repository root: ``.venv/bin/python -m benchmarks.bench_attribution``.
Default: 1M journeys, 5M touches over 8 channels, 80 % of journeys converting, 180-day window.
Input variants (``--variants``; ``--shuffle`` alone means shuffled/categorical):

- sorted/categorical: in (journey, ts, touch id) order as the loader's ``ORDER BY`` returns them,
  channel categorical, integer journey ids;
- shuffled/categorical: rows in random order;
- shuffled/strings: and channel as strings (pandas ``str``);
- shuffled/strings/str-ids: and journey ids as strings ("opp-0000042");
- shuffled/strings/category-ids: journey ids as those strings in a categorical, one dtype for
  touches and conversions (``astype(dtype)`` of both).

The reference is written here, independently of metrics/attribution*.py, the straightforward way:
``np.lexsort`` by (journey, ts, touch id) (string journey ids factorised first, categorical ones
by their codes), ``searchsorted`` to the conversions, a window mask, then first_touch,
last_touch, linear, u_shaped, time_decay and w_shaped from group offsets (shapley and markov are
not in it). It shares its set-up between its six models too, and its weights are checked
against the kernel's.

Every (variant, implementation) runs in a fresh process, so its peak memory (max RSS) is its own.
Goals: the kernel at least as fast as the reference on the same six models, and the kernel's
eight models within 1.5x of each other over the variants.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from metrics.attribution import MODELS, credit_models

CHANNELS = ["email", "linkedin", "paid_social", "display", "event", "webinar", "phone", "content"]
VARIANTS = (
    "sorted/categorical",
    "shuffled/categorical",
    "shuffled/strings",
    "shuffled/strings/str-ids",
    "shuffled/strings/category-ids",
)
REFERENCE_MODELS = ("first_touch", "last_touch", "linear", "u_shaped", "time_decay", "w_shaped")
IMPLEMENTATIONS = {
    "kernel": "kernel, 8 models",
    "kernel6": "kernel, the reference's 6",
    "reference": "numpy reference, 6 models",
}
WINDOW_DAYS, HALF_LIFE_DAYS = 180, 7.0
DAY_NS = 86_400 * 10**9


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


def variant_frames(
    variant: str, journeys: int, touches: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame, conversions = synthetic(journeys, touches, seed, variant.startswith("shuffled"))
    if "strings" in variant:
        frame["channel"] = frame["channel"].astype("str")
    if variant.endswith("-ids"):
        names = pd.array([f"opp-{i:07d}" for i in range(journeys)], dtype="str")
        categorical = pd.CategoricalDtype(names) if variant.endswith("category-ids") else None
        for ids in (frame, conversions):
            codes = ids["journey_id"].to_numpy()
            if categorical is None:
                ids["journey_id"] = names.take(codes)
            else:
                ids["journey_id"] = pd.Categorical.from_codes(codes, dtype=categorical)
    return frame, conversions


# --- Reference ----------------------------------------------------------------------------------


def reference(touches: pd.DataFrame, conversions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The six models the plain way (see the module docstring)."""
    jid, conv_jid = touches["journey_id"], conversions["journey_id"]
    if isinstance(jid.dtype, pd.CategoricalDtype):  # categories in name order here
        jid, conv_jid = jid.cat.codes, conv_jid.cat.codes
    jid, conv_jid = jid.to_numpy(), conv_jid.to_numpy()
    if jid.dtype == object:
        codes = pd.factorize(np.concatenate([jid, conv_jid]), sort=True)[0]
        jid, conv_jid = codes[: len(jid)], codes[len(jid) :]
    ts = touches["ts"].array.asi8
    order = np.lexsort((touches["touch_id"].to_numpy(), ts, jid))
    jid, ts = jid[order], ts[order]

    by_conv = np.argsort(conv_jid)
    conv_jid = conv_jid[by_conv]
    conv_ts = conversions["ts"].array.asi8[by_conv]
    conv_value = conversions["value"].to_numpy()[by_conv]
    at = np.minimum(np.searchsorted(conv_jid, jid), len(conv_jid) - 1)
    end = conv_ts[at]
    keep = (conv_jid[at] == jid) & (ts <= end) & (ts >= end - WINDOW_DAYS * DAY_NS)
    rows, jid, ts, at, end = order[keep], jid[keep], ts[keep], at[keep], end[keep]

    first = np.ones(len(jid), dtype=bool)
    first[1:] = jid[1:] != jid[:-1]
    last = np.ones(len(jid), dtype=bool)
    last[:-1] = first[1:]
    starts = np.flatnonzero(first)
    group = np.cumsum(first) - 1
    size = np.diff(np.append(starts, len(jid)))[group]
    index = np.arange(len(jid)) - starts[group]

    weights = {
        "first_touch": first.astype(float),
        "last_touch": last.astype(float),
        "linear": 1.0 / size,
        "u_shaped": np.where(
            size == 1,
            1.0,
            np.where(size == 2, 0.5, np.where(first | last, 0.4, 0.2 / np.maximum(size - 2, 1))),
        ),
    }
    decay = np.exp2(-(end - ts) / DAY_NS / HALF_LIFE_DAYS)
    weights["time_decay"] = decay / np.bincount(group, weights=decay)[group]

    is_mqa = touches["is_mqa"].to_numpy()[rows]
    none = len(jid) + 1
    first_mqa = np.minimum.reduceat(np.where(is_mqa, index, none), starts)[group]
    mqa = np.where(first_mqa == none, (size - 1) // 2, first_mqa) == index
    w = 0.3 * first + 0.3 * last + 0.3 * mqa
    anchor = first | last | mqa
    anchors = np.bincount(group, weights=anchor)[group]
    others = size - anchors
    w += np.where(
        others > 0, np.where(anchor, 0.0, 0.1 / np.maximum(others, 1)), anchor * 0.1 / anchors
    )
    weights["w_shaped"] = w

    value = conv_value[at]
    columns = {c: touches[c].array.take(rows) for c in ["journey_id", "touch_id", "channel"]}
    extra = {"playbook_id": touches["playbook_id"].array.take(rows)}
    return {
        model: pd.DataFrame(
            {**columns, "weight": weights[model], "credit": weights[model] * value, **extra},
            copy=False,
        )
        for model in REFERENCE_MODELS
    }


# --- Timing -------------------------------------------------------------------------------------


def worker(args: argparse.Namespace) -> None:
    """One (variant, implementation) in this process: one JSON line of timings."""
    touches, conversions = variant_frames(args.worker, args.journeys, args.touches, args.seed)
    data_mb = peak_mb()
    if args.impl == "reference":
        run = lambda: reference(touches, conversions)  # noqa: E731
    else:
        models = MODELS if args.impl == "kernel" else REFERENCE_MODELS
        run = lambda: credit_models(  # noqa: E731
            touches, conversions, models, window_days=WINDOW_DAYS, half_life_days=HALF_LIFE_DAYS
        )
    wall, cpu, user = [], [], []
    for _ in range(args.passes):
        start_wall, start_cpu, start_user = time.perf_counter(), time.process_time(), user_s()
        result = run()
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
        user.append(user_s() - start_user)
        del result
    line = {"cold": wall[0], "warm": min(wall[1:] or wall)}
    line |= {"cpu": min(cpu[1:] or cpu), "user": min(user[1:] or user)}
    line |= {"data_mb": data_mb, "peak_mb": peak_mb()}
    if args.impl == "reference":  # after the timing: the check's memory is not the reference's
        line["max_weight_diff"] = weight_difference(run(), touches, conversions)
    print(json.dumps(line), flush=True)


def weight_difference(ref: dict, touches: pd.DataFrame, conversions: pd.DataFrame) -> float:
    kernel = credit_models(
        touches, conversions, REFERENCE_MODELS, window_days=WINDOW_DAYS, half_life_days=7
    )
    worst = 0.0
    for model in REFERENCE_MODELS:
        mine, theirs = kernel[model], ref[model]
        if not np.array_equal(mine["touch_id"].to_numpy(), theirs["touch_id"].to_numpy()):
            return float("inf")
        worst = max(worst, float(np.abs(mine["weight"] - theirs["weight"]).max()))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--touches", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--shuffle", action="store_true", help="only shuffled/categorical")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated")
    parser.add_argument("--impls", default=",".join(IMPLEMENTATIONS), help="comma-separated")
    parser.add_argument("--passes", type=int, default=3, help="the first is cold, best of the rest")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--impl", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    variants = ["shuffled/categorical"] if args.shuffle else args.variants.split(",")
    impls = args.impls.split(",")
    print(
        f"{args.touches:,} touches, {args.journeys:,} journeys, 80 % converting, "
        f"window {WINDOW_DAYS} days; {args.passes} passes per process (the first cold, best of "
        "the rest); max RSS per process, and how much of it the data takes"
    )
    print(
        f"{'variant':30} {'implementation':26} {'cold s':>7} {'warm s':>7} {'cpu s':>6} "
        f"{'user s':>6} "
        f"{'peak MB':>8} {'data MB':>8}  check"
    )
    warm: dict[tuple[str, str], float] = {}
    cpu: dict[tuple[str, str], float] = {}
    user: dict[tuple[str, str], float] = {}
    for variant in variants:
        for impl in impls:
            line = run_worker(args, variant, impl)
            warm[variant, impl], cpu[variant, impl] = line["warm"], line["cpu"]
            user[variant, impl] = line["user"]
            check = ""
            if "max_weight_diff" in line:
                check = f"max |weight - kernel's| {line['max_weight_diff']:.1e}"
            print(
                f"{variant:30} {IMPLEMENTATIONS[impl]:26} {line['cold']:7.3f} {line['warm']:7.3f} "
                f"{line['cpu']:6.3f} {line['user']:6.3f} {line['peak_mb']:8,.0f} "
                f"{line['data_mb']:8,.0f}  {check}",
                flush=True,
            )
    # On a shared machine wall time waits for other processes, and system time varies with the
    # kernel's page faults (numpy asks for huge pages: zeroing, compaction): user time is the
    # steadiest figure.
    for label, times in (("wall", warm), ("cpu", cpu), ("user", user)):
        if "kernel" in impls and len(variants) > 1:
            spread = [times[v, "kernel"] for v in variants]
            print(
                f"kernel, 8 models, {label}: slowest variant / fastest = "
                f"{max(spread) / min(spread):.2f}x; per variant / {variants[0]}: "
                + ", ".join(f"{v} {times[v, 'kernel'] / spread[0]:.2f}x" for v in variants[1:])
            )
        if {"kernel6", "reference"} <= set(impls):
            print(
                f"reference / kernel on the same 6 models, {label}: "
                + ", ".join(
                    f"{v} {times[v, 'reference'] / times[v, 'kernel6']:.2f}x" for v in variants
                )
            )


def run_worker(args: argparse.Namespace, variant: str, impl: str) -> dict:
    command = [sys.executable, "-m", "benchmarks.bench_attribution", "--worker", variant]
    command += ["--impl", impl, "--journeys", str(args.journeys), "--touches", str(args.touches)]
    command += ["--seed", str(args.seed), "--passes", str(args.passes)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def user_s() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
