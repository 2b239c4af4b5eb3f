"""Load the next batch and write the last one while this one computes.

A run's batches are independent: loading one (a third of a full run on PostgreSQL, mostly the
database's work and the wire) need not wait for the previous one to be computed and written.
``Ahead`` loads on one thread of its own, with its own database connection, one batch ahead.
A batch loaded early is as if loaded slowly: what is deleted meanwhile the write leaves out
(writing.lock_present), and anything it misses was announced and queues the next run.
``Behind`` writes a computed batch, in its own transaction on a thread and connection of its
own, while the next one computes: one write at a time, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import IntegrityError, connection


def can_overlap() -> bool:
    """On PostgreSQL outside a transaction. SQLite writes one transaction at a time and a second
    connection would not see what an enclosing transaction (a test's) wrote."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class _Thread:
    """One worker thread with its own database connection, closed on the way out."""

    def __init__(self, name: str, overlap: bool | None):
        overlap = can_overlap() if overlap is None else overlap
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name) if overlap else None

    def _close(self, pending) -> None:
        if self._pool is None:
            return
        for future in pending:
            future.cancel()
        self._pool.submit(_close_connection).result()  # after what runs there now
        self._pool.shutdown()


class Ahead(_Thread):
    """``start(key, *args)`` loads ``load(*args)`` in the background; ``take(key, *args)``
    returns it, waiting if need be (or loads here, if it was not started). Used as a context
    manager: the thread ends and closes its connection on the way out."""

    def __init__(self, load: Callable, *, overlap: bool | None = None):
        super().__init__("engine-load", overlap)
        self._load = load
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
        self._close(self._pending.values())


class Behind(_Thread):
    """``write(work, redo=)`` runs ``work()`` in the background once the previous write is done
    (here, without overlap). ``wait()`` waits for the last one; a write that failed on a row
    deleted meanwhile (IntegrityError) is done again here with ``redo()``, any other failure
    raised. Both return the redos' results. Used as a context manager: a run that fails
    meanwhile still lets the running write commit, as the batches before a failure always
    did."""

    def __init__(self, *, overlap: bool | None = None):
        super().__init__("engine-write", overlap)
        self._last: tuple[Future, Callable] | None = None

    @property
    def overlaps(self) -> bool:
        return self._pool is not None

    def write(self, work: Callable, *, redo: Callable) -> list:
        if self._pool is None:
            work()
            return []
        redone = self.wait()
        self._last = (self._pool.submit(work), redo)
        return redone

    def wait(self) -> list:
        if self._last is None:
            return []
        future, redo = self._last
        self._last = None
        try:
            future.result()
        except IntegrityError:
            return [redo()]
        return []

    def __enter__(self) -> Behind:
        return self

    def __exit__(self, *exc) -> None:
        self._close([])


def _close_connection() -> None:
    connection.close()  # looked up here: each thread has its own connection
