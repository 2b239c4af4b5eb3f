import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from abm.celery import app
from abm.lib.env import envbool, envint

ROOT = Path(__file__).resolve().parent.parent

# A production start-up: no development flag (the suite's own, tests/dev_mode.py, is removed), no
# DEBUG, and the variables the README asks production to set.
PRODUCTION_ENV = {
    "SECRET_KEY": "a-production-secret-that-is-long-and-random-7f3k2m9q1z8x4c6v5b0n",
    "ALLOWED_HOSTS": "abm.example.com",
}
NOT_INHERITED = ("DATABASE_URL", "REDIS_URL", "ABM_DEV", "DEBUG", "SECRET_KEY")


def bare_env(**extra: str) -> dict:
    """This process's environment without the development flag, the key or a database URL."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    return {**env, "DJANGO_SETTINGS_MODULE": "abm.settings", **extra}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def deploy_check(env: dict) -> subprocess.CompletedProcess:
    return manage("check", "--deploy", "--fail-level", "WARNING", env=env)


def test_deploy_check_passes_with_production_settings():
    result = deploy_check(bare_env(**PRODUCTION_ENV))
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_the_development_flag_debug_is_off():
    code = "from django.conf import settings as s; print('DEBUG', s.DEBUG)"
    result = manage("shell", "-c", code, env=bare_env(**PRODUCTION_ENV))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["DEBUG", "False"]


def test_without_the_development_flag_start_up_needs_a_secret_key():
    result = manage("check", env=bare_env(ALLOWED_HOSTS="abm.example.com"))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_is_refused_without_the_development_flag():
    result = manage("check", env=bare_env(**PRODUCTION_ENV, DEBUG="1"))
    assert result.returncode != 0
    assert "set ABM_DEV=1" in result.stderr


def test_the_development_flag_turns_debug_on_with_the_public_key():
    code = "from django.conf import settings as s; print('DEBUG', s.DEBUG, s.SECRET_KEY)"
    result = manage("shell", "-c", code, env=bare_env(ABM_DEV="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["DEBUG", "True", settings.DEV_SECRET_KEY]


@pytest.mark.parametrize(
    "key",
    [
        # The development key, as `make run` uses it.
        "dev-only-key-never-used-with-debug-off-0123456789abcdef",
        # docker-compose.yml's fallback before issue 17.
        "change-me-to-a-long-random-string-before-any-real-use-0123456789",
        # Long enough, but short of entropy.
        "ab" * 40,
        # Random but short.
        "k3Jd9QmZ2xV8",
    ],
)
def test_deploy_check_refuses_a_public_or_weak_secret_key(key):
    result = deploy_check(bare_env(**{**PRODUCTION_ENV, "SECRET_KEY": key}))
    assert result.returncode != 0
    assert "abm.E001" in result.stdout + result.stderr


def test_deploy_check_refuses_development_mode_with_debug_off():
    # ABM_DEV=1 DEBUG=0 falls back to the public key: check --deploy must not call that deployable.
    result = deploy_check(bare_env(ABM_DEV="1", DEBUG="0", ALLOWED_HOSTS="abm.example.com"))
    assert result.returncode != 0
    assert "abm.E001" in result.stdout + result.stderr


def test_the_image_sets_no_debug_no_development_flag_and_no_key():
    instructions = _dockerfile_instructions(ROOT / "Dockerfile")
    for keyword, arguments in instructions:
        if keyword in ("ENV", "ARG"):
            names = set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", arguments))
            names |= {arguments.split()[0]} if arguments.split() else set()
            assert not names & {"DEBUG", "ABM_DEV", "SECRET_KEY"}, (keyword, arguments)
        # A RUN may hand a command a key only when the key is made there, never a literal.
        for value in re.findall(r"SECRET_KEY=(\S+)", arguments):
            assert value.startswith(('"$(', "$(")), arguments
        assert "ABM_DEV=" not in arguments, arguments
        assert "DEBUG=1" not in arguments, arguments


def test_compose_requires_a_secret_key_and_starts_in_production():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        if "SECRET_KEY" in environment:
            # ${SECRET_KEY:?message} stops compose when unset: no default key to fall back to.
            assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", environment["SECRET_KEY"]), name
        assert str(environment.get("DEBUG", "0")) in ("0", "false"), name
        assert "ABM_DEV" not in environment, name
    app_services = [s for s in compose["services"].values() if s.get("image") == "keystone-abm"]
    assert app_services
    assert all("SECRET_KEY" in s["environment"] for s in app_services)


def _dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        pending += " " + stripped.removesuffix("\\")
        if not stripped.endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append((keyword.upper(), arguments))
            pending = ""
    return instructions


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("true", True), ("off", False)])
def test_envbool_reads_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert envbool("SOME_FLAG", not expected) is expected


def test_a_bad_environment_value_fails_loudly(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        envbool("SOME_FLAG", False)
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER"):
        envint("SOME_NUMBER", 1)


def test_celery_redelivery_is_safe():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert conf.task_soft_time_limit < conf.task_time_limit < visibility


def test_every_scheduled_job_names_a_registered_task():
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks


def test_tasks_never_run_in_process_outside_the_test_suite():
    assert settings.CELERY_TASK_ALWAYS_EAGER is False


def test_without_redis_the_broker_is_a_folder_under_var(monkeypatch, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    code = (
        "from django.conf import settings as s; from pathlib import Path; "
        "o = s.CELERY_BROKER_TRANSPORT_OPTIONS; "
        "print(s.CELERY_BROKER_URL, s.CELERY_WORKER_CONCURRENCY, s.CELERY_TASK_ALWAYS_EAGER, "
        "Path(o['data_folder_in']).is_dir(), o['data_folder_in'] == o['data_folder_out'], "
        "o['polling_interval'] <= 0.5)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**env, "ABM_BROKER_DIR": str(tmp_path / "broker")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split()[-6:] == ["abmfs://localhost/", "1", "False", *["True"] * 3]
    assert (tmp_path / "broker" / "queue").is_dir()


@pytest.mark.parametrize("broker", ["files", "redis"])
def test_the_figures_a_worker_builds_are_read_by_another_process(broker):
    """The worker builds the director's figures after a run and the web process reads them
    (dashboards/figure_warming.py): files under var/ in the embedded default, Redis with it."""
    if broker == "redis" and not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: runs on the PostgreSQL + Redis leg of make test")
    env = {k: v for k, v in os.environ.items() if k not in ("ABM_FIGURES_CACHE", "REDIS_URL")}
    if broker == "redis":
        env["REDIS_URL"] = settings.REDIS_URL
    key = f"test-shared-figures-{os.getpid()}-{broker}"
    cache = "from django.core.cache import caches; c = caches['figures']; "
    written = manage("shell", "-c", cache + f"c.set('{key}', 42, 60)", env=env)
    assert written.returncode == 0, written.stderr
    read = manage(
        "shell", "-c", cache + f"print('got', c.get('{key}')); c.delete('{key}')", env=env
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.split()[-2:] == ["got", "42"]
