# metrics.MetricRun became abm.Job, the generic job record (written by hand: state only).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("abm", "0003_job"),
        ("accounts", "0004_seed_exchange_rates"),
    ]

    # metrics.MetricRun became abm.Job: only the state moves; the table metrics_metricrun and its rows stay.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="importjob",
                    name="check_run",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="abm.job",
                    ),
                ),
                migrations.AlterField(
                    model_name="importjob",
                    name="run",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="abm.job",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
