"""The embedded default as `make run` starts it, for tests: `manage.py serve` in a subprocess.

Each stack has its own folder with a SQLite file, a broker folder and a beat schedule, so tests
never touch var/. The test process reads the stack's database with sqlite3 (pytest-django's
database is another one) and drives it through HTTP, a browser or `manage.py` subprocesses.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Variables of the test run that the stack must not inherit.
NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "ABM_BROKER_DIR")


def free_port() -> int:
    """A port the system just handed out. Not the first free one of a fixed range: test processes
    side by side (pytest-xdist, both legs of `make test`) probed the same port before either
    stack bound it, and one stack's check then reached the other's server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def migrated_database(folder: Path) -> Path:
    """A migrated, empty SQLite file, to copy for each stack (migrating takes ~10 s)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "template.sqlite3"
    manage(stack_env(folder, path), "migrate", "--noinput", "-v", "0")
    return path


def copy_database(source: Path, target: Path) -> None:
    # The backup API includes what is still in the write-ahead log; a file copy would not.
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def stack_env(folder: Path, database: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    return {
        **env,
        "DATABASE_URL": f"sqlite:///{database}",
        "ABM_BROKER_DIR": str(folder / "broker"),
        "ABM_BEAT_SCHEDULE_FILE": str(folder / "celerybeat-schedule"),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


class Stack:
    """Web server, worker and beat under `manage.py serve`, on a free port."""

    def __init__(self, folder: Path, template: Path, **env: str):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.database = folder / "db.sqlite3"
        copy_database(template, self.database)
        self.env = stack_env(folder, self.database, **env)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "serve.log"
        self.process: subprocess.Popen | None = None
        self.started_in: float | None = None

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)

    def start(self, timeout: float = 60) -> Stack:
        """The command `make run` ends with; returns once the sign-in page answers."""
        began = time.monotonic()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", f"127.0.0.1:{self.port}"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_for(self._login_page_answers, timeout, "the sign-in page")
        self.started_in = time.monotonic() - began
        return self

    def _login_page_answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log()}")
        try:
            with urllib.request.urlopen(f"{self.url}/login/", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(self.database, timeout=20) as db:
            rows = db.execute(sql, params).fetchall()
        db.close()
        return rows

    def wait_for(self, condition, timeout: float, what: str, *, every: float = 0.1):
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {what}\n{self.log()}"
                )
            time.sleep(every)

    def process_tree(self) -> set[int]:
        """The supervisor and every process below it."""
        return descendants(self.process.pid)

    def interrupt(self, timeout: float = 40) -> int:
        """Ctrl-C: SIGINT to the supervisor; its exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """Clean-up after a failed test: whatever of the tree is still there."""
        if self.process is None or self.process.poll() is not None:
            return
        tree = self.process_tree()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for pid in alive(tree):
                os.kill(pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def descendants(root: int) -> set[int]:
    """The process and every process below it, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            children.setdefault(stat[1], []).append(int(entry.name))
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(children.get(pid, []))
    return tree


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the name may contain spaces and parentheses
    return fields[0], int(fields[1])


def alive(pids: set[int]) -> set[int]:
    """The processes still running (a zombie has stopped; only its exit status is left)."""
    return {pid for pid in pids if (stat := _stat(pid)) and stat[0] != "Z"}
