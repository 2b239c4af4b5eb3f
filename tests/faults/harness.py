"""A private Redis and Celery workers as subprocesses, for the fault tests to kill and restart.

Nothing here touches the Redis other tests use: each test gets its own redis-server on a free
port, and points this process's Celery app at it while it runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import redis
from django.conf import settings
from django.db import connection

# Seconds before Redis hands a killed worker's unacknowledged task to another worker (an hour in
# production). The replacement worker is started once it has passed: it restores such messages
# when it connects, and only every ~100 s after that.
VISIBILITY_TIMEOUT = 5
QUEUES = "celery"


def wait_until(check: Callable[[], object], *, timeout: float, what: str, every=0.05):
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def worker_database_url() -> str:
    """The pytest-django test database, for the worker subprocesses."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = quote(db["HOST"] or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'], safe='')}"


def terminate_other_backends() -> int:
    """pg_terminate_backend on every other session of the test database (the workers')."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


class RedisServer:
    """redis-server without persistence: a restart loses every queued message, as it would."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                *("--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._pings, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)
        self.process = None

    def queued(self, queue: str = "celery") -> int:
        return self.client().llen(queue)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)

    def _pings(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.exceptions.ConnectionError:
            return False


class Worker:
    """`celery -A abm worker` in a subprocess on the test database and the private Redis."""

    def __init__(self, name: str, *, redis_url: str, log: Path):
        self.log = log
        env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": redis_url,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            *(sys.executable, "-m", "celery", "-A", "abm", "worker"),
            *("--pool=solo", "--concurrency=1", "-Q", QUEUES, "-n", f"{name}@%h"),
            *("--loglevel=INFO", "--without-mingle", "--without-gossip", "--without-heartbeat"),
        ]
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of pytest does not reach it; teardown ends it
            )

    def wait_ready(self, timeout: float = 45) -> Worker:
        def ready():
            assert self.process.poll() is None, f"worker exited:\n{self.output()[-3000:]}"
            return " ready." in self.output()

        wait_until(ready, timeout=timeout, what=f"worker ready (log {self.log})", every=0.2)
        return self

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, no cleanup."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def celery_app_on(url: str):
    """Point this process's Celery app (broker and results) at `url`, and back afterwards."""
    from abm.celery import app

    before = (app.conf.broker_url, app.conf.result_backend)

    def reset_connections():
        app._pool = None
        if "amqp" in app.__dict__:
            app.__dict__["amqp"]._producer_pool = None
        app._backend_cache = None
        app._local.__dict__.pop("backend", None)

    app.conf.broker_url = app.conf.result_backend = url
    reset_connections()
    try:
        yield app
    finally:
        app.conf.broker_url, app.conf.result_backend = before
        reset_connections()
