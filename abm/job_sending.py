"""Send a run's task to the broker without ever losing it: the Job row is the outbox.

``run_enqueue`` (abm/jobs.py) records the run with the name of its task, and after commit
``run_send`` hands the task to the broker. When the broker is down the request goes on: the run
stays queued with ``sent_at`` empty and the error kept, and ``sweep_unsent_runs`` (beat, every
minute) sends it again once the broker is back. It also re-sends runs sent long ago and never claimed:
a Redis restart without persistence loses every queued message.

A run may so be delivered twice; ``run_claim`` lets one message claim it and makes the other a
no-op (a finished run, or one running under another message, is left alone).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import ChannelError
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from abm.celery import app
from abm.models import Job, RunStatus

log = logging.getLogger(__name__)

# What a send raises while the broker (or the Redis result backend) cannot be reached; the
# filesystem broker raises ChannelError when its folder cannot be written.
BROKER_DOWN = (BrokerError, ChannelError, RedisConnectionError, RedisTimeoutError, ConnectionError)
# A run whose send failed, or whose sender died between commit and send, is due after this.
UNSENT_GRACE = dt.timedelta(seconds=10)
# Queued runs are normally claimed within seconds; the debounce countdown comes on top.
RESEND_AFTER = dt.timedelta(minutes=5)
SWEEP_BATCH = 100


def task_named(name: str):
    """The registered Celery task of that name. Jobs name their task, so the modules that queue
    work never import the modules that do it (which import them)."""
    # Our app, not celery's current_app: that one is per thread, and a web server thread that
    # never set it gets celery's default app, which knows none of our tasks.
    if name not in app.tasks:
        app.loader.import_default_modules()  # autodiscovery, as a worker does at start
    return app.tasks[name]


def run_send(run: Job, *, task=None, countdown: int | None = None) -> bool:
    """Hand the run's task to the broker and note it on the row; False when the broker is down."""
    task = task or task_named(run.task)

    def send():
        if countdown is None:
            task.delay(run.pk)
        else:
            task.apply_async((run.pk,), countdown=countdown)

    if task.app.conf.task_always_eager:
        send()  # the test suite's eager mode: the task runs here and now
        return True
    try:
        send()
    except BROKER_DOWN as exc:
        log.warning("run %s not sent, the sweeper will send it: %r", run.pk, exc)
        Job.objects.filter(pk=run.pk).update(
            send_attempts=F("send_attempts") + 1, last_send_error=repr(exc)[:2000]
        )
        return False
    Job.objects.filter(pk=run.pk).update(
        sent_at=timezone.now(), send_attempts=F("send_attempts") + 1, last_send_error=""
    )
    return True


def runs_to_send(*, now: dt.datetime | None = None, unsent_grace=None, resend_after=None):
    """Queued runs with a task that no broker has, or that none has delivered for a long time."""
    now = now or timezone.now()
    unsent_grace = UNSENT_GRACE if unsent_grace is None else unsent_grace
    if resend_after is None:
        resend_after = RESEND_AFTER + dt.timedelta(seconds=settings.ABM_RECOMPUTE_DEBOUNCE_SECONDS)
    return (
        Job.objects.filter(status=RunStatus.QUEUED)
        .exclude(task="")
        .filter(
            Q(sent_at__isnull=True, created_at__lte=now - unsent_grace)
            | Q(sent_at__lte=now - resend_after)
        )
        .order_by("created_at", "id")
    )


def sweep_unsent_runs(**due) -> dict:
    """Send what ``runs_to_send`` finds; stops at the first failure (the broker is still down)."""
    sent: list[int] = []
    due_runs = list(runs_to_send(**due)[:SWEEP_BATCH])
    for run in due_runs:
        if not run_send(run):
            break
        sent.append(run.pk)
    return {"due": len(due_runs), "sent": sent}
