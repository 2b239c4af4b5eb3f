"""Goals moved from the metrics app by a state-only migration: rows written before it survive."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from goals.models import Goal, GoalMilestone
from playbooks.models import Playbook
from tests.factories import GoalFactory

# The last migrations before the move, and the ones that move goals to their own app.
BEFORE = [
    ("metrics", "0006_metric_run_moved_to_abm_job"),
    ("playbooks", "0003_starter_convert_exits_at_customer"),
    ("goals", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_goals_written_in_the_metrics_app_survive_the_move():
    leaves = _leaves()
    try:
        old = _migrate(BEFORE).loader.project_state(BEFORE[:2]).apps
        user = old.get_model("abm", "User").objects.create(username="maria", role="marketer")
        goal = old.get_model("metrics", "Goal").objects.create(
            name="$2M pipeline from tier 1",
            team="marketing",
            owner=user,
            metric="pipeline_created",
            scope_tiers=[1],
            target=Decimal("2000000"),
            start_date=dt.date(2026, 7, 1),
            end_date=dt.date(2026, 9, 30),
            status="on_track",
        )
        old.get_model("metrics", "GoalMilestone").objects.create(
            goal=goal, date=dt.date(2026, 8, 31), value=Decimal("1200000")
        )
        old.get_model("playbooks", "Playbook").objects.create(
            name="Tier 1 pipeline", owner=user, goal=goal, holdout_share=0.1
        )
    finally:
        _migrate(leaves)

    moved = Goal.objects.get(pk=goal.pk)
    assert (moved.name, moved.owner.username, moved.scope_tiers, moved.status) == (
        "$2M pipeline from tier 1",
        "maria",
        [1],
        "on_track",
    )
    assert list(GoalMilestone.objects.filter(goal=moved).values_list("date", "value")) == [
        (dt.date(2026, 8, 31), Decimal("1200000"))
    ]
    assert Playbook.objects.get(name="Tier 1 pipeline").goal == moved
    # New goals number on after the old rows: the table and its sequence are the same.
    assert GoalFactory(owner=moved.owner).pk > moved.pk
