# metrics.Goal and metrics.GoalMilestone became goals.Goal and goals.GoalMilestone (state only).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("goals", "0001_initial"),
        ("playbooks", "0003_starter_convert_exits_at_customer"),
    ]

    # Only the state moves: the tables metrics_goal and metrics_goalmilestone and their rows stay.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="playbook",
                    name="goal",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="playbooks",
                        to="goals.goal",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
