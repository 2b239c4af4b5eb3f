# accounts.ImportJob moved to the ingestion app (written by hand: state only).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_import_runs_are_abm_jobs"),
        ("ingestion", "0001_initial"),
    ]

    # accounts.ImportJob became ingestion.ImportJob: only the state moves; the table accounts_importjob and its rows stay.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name="ImportJob",
                ),
            ],
            database_operations=[],
        ),
    ]
