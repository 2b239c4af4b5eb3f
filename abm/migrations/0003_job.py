# metrics.MetricRun became abm.Job, the generic job record (written by hand: state only).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("abm", "0002_auditevent"),
        ("metrics", "0005_touch_rules"),
    ]

    # metrics.MetricRun became abm.Job: only the state moves; the table metrics_metricrun and its rows stay.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Job",
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
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("full", "Full recompute"),
                                    ("incremental", "Incremental recompute"),
                                    ("icp_rescore", "ICP re-score"),
                                    ("import", "CSV import"),
                                    ("tasks", "Task generation"),
                                    ("export", "CSV export"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("queued", "Queued"),
                                    ("running", "Running"),
                                    ("done", "Done"),
                                    ("failed", "Failed"),
                                ],
                                default="queued",
                                max_length=16,
                            ),
                        ),
                        ("phase", models.CharField(blank=True, max_length=100)),
                        ("percent", models.PositiveSmallIntegerField(default=0)),
                        ("error", models.TextField(blank=True)),
                        ("params", models.JSONField(blank=True, default=dict)),
                        ("result", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("task", models.CharField(blank=True, max_length=100)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("send_attempts", models.PositiveSmallIntegerField(default=0)),
                        ("last_send_error", models.TextField(blank=True)),
                        ("task_id", models.CharField(blank=True, max_length=255)),
                        (
                            "requested_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "metrics_metricrun",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["kind", "status"], name="metrics_met_kind_dea0ba_idx"
                            )
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("percent__lte", 100)),
                                name="metric_run_percent_0_100",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("status__in", ["queued", "running", "done", "failed"])
                                ),
                                name="metric_run_status_valid",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    (
                                        "kind__in",
                                        [
                                            "full",
                                            "incremental",
                                            "icp_rescore",
                                            "import",
                                            "tasks",
                                            "export",
                                        ],
                                    )
                                ),
                                name="metric_run_kind_valid",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("kind", "incremental"), ("status", "queued")),
                                fields=("kind",),
                                name="metric_run_one_queued_incremental",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
