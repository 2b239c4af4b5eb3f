"""A unit of work tried again when it failed for a reason a second try can get past."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")


def retried(
    work: Callable[[], T],
    *,
    when: Callable[[Exception], bool],
    what: str,
    attempts: int = 3,
    pause: float = 0.0,
) -> T:
    """``work()``, again while it raises an exception ``when`` accepts, ``attempts`` tries in
    all; a warning per retry, the last failure raised. ``pause``: seconds to wait before the
    n-th retry, n times, give or take half (jitter, so two retrying callers part)."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as exc:
            if attempt == attempts or not when(exc):
                raise
            logger.warning("%s: %s; trying again (attempt %d)", what, exc, attempt + 1)
            if pause:
                time.sleep(pause * attempt * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")
