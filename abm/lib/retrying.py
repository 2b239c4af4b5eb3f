"""A unit of work tried again when it failed for a reason a second try can get past."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")


def retried(
    work: Callable[[], T], *, when: Callable[[Exception], bool], what: str, attempts: int = 3
) -> T:
    """``work()``, again while it raises an exception ``when`` accepts, ``attempts`` tries in
    all; a warning per retry, the last failure raised."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as exc:
            if attempt == attempts or not when(exc):
                raise
            logger.warning("%s: %s; trying again (attempt %d)", what, exc, attempt + 1)
    raise AssertionError("unreachable")
