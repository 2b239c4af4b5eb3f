"""Fixtures of the fault tests: a private Redis, Celery workers to kill, and the skip rules.

They need PostgreSQL (the workers are other processes on the test database) and REDIS_URL set
(the leg of `make test` that has a broker); elsewhere they skip.
"""

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from tests.faults.harness import RedisServer, Worker, celery_app_on, terminate_other_backends

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    """Skip before any fixture runs: no test database is set up for tests that cannot run."""
    reason = _missing()
    if reason:
        for item in items:
            if item.path.parent == HERE:
                item.add_marker(pytest.mark.skip(reason=reason))


def _missing() -> str:
    if not settings.REDIS_URL:
        return "fault tests need REDIS_URL (the PostgreSQL + Redis leg of make test)"
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return "fault tests need PostgreSQL: workers in other processes share the database"
    if shutil.which("redis-server") is None:
        return "fault tests start their own redis-server, which is not installed"
    return ""


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test only, with this process's Celery app pointed at it."""
    server = RedisServer(tmp_path)
    try:
        server.start()
        with celery_app_on(server.url):
            yield server
    finally:
        server.stop()


@pytest.fixture
def workers(transactional_db, own_redis, tmp_path):
    """Start workers with ``workers.start()``; every one still alive is killed at teardown,
    before the database is flushed (this fixture is torn down first)."""
    started: list[Worker] = []

    class Workers:
        def start(self) -> Worker:
            n = len(started) + 1
            worker = Worker(f"fault{n}", redis_url=own_redis.url, log=tmp_path / f"worker{n}.log")
            started.append(worker)
            return worker.wait_ready()

        @property
        def logs(self) -> str:
            return "\n".join(worker.output() for worker in started)

    yield Workers()
    for worker in started:
        worker.kill()
    terminate_other_backends()  # a killed worker's session may linger until PostgreSQL notices
