"""The seeded rows as parallel numpy columns, passed between the generators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

from demo.seeding.catalogue import DAY, WINDOW_DAYS
from playbooks.models import (
    Playbook,
)


class SeedRefused(Exception):
    """The database already holds accounts and the caller did not ask to flush them."""


@dataclass(frozen=True)
class SeedResult:
    skipped: bool = False
    accounts: int = 0
    contacts: int = 0
    enrolments: int = 0
    activities: int = 0
    opportunities: int = 0
    leads: int = 0
    seconds: float = 0.0
    logins: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class _Clock:
    now: datetime
    now_s: int
    first_day: int  # epoch day of the window's first day
    last_day: int  # epoch day of yesterday: everything happens before now

    @classmethod
    def for_today(cls, today: date) -> _Clock:
        now = datetime(today.year, today.month, today.day, tzinfo=UTC)
        now_day = int(now.timestamp()) // DAY
        return cls(now, now_day * DAY, now_day - WINDOW_DAYS, now_day - 1)


@dataclass
class _Accounts:
    ids: np.ndarray
    names: list[str]
    domains: list[str]
    group: np.ndarray  # 0 untiered, else the tier
    interest: np.ndarray
    burst_day: np.ndarray
    employees: np.ndarray
    contact_first: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    contact_count: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    contact_seniority: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    reached: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # by marketing


@dataclass
class _Programme:
    playbook: Playbook
    stage_ids: list[int]
    step_ids: np.ndarray
    step_channels: np.ndarray
    step_weights: np.ndarray


@dataclass
class _Enrolments:
    ids: np.ndarray
    account: np.ndarray  # account index
    tier: np.ndarray
    enrolled_s: np.ndarray
    holdout: np.ndarray
    holdout_seed: np.ndarray
    playbook: np.ndarray  # playbook id


@dataclass
class _Touches:
    """Activities as parallel columns; -1 means none for contact, step and duration."""

    account: np.ndarray
    at: np.ndarray
    channel: np.ndarray
    kind: np.ndarray
    contact: np.ndarray
    step: np.ndarray
    cost: np.ndarray
    duration: np.ndarray

    @classmethod
    def concat(cls, parts: Sequence[_Touches]) -> _Touches:
        return cls(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__)
        )

    def take(self, index: np.ndarray) -> _Touches:
        return _Touches(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    def __len__(self) -> int:
        return len(self.account)


@dataclass
class _Opportunities:
    account: np.ndarray
    created_s: np.ndarray
    closed_s: np.ndarray  # -1 while open
    won: np.ndarray
