"""A delete on one PostgreSQL connection while an edit on another holds a row the delete needs:
the harness of the "announce last" tests (abm/change_feed.py). The edit is made the would-be
victim of a deadlock (it looks for one after 800 ms, the delete after 5 s), so a delete that
queued its metrics run before deleting fails the edit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models.signals import pre_delete


def delete_during_edit(
    *, lock: Callable, edit: Callable, delete: Callable, deleted: type
) -> list[Exception]:
    """``lock()`` takes the edited row's lock, ``edit(row)`` writes it and announces; meanwhile
    ``delete()`` runs on another connection, and once it is about to delete a ``deleted`` row,
    the edit goes on. What either raised."""
    locked, deleting = threading.Event(), threading.Event()
    failures = []

    def editing():
        try:
            with transaction.atomic():
                connection.cursor().execute("SET LOCAL deadlock_timeout = '800ms'")
                row = lock()
                locked.set()
                assert deleting.wait(10)
                edit(row)
        except Exception as exc:  # reported to the caller
            failures.append(exc)
        finally:
            connection.close()

    def deleting_():
        try:
            connection.cursor().execute("SET deadlock_timeout = '5s'")
            assert locked.wait(10)
            delete()
        except Exception as exc:
            failures.append(exc)
        finally:
            connection.close()

    deleter = threading.Thread(target=deleting_)

    def about_to_delete(sender, instance, **kwargs):
        # Before the delete reaches the locked row: the edit goes on to queue its run meanwhile.
        if threading.current_thread() is deleter:
            deleting.set()
            time.sleep(0.3)

    pre_delete.connect(about_to_delete, sender=deleted, weak=False)
    editor = threading.Thread(target=editing)
    try:
        editor.start()
        deleter.start()
        editor.join(30)
        deleter.join(30)
    finally:
        pre_delete.disconnect(about_to_delete, sender=deleted)
    return failures
