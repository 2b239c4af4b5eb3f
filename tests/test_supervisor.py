"""abm/supervisor.py with stand-in children: stubborn ones are killed, orphans are not left.

Each supervisor runs in a subprocess (it installs signal handlers and becomes a subreaper, which
the pytest process must not). tests/test_embedded_stack.py runs it with the real web server,
worker and beat.
"""

import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.embedded_stack import ROOT, alive, descendants

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

SLEEPER = "import time; print('ready', flush=True); time.sleep(120)"
# Ignores SIGTERM, so only SIGKILL stops it.
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(120)"
)
# Leaves a sleeping grandchild in its process group and exits at once, with code 3.
QUITTER = (
    "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
    "'import time; time.sleep(120)']); print('ready', flush=True); time.sleep(1); sys.exit(3)"
)


def supervise(tmp_path, **children: str) -> tuple[subprocess.Popen, object]:
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from abm.supervisor import Child, Supervisor
        children = [Child(name, [sys.executable, "-c", code]) for name, code in {children!r}.items()]
        sys.exit(Supervisor(children, cwd=Path.cwd(), stop_timeout=1).run())
        """
    )
    log = tmp_path / "supervisor.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", script], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    return process, log


def wait_for_text(log, text: str, count: int = 1, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while log.read_text().count(text) < count:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def test_a_child_that_ignores_sigterm_is_killed_and_nothing_is_left(tmp_path):
    process, log = supervise(tmp_path, calm=SLEEPER, stubborn=STUBBORN)
    wait_for_text(log, "| ready", count=2)
    tree = descendants(process.pid)
    assert len(tree) == 3

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=20) == 0
    assert alive(tree) == set()
    assert "stubborn did not stop: SIGKILL" in log.read_text()
    assert "calm did not stop" not in log.read_text()


def test_a_child_that_exits_stops_the_others_and_its_orphan_and_fails(tmp_path):
    process, log = supervise(tmp_path, calm=SLEEPER, quitter=QUITTER)
    wait_for_text(log, "| ready", count=2)
    tree = descendants(process.pid)
    assert len(tree) == 4  # the supervisor, two children and the quitter's grandchild

    assert process.wait(timeout=20) == 1
    assert alive(tree) == set()
    assert "quitter exited with code 3; stopping the rest" in log.read_text()
