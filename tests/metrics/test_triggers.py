"""Incremental recomputes are debounced: a burst of changes queues one run and sends one task."""

import datetime as dt
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from metrics import tasks, triggers
from metrics.models import MetricRun, RunKind, RunStatus
from metrics.triggers import request_recompute
from tests.factories import AccountFactory, ActivityFactory


@pytest.fixture
def sent():
    """The tasks handed to the broker (outbound I/O), as (args, options)."""
    with mock.patch.object(tasks.recompute_incremental_task, "apply_async") as apply_async:
        yield apply_async


def incremental_runs():
    return MetricRun.objects.filter(kind=RunKind.INCREMENTAL)


@pytest.mark.django_db
def test_ten_triggers_in_one_transaction_make_one_run_and_one_task(
    django_capture_on_commit_callbacks, sent, settings
):
    settings.ABM_RECOMPUTE_DEBOUNCE_SECONDS = 45
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            runs = [request_recompute(reason="activities imported") for _ in range(10)]

    assert len(callbacks) == 1
    assert incremental_runs().count() == 1
    run = runs[0]
    assert runs[1:] == [None] * 9
    assert (run.status, run.params) == (RunStatus.QUEUED, {"reason": "activities imported"})
    sent.assert_called_once_with((run.pk,), countdown=45)


@pytest.mark.django_db
def test_nothing_is_sent_before_the_commit(django_capture_on_commit_callbacks, sent):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request_recompute(reason="opportunity updated")
    assert len(callbacks) == 1
    sent.assert_not_called()


@pytest.mark.django_db
def test_a_rolled_back_change_queues_nothing(django_capture_on_commit_callbacks, sent):
    def failing_import():
        with transaction.atomic():
            request_recompute(reason="import")
            raise RuntimeError("the import failed")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        failing_import()
    assert not incremental_runs().exists()
    sent.assert_not_called()


@pytest.mark.django_db
def test_once_the_run_started_the_next_change_queues_another(
    django_capture_on_commit_callbacks, sent
):
    with django_capture_on_commit_callbacks(execute=True):
        first = request_recompute(reason="activity logged")
    MetricRun.objects.filter(pk=first.pk).update(status=RunStatus.RUNNING)

    with django_capture_on_commit_callbacks(execute=True):
        second = request_recompute(reason="activity logged")

    assert second is not None
    assert second.pk != first.pk
    assert sent.call_count == 2


@pytest.mark.django_db
def test_a_queued_run_whose_task_was_lost_stops_blocking(django_capture_on_commit_callbacks, sent):
    lost = MetricRun.objects.create(kind=RunKind.INCREMENTAL)
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    long_ago = timezone.now() - dt.timedelta(seconds=visibility + triggers.debounce_seconds() + 60)
    MetricRun.objects.filter(pk=lost.pk).update(created_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        run = request_recompute(reason="ICP edited")

    lost.refresh_from_db()
    assert lost.status == RunStatus.FAILED
    assert "never started" in lost.error
    assert run.status == RunStatus.QUEUED
    sent.assert_called_once()


@pytest.mark.django_db
def test_a_request_losing_the_race_to_queue_does_nothing(sent):
    """Another transaction queued a run this one could not see yet: the unique index refuses
    a second queued run, and the request relies on the first."""
    MetricRun.objects.create(kind=RunKind.INCREMENTAL)
    with mock.patch.object(triggers, "_queued_run", return_value=None):
        assert request_recompute(reason="opportunity updated") is None
    assert incremental_runs().count() == 1


@pytest.mark.django_db
def test_a_full_run_in_the_queue_does_not_absorb_an_incremental_request(
    django_capture_on_commit_callbacks, sent
):
    MetricRun.objects.create(kind=RunKind.FULL)
    with django_capture_on_commit_callbacks(execute=True):
        assert request_recompute(reason="import") is not None


@pytest.mark.skipif(bool(django_settings.REDIS_URL), reason="the SQLite leg runs tasks eagerly")
@pytest.mark.django_db
def test_without_a_broker_the_run_happens_right_after_the_commit(
    django_capture_on_commit_callbacks,
):
    account = AccountFactory(tier=1)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            for _ in range(3):
                ActivityFactory(account=account, kind="meeting", channel="sdr_outreach")
                request_recompute(reason="activity logged")

    run = incremental_runs().get()
    assert (run.status, run.percent, run.phase) == (RunStatus.DONE, 100, "done")
    assert run.result["activities"] == 3
    account.refresh_from_db()
    assert account.engagement_score > 0
