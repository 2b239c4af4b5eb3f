"""``retried``: tries again only for the failures it is told a second try gets past."""

import logging
import time

import pytest

from abm.lib.retrying import retried


class Passing(Exception):
    pass


def flaky(failures: list[Exception]):
    calls = []

    def work():
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return len(calls)

    return work, calls


def test_an_accepted_failure_is_tried_again_until_it_passes(caplog):
    work, calls = flaky([Passing("first"), Passing("second")])

    # The logger's own level: an in-process test worker earlier in the suite leaves the root
    # logger at ERROR (celery's start_worker logs at "error").
    with caplog.at_level(logging.WARNING, logger="abm.lib.retrying"):
        assert retried(work, when=lambda e: isinstance(e, Passing), what="batch 3") == 3
    assert len(calls) == 3
    assert [r.getMessage() for r in caplog.records] == [
        "batch 3: first; trying again (attempt 2)",
        "batch 3: second; trying again (attempt 3)",
    ]


def test_other_failures_are_raised_at_once():
    work, calls = flaky([ValueError("bad input")])

    with pytest.raises(ValueError, match="bad input"):
        retried(work, when=lambda e: isinstance(e, Passing), what="batch")
    assert len(calls) == 1


def test_the_last_failure_is_raised_after_the_attempts():
    work, calls = flaky([Passing("1"), Passing("2"), Passing("3")])

    with pytest.raises(Passing, match="2"):
        retried(work, when=lambda e: True, what="batch", attempts=2)
    assert len(calls) == 2


def test_a_pause_waits_longer_before_each_retry():
    work, calls = flaky([Passing("1"), Passing("2")])

    started = time.monotonic()
    assert retried(work, when=lambda e: True, what="batch", pause=0.1) == 3
    # At least half of 0.1 s before the first retry and of 0.2 s before the second (jitter).
    assert time.monotonic() - started >= 0.15
    assert len(calls) == 3
