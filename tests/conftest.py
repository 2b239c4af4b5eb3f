"""Named users for every permission test: two reps, a marketer, a director and an admin."""

import importlib

import pytest
from django.conf import settings

from abm.models import Role, User

# Provides the celery_worker fixture: a real worker thread consuming from the real broker.
pytest_plugins = ("celery.contrib.pytest",)


def make_user(username: str, role: str, **extra) -> User:
    return User.objects.create_user(
        username=username,
        password="pw-for-tests-1",
        role=role,
        first_name=username.capitalize(),
        email=f"{username}@example.com",
        **extra,
    )


@pytest.fixture
def alice(db) -> User:
    """A sales rep."""
    return make_user("alice", Role.SALES)


@pytest.fixture
def bob(db) -> User:
    """Another sales rep."""
    return make_user("bob", Role.SALES)


@pytest.fixture
def maria(db) -> User:
    """A marketer."""
    return make_user("maria", Role.MARKETER)


@pytest.fixture
def diana(db) -> User:
    """A director."""
    return make_user("diana", Role.DIRECTOR)


@pytest.fixture
def root(db) -> User:
    return make_user("root", Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def exchange_rates(request) -> None:
    """The rates accounts' data migration seeds: a transactional test's flush empties the table."""
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in request.fixturenames or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        return  # a test without the database
    from django.apps import apps

    importlib.import_module("accounts.migrations.0004_seed_exchange_rates").seed(apps, None)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for attackers, not for a test suite that creates many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def celery_app():
    """Our own app and broker; worker tests only make sense with Redis (the PostgreSQL leg)."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: runs on the PostgreSQL + Redis leg of make test")
    from abm.celery import app

    return app


@pytest.fixture(scope="session")
def celery_worker_parameters():
    return {"perform_ping_check": False, "shutdown_timeout": 30}


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in-process, as the embedded default does, whatever the broker.

    For tests of what a user sees once a job has run; tests of the worker use celery_worker.
    """
    from abm.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def queued_tasks():
    """Tasks are sent and stay queued, as in production before a worker takes them: for browser
    tests whose requests queue runs they never look at. On the SQLite leg an eager run would run
    inside the live server's request (seen taking over 10 s with CI's four processes on two
    cores); the in-memory broker keeps the message and nothing consumes it."""
    from abm.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = before


@pytest.fixture(scope="session")
def stack_template(tmp_path_factory):
    """A migrated SQLite file that each embedded stack starts from (tests/embedded_stack.py)."""
    from tests.embedded_stack import migrated_database

    return migrated_database(tmp_path_factory.mktemp("stack-template"))


@pytest.fixture(scope="session")
def embedded_stack(stack_template, tmp_path_factory):
    """The default mode as `make run` starts it (web, worker, beat, filesystem broker) on a
    seeded demo of 40 accounts; `.url` is its base URL. Shared by the session's tests.

    Recomputes wait 2 s for more changes (30 s by default) so tests see their effect soon.
    """
    from tests.embedded_stack import Stack

    stack = Stack(
        tmp_path_factory.mktemp("embedded-stack"),
        stack_template,
        ABM_RECOMPUTE_DEBOUNCE_SECONDS="2",
    )
    stack.manage("seed_demo", "--accounts", "40")
    try:
        yield stack.start()
    finally:
        stack.kill()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts without the figures (and their HTML) an earlier one kept
    (dashboards/figure_cache.py): ids repeat once a test's rows are rolled back."""
    from django.core.cache import caches

    caches["default"].clear()
    caches["figures"].clear()


@pytest.fixture(scope="session", autouse=True)
def _tasks_in_process_on_the_sqlite_leg():
    """Without REDIS_URL the suite runs tasks in-process and sends nothing to var/broker/.

    The application itself never runs tasks eagerly: tests/test_embedded_stack.py starts the
    default mode's real worker and beat. The Redis leg keeps its broker and its worker tests.
    """
    if settings.REDIS_URL:
        yield
        return
    from abm.celery import app

    before = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = True, "memory://"
    yield
    app.conf.task_always_eager, app.conf.broker_url = before


@pytest.fixture(scope="session", autouse=True)
def _no_stale_messages():
    """Drop task messages an earlier run left queued (their run ids would match new rows)."""
    if settings.REDIS_URL:
        from abm.celery import app

        app.control.purge()
