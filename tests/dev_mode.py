"""Loaded before anything else (`-p tests.dev_mode` in pyproject.toml), so before pytest-django reads
the settings: the suite runs in development mode, and the processes it starts inherit the flag.
Without ABM_DEV the settings are production's; tests/test_settings.py starts processes without it."""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

os.environ["ABM_DEV"] = "1"
# Kept figures stay in each process: a shared cache would outlive the rows a test rolls back.
os.environ["ABM_FIGURES_CACHE"] = "memory"


def _own_redis_database(url: str, worker: int) -> str:
    """The broker URL moved `worker` Redis databases on, so xdist workers share no queue."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + worker) % 16}"))


# pytest-xdist (each leg of `make test` runs in two processes) names its workers gw0, gw1...:
# pytest-django gives each its own test database; this gives each its own Redis database and
# export and broker folders, so one process's Celery worker never takes the other's tasks.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and _worker != "gw0":
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _own_redis_database(os.environ["REDIS_URL"], int(_worker[2:]))
    _var = Path(__file__).resolve().parents[1] / "var"
    os.environ["ABM_EXPORT_DIR"] = str(_var / f"exports-{_worker}")
    os.environ["ABM_BROKER_DIR"] = str(_var / f"broker-{_worker}")
