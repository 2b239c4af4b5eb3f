"""Run the web server, a Celery worker and beat as one foreground command (`manage.py serve`).

Each child runs in its own session (its own process group), so a Ctrl-C in the terminal reaches
only this supervisor, which then stops them in order: SIGTERM to each child (the worker finishes
its task and hands unacknowledged messages back to the broker), then to each child's whole group
(runserver's reloader child, the worker's pool), then SIGKILL to what is left after the timeout.
If one child dies the others are stopped and the command exits non-zero.

On Linux the supervisor is also a "child subreaper": a grandchild whose parent died is handed to
it rather than to init, so it can reap it and wait until no process it started is left.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
POLL_SECONDS = 0.2


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    returncode: int | None = None
    reader: threading.Thread | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass


def stack_commands(addrport: str, *, base_dir: Path, reload: bool = True) -> list[Child]:
    """What `make run` starts: the development web server, one worker and one beat."""
    python = sys.executable
    web = [python, str(base_dir / "manage.py"), "runserver", addrport]
    if not reload:
        web.append("--noreload")
    celery = [python, "-m", "celery", "-A", "abm"]
    return [
        Child("web", web),
        # No mingle, gossip or heartbeat: one worker has no peers, and the filesystem broker
        # carries no broadcast messages.
        Child(
            "worker",
            [*celery, "worker", "--loglevel=INFO", "--without-mingle", "--without-gossip"]
            + ["--without-heartbeat"],
        ),
        Child("beat", [*celery, "beat", "--loglevel=INFO"]),
    ]


class Supervisor:
    def __init__(self, children: list[Child], *, cwd: Path, stop_timeout: float = 20.0, out=None):
        self.children = children
        self.cwd = cwd
        self.stop_timeout = stop_timeout
        self.out = out or sys.stdout
        self._print_lock = threading.Lock()
        self._stop_signal: int | None = None
        self._signals_seen = 0

    # --- output

    def say(self, name: str, line: str) -> None:
        with self._print_lock:
            self.out.write(f"{name:<6} | {line.rstrip()}\n")
            self.out.flush()

    def _pump(self, child: Child) -> None:
        for raw in iter(child.process.stdout.readline, b""):
            self.say(child.name, raw.decode(errors="replace"))

    # --- life cycle

    def run(self) -> int:
        """Start every child and wait; 0 after a stop signal, 1 when a child died on its own."""
        _become_subreaper()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        try:
            for child in self.children:
                self._start(child)
        except OSError:
            self.stop()  # the ones already started
            raise
        died = None
        while self._stop_signal is None and died is None:
            time.sleep(POLL_SECONDS)
            self._reap()
            died = next((c for c in self.children if c.returncode is not None), None)
        if died is not None:
            self.say("serve", f"{died.name} exited with code {died.returncode}; stopping the rest")
        else:
            self.say("serve", f"{signal.Signals(self._stop_signal).name}: stopping")
        self.stop()
        return 1 if died is not None else 0

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.argv,
            cwd=self.cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session and process group
        )
        child.reader = threading.Thread(target=self._pump, args=(child,), daemon=True)
        child.reader.start()
        self.say("serve", f"started {child.name} (pid {child.pid})")

    def _on_signal(self, signum, _frame) -> None:
        self._signals_seen += 1
        self._stop_signal = self._stop_signal or signum

    def stop(self) -> None:
        """SIGTERM each child, then its group, then SIGKILL; returns when every group is gone."""
        for child in self._running():
            _kill(child.pid, signal.SIGTERM)
        self._wait(lambda: not any(c.returncode is None for c in self.children), self.stop_timeout)
        for child in self.children:
            child.signal_group(signal.SIGTERM)
        self._wait(self._all_gone, 3.0)
        for child in self.children:
            if child.group_alive():
                self.say("serve", f"{child.name} did not stop: SIGKILL")
                child.signal_group(signal.SIGKILL)
        self._wait(self._all_gone, 5.0, interruptible=False)
        for child in self.children:
            if child.reader is not None:
                child.reader.join(timeout=1.0)
        self.say("serve", "stopped")

    def _running(self) -> list[Child]:
        return [c for c in self.children if c.process is not None and c.returncode is None]

    def _all_gone(self) -> bool:
        return not any(c.group_alive() for c in self.children if c.process is not None)

    def _wait(self, done, timeout: float, *, interruptible: bool = True) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._reap()
            # A second Ctrl-C does not wait for a running task.
            hurry = interruptible and self._signals_seen > 1
            if done() or time.monotonic() > deadline or hurry:
                return
            time.sleep(0.05)

    def _reap(self) -> None:
        """Collect every finished child, ours or an orphan handed to us, noting our children's codes."""
        by_pid = {c.pid: c for c in self.children if c.process is not None}
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = by_pid.get(pid)
            if child is not None:
                child.returncode = os.waitstatus_to_exitcode(status)
                child.process.returncode = child.returncode


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _become_subreaper() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # orphans then go to init, which reaps them as well
