# metrics.MetricRun became abm.Job, the generic job record (written by hand: state only).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_import_runs_are_abm_jobs"),
        ("metrics", "0005_touch_rules"),
    ]

    # metrics.MetricRun became abm.Job: only the state moves; the table metrics_metricrun and its rows stay.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name="MetricRun",
                ),
            ],
            database_operations=[],
        ),
    ]
