"""Vectorised random draws and lookups shared by the generators."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from abm.lib.channels import ActivityKind, Channel
from demo.seeding.catalogue import (
    BUSINESS_HOUR_WEIGHTS,
    BUSINESS_HOURS,
    CH,
    HOUR,
    KD,
    OPEN_HOUR_WEIGHTS,
    OPEN_HOURS,
)
from demo.seeding.columns import _Accounts

# --- vectorised helpers ------------------------------------------------------------------------


class _Keyed:
    """Moments per account, sorted, for "how many before t" and "the n-th after t" in bulk."""

    SPAN = 1 << 40  # seconds per account in the key, far beyond any epoch second we use

    def __init__(self, account: np.ndarray, at: np.ndarray) -> None:
        self.keys = np.sort(account.astype(np.int64) * self.SPAN + at)

    def count_before(self, account: np.ndarray, at: np.ndarray, *, seconds: int) -> np.ndarray:
        """Moments in (at - seconds, at] per query."""
        base = account.astype(np.int64) * self.SPAN
        upper = np.searchsorted(self.keys, base + at, side="right")
        lower = np.searchsorted(self.keys, base + at - seconds, side="right")
        return upper - lower


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _calibrate(score: np.ndarray, target: float) -> float:
    """The offset a with sum(sigmoid(a + score)) = target (bisection; clamped when unreachable)."""
    low, high = -40.0, 40.0
    for _ in range(60):
        middle = (low + high) / 2
        if _sigmoid(middle + score).sum() < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _pick_per_group(
    *, rng: np.random.Generator, group: np.ndarray, choices: Sequence[str], mix: Sequence
) -> np.ndarray:
    codes = np.array([CH[c] for c in choices])
    result = np.empty(len(group), dtype=np.int64)
    for g, shares in enumerate(mix):
        mask = group == g
        result[mask] = codes[rng.choice(len(codes), size=mask.sum(), p=shares)]
    return result


def _pick_per_channel(*, rng: np.random.Generator, channel: np.ndarray, table: dict) -> np.ndarray:
    result = np.full(len(channel), -1, dtype=np.int64)
    for ch, options in table.items():
        mask = channel == CH[ch]
        kinds = np.array([KD[kind] for kind, _ in options])
        shares = np.array([share for _, share in options])
        result[mask] = kinds[rng.choice(len(kinds), size=mask.sum(), p=shares / shares.sum())]
    if (result < 0).any():
        raise ValueError("a channel without kinds")
    return result


def _pick_contacts(
    *, rng: np.random.Generator, acc: _Accounts, account: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    # Skewed to the first contacts of an account: its buying committee.
    offset = (rng.random(len(account)) ** 1.6 * acc.contact_count[account]).astype(np.int64)
    return np.where(mask, acc.contact_first[account] + offset, -1)


def _costs(*, rng: np.random.Generator, channel: np.ndarray, kind: np.ndarray) -> np.ndarray:
    cost = np.zeros(len(kind))
    impression = kind == KD[ActivityKind.AD_IMPRESSION]
    rules = (
        (impression & (channel == CH[Channel.PAID_SOCIAL]), np.log(1.2), 0.6, 0.01, 6.0),
        (impression & (channel == CH[Channel.DISPLAY]), np.log(0.25), 0.8, 0.01, 4.0),
        (kind == KD[ActivityKind.DIRECT_MAIL_SENT], np.log(40), 0.15, 20.0, 80.0),
        (kind == KD[ActivityKind.EVENT_ATTENDED], np.log(300), 0.2, 120.0, 650.0),
    )
    for mask, mu, sigma, low, high in rules:
        cost[mask] = np.clip(rng.lognormal(mu, sigma, mask.sum()), low, high)
    return np.round(cost, 2)


def _time_of_day(*, rng: np.random.Generator, size: int, business: bool) -> np.ndarray:
    hours, weights = (
        (BUSINESS_HOURS, BUSINESS_HOUR_WEIGHTS) if business else (OPEN_HOURS, OPEN_HOUR_WEIGHTS)
    )
    hour = rng.choice(hours, size=size, p=weights / weights.sum())
    return hour * HOUR + rng.integers(0, HOUR, size)


def _to_weekday(
    *,
    rng: np.random.Generator,
    days: np.ndarray,
    low: int,
    high: int,
    share: float | np.ndarray = 1.0,
) -> np.ndarray:
    """Move (a share of) weekend days to the Friday before, or the Monday after at the start."""
    weekday = (days + 3) % 7  # 1970-01-01, epoch day 0, was a Thursday
    weekend = (weekday >= 5) & (rng.random(len(days)) < share)
    friday = days - (weekday - 4)
    monday = days + (7 - weekday)
    moved = np.where(friday >= low, friday, np.where(monday <= high, monday, days))
    return np.where(weekend, moved, days)
