"""Changes to a row someone else may delete at the same moment.

A request reads a record, then saves it; another user may delete it in between. Locking the row
first makes the two take turns: the change either waits for the delete and then reports the record
gone (404, in the user's words), or goes first and the delete removes it with the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection
from django.db.models import Model
from django.http import Http404

from abm.lib.retrying import retried

T = TypeVar("T")
_DEADLOCK = "40P01"  # PostgreSQL's deadlock_detected
_ATTEMPTS = 3
# Before a retry: the other transaction, woken by the victim's rollback, takes the rows first
# (an immediate retry could lock them back before it and deadlock again; seen in CI).
_PAUSE = 0.05  # seconds


class RecordDeleted(Exception):
    """The record a change was for was deleted by someone else before the change was saved."""

    def __init__(self, record: Model):
        noun = record._meta.verbose_name
        super().__init__(f"This {noun} was deleted by someone else; your change was not saved.")


def lock_for_change(record: Model) -> None:
    """Lock the record's row until the surrounding transaction ends; RecordDeleted if it is
    gone. Call inside ``transaction.atomic()``, before the save."""
    if not type(record).objects.select_for_update().filter(pk=record.pk).exists():
        raise RecordDeleted(record)


class RecordDeletedMiddleware:
    """Pages: a change to a record deleted meanwhile answers 404 with the message, not 500 (the
    API says the same through abm/api_errors.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RecordDeleted):
            raise Http404(str(exception)) from exception
        return None


def retried_on_deadlock(work: Callable[[], T]) -> T:
    """``work()`` (one transaction), again if PostgreSQL chose it as a deadlock's victim: it
    was rolled back whole, and the other transaction has gone on, so a second try succeeds.
    A user's delete, racing an engine run over the same accounts, never answers 500 for it."""
    return retried(work, when=_deadlock_victim, what="deadlock", attempts=_ATTEMPTS, pause=_PAUSE)


def _deadlock_victim(exc: Exception) -> bool:
    # Inside an outer transaction the rollback took more than ``work``: only its owner may retry.
    return (
        isinstance(exc, OperationalError)
        and getattr(exc.__cause__, "pgcode", None) == _DEADLOCK
        and not connection.in_atomic_block
    )
