"""`make run`'s last step, `manage.py serve`, really runs the default mode's web server, worker
and beat on the filesystem broker, and stops every process it started.

No Redis is needed: each test starts the stack in subprocesses on its own SQLite file and broker
folder (tests/embedded_stack.py) and reads the process tree from /proc.
"""

import datetime as dt
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.embedded_stack import Stack, alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

# A run whose send was lost a minute ago: only beat's sweep (abm/job_sending.py) sends it.
UNSENT_RUN = """
import datetime as dt
from django.utils import timezone
from abm.models import Job
run = Job.objects.create(kind="full", task="metrics.recompute_all")
Job.objects.filter(pk=run.pk).update(created_at=timezone.now() - dt.timedelta(minutes=1))
print("run", run.pk)
"""
# What "Recompute now" does: record the run and send its task once the transaction commits.
RECOMPUTE_NOW = """
from django.db import transaction
from metrics.engine.runner import recompute_enqueue
with transaction.atomic():
    run = recompute_enqueue()
print("run", run.pk)
"""


def run_id(output: str) -> int:
    return int(output.strip().splitlines()[-1].removeprefix("run "))


def run_row(stack: Stack, pk: int) -> dict:
    columns = ("status", "sent_at", "started_at", "finished_at", "error")
    sql = f"SELECT {', '.join(columns)} FROM metrics_metricrun WHERE id = ?"
    return dict(zip(columns, stack.query(sql, (pk,))[0], strict=True))


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def commands(pids: set[int]) -> list[str]:
    lines = []
    for pid in pids:
        try:
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except FileNotFoundError:
            pass
    return lines


@pytest.fixture
def stack(stack_template, tmp_path):
    # Beat sweeps every second here (every minute by default) so the test need not wait for it.
    stack = Stack(tmp_path, stack_template, ABM_SWEEP_SECONDS="1")
    yield stack
    stack.kill()


def test_serve_runs_jobs_on_its_worker_and_beat_and_ctrl_c_leaves_no_process(stack):
    unsent = run_id(stack.manage("shell", "-c", UNSENT_RUN))
    stack.start()

    queued = run_id(stack.manage("shell", "-c", RECOMPUTE_NOW))
    stack.wait_for(lambda: run_row(stack, queued)["status"] == "done", 30, "the queued recompute")
    run = run_row(stack, queued)
    assert run["error"] == ""
    # The worker polls the broker folder every 0.25 s; generous for a loaded CI machine.
    assert when(run["started_at"]) - when(run["sent_at"]) < dt.timedelta(seconds=3)
    stack.wait_for(lambda: run_row(stack, unsent)["status"] == "done", 30, "beat's sweep")
    assert "Sending due task abm-sweep-unsent-jobs" in stack.log()

    tree = stack.process_tree()
    started = commands(tree)
    assert any(" runserver 127.0.0.1:" in line for line in started)
    assert any(" celery -A abm worker " in line for line in started)
    assert any(" celery -A abm beat " in line for line in started)
    assert len(alive(tree)) >= 5  # serve, runserver and its reloader child, worker and its pool

    assert stack.interrupt() == 0
    stack.wait_for(lambda: not alive(tree), 10, "every started process to end")
    assert "worker: Warm shutdown" in stack.log()


def test_when_one_process_dies_serve_stops_the_others_and_fails(stack):
    stack.start()
    tree = stack.process_tree()
    beat = next(pid for pid in tree if " celery -A abm beat " in "".join(commands({pid})))
    os.kill(beat, signal.SIGKILL)

    assert stack.process.wait(timeout=40) == 1
    stack.wait_for(lambda: not alive(tree), 10, "every started process to end")
    assert "beat   | " in stack.log()
    assert "beat exited with code -9; stopping the rest" in stack.log()
