"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and they catch an upward
import, at module level or hidden in a function (import-linter reads both), and Django reaching
a pure module."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the project's packages (sources only) and its pyproject.toml."""
    for package in CONFIG["root_packages"]:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.html", "*.pyc"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_layers_point_one_way():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(CONFIG['contracts'])} kept, 0 broken" in result.stdout


def test_the_layers_are_the_apps_lowest_last():
    layers = CONFIG["contracts"][0]["layers"]
    assert layers[-1] == "abm"
    assert layers[0] == "demo"
    ours = [name for name in settings.INSTALLED_APPS if (ROOT / name).is_dir()]
    assert sorted(layers) == sorted(ours) == sorted(CONFIG["root_packages"])


def test_an_upward_import_breaks_the_contract(tree):
    (tree / "accounts" / "planted.py").write_text("from dashboards import views  # noqa\n")

    result = lint(tree)

    assert result.returncode != 0
    assert "accounts is not allowed to import dashboards" in result.stdout
    assert "accounts.planted -> dashboards.views" in result.stdout


def test_an_upward_import_hidden_in_a_function_breaks_it_too(tree):
    (tree / "playbooks" / "planted.py").write_text(
        "def later():\n    from metrics import tasks  # noqa\n\n    return tasks\n"
    )

    result = lint(tree)

    assert result.returncode != 0
    assert "playbooks.planted -> metrics.tasks" in result.stdout


def test_django_reaching_a_pure_module_breaks_the_pure_contract(tree):
    # Through another module, as an innocent-looking helper import would bring it.
    (tree / "abm" / "lib" / "orm_helper.py").write_text("from django.db.models import Q  # noqa\n")
    committee = tree / "accounts" / "committee.py"
    committee.write_text("from abm.lib import orm_helper  # noqa\n" + committee.read_text())

    result = lint(tree)

    assert result.returncode != 0
    assert "accounts.committee is not allowed to import django" in result.stdout
