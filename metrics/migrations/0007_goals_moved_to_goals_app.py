# metrics.Goal and metrics.GoalMilestone became goals.Goal and goals.GoalMilestone (state only).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0006_metric_run_moved_to_abm_job"),
        ("playbooks", "0004_goal_moved_to_goals_app"),
    ]

    # Only the state moves: the tables metrics_goal and metrics_goalmilestone and their rows stay.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="goalmilestone",
                    name="goal",
                ),
                migrations.DeleteModel(
                    name="Goal",
                ),
                migrations.DeleteModel(
                    name="GoalMilestone",
                ),
            ],
            database_operations=[],
        ),
    ]
