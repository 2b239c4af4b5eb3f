"""A large export on a real Celery worker and Redis: the worker rebuilds the rep's scoped rows."""

import time

import pytest
from django.db import transaction
from django.http import QueryDict

from abm.exports import export_enqueue, export_file
from abm.models import Job, RunStatus
from tests.accounts.account_pages import account


def _wait_for(run: Job, seconds: float = 60) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (RunStatus.DONE, RunStatus.FAILED):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run.pk} still {run.status} after {seconds}s")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_only_the_reps_accounts(celery_worker, alice, bob, settings, tmp_path):
    settings.ABM_EXPORT_DIR = tmp_path
    for index in range(5):
        account(alice, f"Mine {index}", industry="Software")
        account(bob, f"Theirs {index}", industry="Software")
    account(alice, "Mine retail", industry="Retail")

    with transaction.atomic():
        run = export_enqueue(name="accounts", by=alice, query=QueryDict("industry=Software"))
    run = _wait_for(run)

    assert run.status == RunStatus.DONE, run.error
    body = export_file(run).read_text(encoding="utf-8-sig")
    assert run.result["rows"] == 5
    assert body.count("Mine ") == 5
    assert "Theirs" not in body
    assert "Mine retail" not in body
