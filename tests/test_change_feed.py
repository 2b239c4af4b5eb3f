"""The change feed: announcements record what changed, and a burst of them queues one debounced
run of the engine and sends one task; the engine consumes the entries when its run succeeds."""

import datetime as dt
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from abm import change_feed
from abm.change_feed import announce_change
from abm.models import Change, Job, RunKind, RunStatus
from metrics import tasks
from tests.factories import AccountFactory, ActivityFactory


@pytest.fixture
def sent():
    """The tasks handed to the broker (outbound I/O), as (args, options)."""
    with mock.patch.object(tasks.recompute_incremental_task, "apply_async") as apply_async:
        yield apply_async


def incremental_runs():
    return Job.objects.filter(kind=RunKind.INCREMENTAL)


@pytest.mark.django_db
def test_ten_triggers_in_one_transaction_make_one_run_and_one_task(
    django_capture_on_commit_callbacks, sent, settings
):
    settings.ABM_RECOMPUTE_DEBOUNCE_SECONDS = 45
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            runs = [announce_change(reason="activities imported") for _ in range(10)]

    assert len(callbacks) == 1
    assert incremental_runs().count() == 1
    run = runs[0]
    assert runs[1:] == [None] * 9
    assert (run.status, run.params) == (RunStatus.QUEUED, {"reason": "activities imported"})
    sent.assert_called_once_with((run.pk,), countdown=45)


@pytest.mark.django_db
def test_nothing_is_sent_before_the_commit(django_capture_on_commit_callbacks, sent):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        announce_change(reason="opportunity updated")
    assert len(callbacks) == 1
    sent.assert_not_called()


@pytest.mark.django_db
def test_a_rolled_back_change_queues_nothing(django_capture_on_commit_callbacks, sent):
    def failing_import():
        with transaction.atomic():
            announce_change(reason="import")
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
        first = announce_change(reason="activity logged")
    Job.objects.filter(pk=first.pk).update(status=RunStatus.RUNNING)

    with django_capture_on_commit_callbacks(execute=True):
        second = announce_change(reason="activity logged")

    assert second is not None
    assert second.pk != first.pk
    assert sent.call_count == 2


@pytest.mark.django_db
def test_a_queued_run_whose_task_was_lost_stops_blocking(django_capture_on_commit_callbacks, sent):
    lost = Job.objects.create(kind=RunKind.INCREMENTAL)
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    long_ago = timezone.now() - dt.timedelta(
        seconds=visibility + change_feed.debounce_seconds() + 60
    )
    Job.objects.filter(pk=lost.pk).update(created_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        run = announce_change(reason="ICP edited")

    lost.refresh_from_db()
    assert lost.status == RunStatus.FAILED
    assert "never started" in lost.error
    assert run.status == RunStatus.QUEUED
    sent.assert_called_once()


@pytest.mark.django_db
def test_a_request_losing_the_race_to_queue_does_nothing(sent):
    """Another transaction queued a run this one could not see yet: the unique index refuses
    a second queued run, and the request relies on the first."""
    Job.objects.create(kind=RunKind.INCREMENTAL)
    with mock.patch.object(change_feed, "_queued_run", return_value=None):
        assert announce_change(reason="opportunity updated") is None
    assert incremental_runs().count() == 1


@pytest.mark.django_db
def test_a_full_run_in_the_queue_does_not_absorb_an_incremental_request(
    django_capture_on_commit_callbacks, sent
):
    Job.objects.create(kind=RunKind.FULL)
    with django_capture_on_commit_callbacks(execute=True):
        assert announce_change(reason="import") is not None


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
                announce_change(reason="activity logged")

    run = incremental_runs().get()
    assert (run.status, run.percent, run.phase) == (RunStatus.DONE, 100, "done")
    assert run.result["activities"] == 3
    account.refresh_from_db()
    assert account.engagement_score > 0


@pytest.mark.django_db
def test_an_announcement_records_each_changed_account_once(sent):
    with transaction.atomic():
        announce_change(reason="2 activities ingested", account_ids=[7, 3, 7])
        announce_change(reason="ICP edited")

    rows = list(Change.objects.values_list("account_id", "reason"))
    assert rows == [
        (3, "2 activities ingested"),
        (7, "2 activities ingested"),
        (None, "ICP edited"),
    ]


@pytest.mark.django_db
def test_the_feed_is_consumed_only_when_the_run_succeeds(sent):
    announce_change(reason="deal won", account_ids=[5])
    seen = []

    def failing_run():
        with change_feed.changes_consumed() as pending:
            seen.append((pending.account_ids, pending.reasons))
            raise RuntimeError("the run failed")

    with pytest.raises(RuntimeError):
        failing_run()
    assert seen == [(frozenset({5}), ("deal won",))]
    assert Change.objects.count() == 1

    with change_feed.changes_consumed() as pending:
        announce_change(reason="after the run started", account_ids=[6])
    assert pending.account_ids == frozenset({5})
    assert list(Change.objects.values_list("account_id", flat=True)) == [6]


@pytest.mark.django_db
def test_a_change_for_every_account_reads_as_all(sent):
    announce_change(reason="lead imported", account_ids=[1])
    announce_change(reason="touch rules changed")
    with change_feed.changes_consumed() as pending:
        assert pending.account_ids is None


@pytest.mark.django_db(transaction=True)
def test_the_engine_run_consumes_what_was_announced(sent):
    account = AccountFactory()
    with transaction.atomic():
        ActivityFactory(account=account)
        run = announce_change(reason="activity logged", account_ids=[account.pk])
    assert Change.objects.filter(account_id=account.pk).exists()

    # The worker's side, run here: the consumer task claims the job and reads the feed.
    tasks.recompute_incremental_task.apply(args=(run.pk,))

    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert not Change.objects.exists()
