# metrics.Goal and metrics.GoalMilestone became goals.Goal and goals.GoalMilestone (state only).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("metrics", "0006_metric_run_moved_to_abm_job"),
        ("playbooks", "0003_starter_convert_exits_at_customer"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Only the state moves: the tables metrics_goal and metrics_goalmilestone and their rows stay.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Goal",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=200)),
                        (
                            "team",
                            models.CharField(
                                choices=[
                                    ("marketing", "Marketing"),
                                    ("sales", "Sales"),
                                    ("shared", "Shared"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "metric",
                            models.CharField(
                                choices=[
                                    ("pipeline_created", "Pipeline created"),
                                    ("revenue_won", "Revenue won"),
                                    ("opportunities_created", "Opportunities created"),
                                    ("mqa_accounts", "MQA accounts"),
                                    ("engaged_accounts", "Engaged accounts"),
                                    ("win_rate", "Win rate"),
                                    ("average_deal_size", "Average deal size"),
                                    ("follow_up_rate", "Follow-up rate"),
                                    ("meetings_held", "Meetings held"),
                                ],
                                max_length=32,
                            ),
                        ),
                        ("scope_tiers", models.JSONField(blank=True, default=list)),
                        (
                            "baseline",
                            models.DecimalField(
                                blank=True, decimal_places=4, max_digits=16, null=True
                            ),
                        ),
                        ("target", models.DecimalField(decimal_places=4, max_digits=16)),
                        ("start_date", models.DateField()),
                        ("end_date", models.DateField()),
                        (
                            "current_value",
                            models.DecimalField(
                                blank=True, decimal_places=4, max_digits=16, null=True
                            ),
                        ),
                        (
                            "expected_value",
                            models.DecimalField(
                                blank=True, decimal_places=4, max_digits=16, null=True
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("on_track", "On track"),
                                    ("at_risk", "At risk"),
                                    ("off_track", "Off track"),
                                    ("achieved", "Achieved"),
                                    ("missed", "Missed"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "notified_status",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("on_track", "On track"),
                                    ("at_risk", "At risk"),
                                    ("off_track", "Off track"),
                                    ("achieved", "Achieved"),
                                    ("missed", "Missed"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("computed_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="owned_goals",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "parent",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="children",
                                to="goals.goal",
                            ),
                        ),
                        (
                            "scope_owner",
                            models.ForeignKey(
                                blank=True,
                                help_text="Limit the goal to this rep's accounts.",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="scoped_goals",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "scope_playbook",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="scoped_goals",
                                to="playbooks.playbook",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "metrics_goal",
                        "ordering": ["team", "start_date", "name"],
                    },
                ),
                migrations.CreateModel(
                    name="GoalMilestone",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("date", models.DateField()),
                        ("value", models.DecimalField(decimal_places=4, max_digits=16)),
                        (
                            "goal",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="milestones",
                                to="goals.goal",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "metrics_goalmilestone",
                        "ordering": ["date"],
                    },
                ),
                migrations.AddIndex(
                    model_name="goal",
                    index=models.Index(fields=["owner"], name="metrics_goa_owner_i_6e8efa_idx"),
                ),
                migrations.AddIndex(
                    model_name="goal",
                    index=models.Index(
                        fields=["start_date", "end_date"], name="metrics_goa_start_d_ad2a59_idx"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="goal",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("start_date__lt", models.F("end_date"))),
                        name="goal_starts_before_end",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="goal",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("target__gte", 0)), name="goal_target_gte_0"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="goal",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("team__in", ["marketing", "sales", "shared"])),
                        name="goal_team_valid",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="goal",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            (
                                "metric__in",
                                [
                                    "pipeline_created",
                                    "revenue_won",
                                    "opportunities_created",
                                    "mqa_accounts",
                                    "engaged_accounts",
                                    "win_rate",
                                    "average_deal_size",
                                    "follow_up_rate",
                                    "meetings_held",
                                ],
                            )
                        ),
                        name="goal_metric_valid",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="goal",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("status", ""),
                            (
                                "status__in",
                                ["on_track", "at_risk", "off_track", "achieved", "missed"],
                            ),
                            _connector="OR",
                        ),
                        name="goal_status_valid",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="goalmilestone",
                    constraint=models.UniqueConstraint(
                        fields=("goal", "date"), name="goal_milestone_once_per_date"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="goalmilestone",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("value__gte", 0)), name="goal_milestone_value_gte_0"
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
