"""Playwright against pytest-django's live server, driving Debian's chromium (never a downloaded one)."""

import os
import re
import warnings
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
MAX_FULL_PAGE = 20_000  # px: the longest of our pages (tasks at 390 px) is ~12 500
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "pw-for-tests-1"  # what tests/conftest.py gives the named users


# Module scope, not session: the event loop and the environment variable below must not outlive
# the browser tests (a later test's `manage.py check --deploy` subprocess would inherit the variable).
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("ABM_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing; browser tests need Debian's chromium")
    from playwright.sync_api import expect, sync_playwright

    # CI runs four test processes on two cores; an answer that runs an eager engine run (and the
    # director views built after it) can pass Playwright's 5 s default there. A slow pass, not a
    # failure: assertions still fail when what they wait for never comes.
    expect.set_options(timeout=15_000)
    # Playwright's sync API runs an event loop in this thread, so Django would otherwise refuse to
    # touch the database from the test body with SynchronousOnlyOperation.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, request):
    """A fresh context per test; its last state is saved to var/screenshots/<test name>.png."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    from playwright.sync_api import Error as PlaywrightError

    try:
        page.wait_for_load_state("load")  # the last click may still be navigating (log out)
        save_screenshot(page, request.node.name)
    except PlaywrightError as exc:
        # A diagnostic only (seen timing out on a loaded CI machine): the test's own assertions
        # decide whether it passed.
        warnings.warn(f"no screenshot of {request.node.name}: {exc}", stacklevel=1)
    context.close()


def save_screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe_name = re.sub(r"[^A-Za-z0-9_.\[\]-]+", "_", name)
    path = SCREENSHOTS / f"{safe_name}.png"
    # A very long page (ReDoc's API reference) is shot as the viewport: its full page took over
    # the 10 s timeout on a loaded CI machine.
    height = page.evaluate("document.documentElement.scrollHeight")
    page.screenshot(path=str(path), full_page=height <= MAX_FULL_PAGE)
    return path


def log_in(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("domcontentloaded")


@pytest.fixture
def login():
    """The helper as a fixture, so tests need not import from a conftest: login(page, live_server, "alice")."""
    return log_in


@pytest.fixture
def screenshot():
    """save_screenshot(page, name) for extra shots along the way."""
    return save_screenshot


@pytest.fixture
def console_errors(page):
    """Console errors and uncaught exceptions of the page, for a test to assert there are none."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture(scope="session", autouse=True)
def _one_request_at_a_time_on_in_memory_sqlite():
    """On the SQLite leg the live server shares the test's in-memory connection; two requests at
    once (an htmx refresh beside a form post) would use it from two threads and fail with
    "database table is locked". A single-threaded server answers them in turn (with
    Connection: close, so the browser's other connections do not wait on a kept-alive one)."""
    from django.core.servers.basehttp import WSGIServer
    from django.db import connection
    from django.test.testcases import LiveServerThread

    class OneAtATime(WSGIServer):
        # The server thread itself already uses the overridden connections.
        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)

    if connection.vendor != "sqlite":
        yield
        return
    before = LiveServerThread.server_class
    LiveServerThread.server_class = OneAtATime
    yield
    LiveServerThread.server_class = before
