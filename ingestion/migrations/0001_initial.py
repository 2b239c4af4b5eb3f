# accounts.ImportJob moved to the ingestion app (written by hand: state only).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("abm", "0004_change_feed"),
        ("accounts", "0005_import_runs_are_abm_jobs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # accounts.ImportJob became ingestion.ImportJob: only the state moves; the table accounts_importjob and its rows stay.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ImportJob",
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
                                    ("accounts", "Accounts"),
                                    ("contacts", "Contacts"),
                                    ("opportunities", "Opportunities"),
                                    ("leads", "Leads"),
                                    ("activities", "Activities"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("original_name", models.CharField(max_length=255)),
                        ("path", models.CharField(max_length=300)),
                        ("size", models.PositiveBigIntegerField()),
                        ("encoding", models.CharField(max_length=16)),
                        ("delimiter", models.CharField(max_length=4)),
                        ("headers", models.JSONField(default=list)),
                        ("mapping", models.JSONField(default=dict)),
                        ("created", models.PositiveIntegerField(default=0)),
                        ("updated", models.PositiveIntegerField(default=0)),
                        ("unchanged", models.PositiveIntegerField(default=0)),
                        ("rejected", models.PositiveIntegerField(default=0)),
                        ("rejects", models.JSONField(blank=True, default=list)),
                        ("rejects_path", models.CharField(blank=True, max_length=300)),
                        ("uploaded_at", models.DateTimeField(auto_now_add=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "check_run",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="abm.job",
                            ),
                        ),
                        (
                            "run",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="abm.job",
                            ),
                        ),
                        (
                            "uploaded_by",
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
                        "db_table": "accounts_importjob",
                        "ordering": ["-uploaded_at", "-id"],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    (
                                        "kind__in",
                                        [
                                            "accounts",
                                            "contacts",
                                            "opportunities",
                                            "leads",
                                            "activities",
                                        ],
                                    )
                                ),
                                name="import_kind_valid",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
