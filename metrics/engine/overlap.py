"""Load the next batch while this one computes and writes.

A run's batches are independent: loading one (a third of a full run on PostgreSQL, mostly the
database's work and the wire) need not wait for the previous one to be computed and written.
``Ahead`` loads on one thread of its own, with its own database connection, one batch ahead.
A batch loaded early is as if loaded slowly: what is deleted meanwhile the write leaves out
(writing.lock_present), and anything it misses was announced and queues the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connection


def can_overlap() -> bool:
    """On PostgreSQL outside a transaction. SQLite writes one transaction at a time and a second
    connection would not see what an enclosing transaction (a test's) wrote."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class Ahead:
    """``start(key, *args)`` loads ``load(*args)`` in the background; ``take(key, *args)``
    returns it, waiting if need be (or loads here, if it was not started). Used as a context
    manager: the thread ends and closes its connection on the way out."""

    def __init__(self, load: Callable, *, overlap: bool | None = None):
        self._load = load
        overlap = can_overlap() if overlap is None else overlap
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="engine-load") if overlap else None
        self._pending: dict[object, Future] = {}

    def start(self, key, *args) -> None:
        if self._pool is not None:
            self._pending[key] = self._pool.submit(self._load, *args)

    def take(self, key, *args):
        future = self._pending.pop(key, None)
        return self._load(*args) if future is None else future.result()

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is None:
            return
        for future in self._pending.values():
            future.cancel()
        self._pool.submit(_close_connection).result()  # the loading thread's own
        self._pool.shutdown()


def _close_connection() -> None:
    connection.close()  # looked up here: each thread has its own connection
