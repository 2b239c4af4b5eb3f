"""The run outbox: a broker that is down loses no job, and the sweeper sends it later, once.

Only the outbound send is patched (it raises as kombu does when Redis refuses connections);
the fault tests (tests/faults) do the same against a real Redis that is stopped.
"""

import datetime as dt
import threading
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from abm.celery import app
from abm.change_feed import announce_change
from abm.job_sending import runs_to_send, sweep_unsent_runs, task_named
from abm.jobs import execute_run, run_claim
from abm.models import Job, RunKind, RunStatus
from accounts.tasks import rescore_fit
from metrics.engine.runner import recompute_enqueue
from metrics.tasks import recompute_all_task, recompute_incremental_task

DOWN = BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
LATER = dt.timedelta(minutes=1)


@pytest.fixture
def with_broker():
    """As with REDIS_URL set, whatever this leg has: tasks go to a broker, not run here."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def broker_down(with_broker):
    with (
        mock.patch.object(recompute_all_task, "delay", side_effect=DOWN) as delay,
        mock.patch.object(recompute_incremental_task, "apply_async", side_effect=DOWN),
    ):
        yield delay


@pytest.fixture
def broker_up(with_broker):
    with mock.patch.object(recompute_all_task, "delay") as delay:
        yield delay


def enqueued(django_capture_on_commit_callbacks) -> Job:
    with django_capture_on_commit_callbacks(execute=True):
        run = recompute_enqueue()
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_an_enqueue_while_the_broker_is_down_keeps_the_run_queued_and_unsent(
    broker_down, django_capture_on_commit_callbacks
):
    run = enqueued(django_capture_on_commit_callbacks)

    assert broker_down.call_count == 1
    assert (run.status, run.task, run.sent_at, run.send_attempts) == (
        RunStatus.QUEUED,
        "metrics.recompute_all",
        None,
        1,
    )
    assert "Connection refused" in run.last_send_error


@pytest.mark.django_db
def test_the_recompute_button_answers_while_the_broker_is_down(broker_down, client, maria):
    client.force_login(maria)

    response = client.post(reverse("metrics:recompute"))

    assert response.status_code == 302
    run = Job.objects.get()
    assert (run.status, run.sent_at, run.requested_by) == (RunStatus.QUEUED, None, maria)


@pytest.mark.django_db
def test_an_incremental_request_while_the_broker_is_down_is_kept_for_the_sweeper(
    broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = announce_change(reason="activities imported")
    run.refresh_from_db()

    assert (run.task, run.sent_at, run.send_attempts) == ("metrics.recompute_incremental", None, 1)
    assert run in runs_to_send(now=timezone.now() + LATER)


@pytest.mark.django_db
def test_a_sent_run_records_when(broker_up, django_capture_on_commit_callbacks):
    run = enqueued(django_capture_on_commit_callbacks)

    broker_up.assert_called_once_with(run.pk)
    assert run.sent_at is not None
    assert (run.send_attempts, run.last_send_error) == (1, "")


@pytest.mark.django_db
def test_the_sweeper_sends_unsent_runs_once_the_broker_is_back(
    broker_down, django_capture_on_commit_callbacks
):
    run = enqueued(django_capture_on_commit_callbacks)
    # Just failed: left alone for a moment (its sender may be retrying).
    assert sweep_unsent_runs() == {"due": 0, "sent": []}
    # Still down: tried, kept.
    assert sweep_unsent_runs(now=timezone.now() + LATER) == {"due": 1, "sent": []}

    broker_down.side_effect = None
    assert sweep_unsent_runs(now=timezone.now() + LATER) == {"due": 1, "sent": [run.pk]}
    run.refresh_from_db()
    assert (run.send_attempts, run.last_send_error) == (3, "")
    assert run.sent_at is not None
    # Sent: not again, unless it stays unclaimed past RESEND_AFTER (the broker lost it).
    assert sweep_unsent_runs(now=timezone.now() + LATER) == {"due": 0, "sent": []}
    assert runs_to_send(now=timezone.now() + dt.timedelta(hours=1)).get() == run
    broker_down.assert_called_with(run.pk)


@pytest.mark.django_db
def test_the_sweeper_stops_at_the_first_failure(broker_down, django_capture_on_commit_callbacks):
    for _ in range(3):
        enqueued(django_capture_on_commit_callbacks)
    broker_down.reset_mock()

    assert sweep_unsent_runs(now=timezone.now() + LATER) == {"due": 3, "sent": []}
    assert broker_down.call_count == 1


@pytest.mark.django_db
def test_the_sweeper_leaves_claimed_finished_and_taskless_runs_alone(broker_up):
    long_ago = timezone.now() - dt.timedelta(hours=2)
    for status in (RunStatus.RUNNING, RunStatus.DONE, RunStatus.FAILED):
        Job.objects.create(kind=RunKind.FULL, task="metrics.recompute_all", status=status)
    # Beat's runs and in-process imports carry no task: nothing to send.
    Job.objects.create(kind=RunKind.FULL)
    Job.objects.update(created_at=long_ago)

    assert sweep_unsent_runs() == {"due": 0, "sent": []}
    broker_up.assert_not_called()


@pytest.mark.django_db
def test_the_sweeper_sends_each_run_with_its_own_task(with_broker):
    full = Job.objects.create(kind=RunKind.FULL, task="metrics.recompute_all")
    rescore = Job.objects.create(kind=RunKind.ICP_RESCORE, task="accounts.rescore_fit")

    with (
        mock.patch.object(recompute_all_task, "delay") as full_sent,
        mock.patch.object(rescore_fit, "delay") as rescore_sent,
    ):
        result = sweep_unsent_runs(now=timezone.now() + LATER)

    assert result == {"due": 2, "sent": [full.pk, rescore.pk]}
    full_sent.assert_called_once_with(full.pk)
    rescore_sent.assert_called_once_with(rescore.pk)


@pytest.mark.django_db
def test_a_second_message_for_a_run_does_nothing_while_the_first_runs_it():
    run = Job.objects.create(kind=RunKind.FULL, task="metrics.recompute_all")
    assert run_claim(run.pk, task_id="first").task_id == "first"

    # The sweeper re-sent it before the first message arrived: the second finds it taken.
    assert run_claim(run.pk, task_id="second") is None
    # The first message again (redelivered after its worker died, or retried) starts it over.
    assert run_claim(run.pk, task_id="first").status == RunStatus.RUNNING

    assert execute_run(run.pk, lambda claimed: {"ok": 1}, task_id="first") == {"ok": 1}
    assert execute_run(run.pk, lambda claimed: {"ok": 2}, task_id="first") is None
    run.refresh_from_db()
    assert (run.status, run.result) == (RunStatus.DONE, {"ok": 1})


@pytest.mark.django_db
def test_a_run_claimed_without_a_message_may_be_started_over_by_one():
    run = Job.objects.create(kind=RunKind.FULL, status=RunStatus.RUNNING)
    assert run_claim(run.pk, task_id="any").task_id == "any"


@pytest.mark.django_db
def test_embedded_mode_runs_the_task_in_process_as_before(
    eager_tasks, django_capture_on_commit_callbacks
):
    run = enqueued(django_capture_on_commit_callbacks)

    assert run.status == RunStatus.DONE
    assert (run.sent_at, run.send_attempts) == (None, 0)  # nothing was sent anywhere


def test_the_sweeper_is_on_the_beat_schedule():
    entry = app.conf.beat_schedule["abm-sweep-unsent-jobs"]
    assert (entry["task"], entry["schedule"]) == ("abm.sweep_unsent_jobs", 60.0)
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    assert "abm.sweep_unsent_jobs" in app.tasks


def test_run_tasks_keep_no_celery_result():
    # A sender awaiting no result never subscribes to one, so Redis being down fails it fast.
    assert all(task.ignore_result for task in (recompute_all_task, rescore_fit))


def test_a_job_finds_its_task_by_name_from_any_thread():
    # A web server thread never made our Celery app its current one (the browser tests' server).
    found = {}
    thread = threading.Thread(
        target=lambda: found.update(task=task_named("metrics.recompute_incremental"))
    )
    thread.start()
    thread.join()
    assert found["task"].name == "metrics.recompute_incremental"
