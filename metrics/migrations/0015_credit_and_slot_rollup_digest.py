from importlib import import_module

from django.db import migrations, models

# SQLite adds a NOT NULL column by copying the table, which a view over it does not survive:
# the Markov view goes while the credits' column is added and comes back as it was.
MARKOV_VIEW = import_module("metrics.migrations.0011_markov_at_read").MARKOV_VIEW


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0014_engine_slot_version"),
    ]

    operations = [
        migrations.RunSQL("DROP VIEW metrics_markovcredit", MARKOV_VIEW),
        migrations.AddField(
            model_name="attributioncredit",
            name="digest",
            field=models.BigIntegerField(db_default=0, editable=False),
        ),
        migrations.RunSQL(MARKOV_VIEW, "DROP VIEW metrics_markovcredit"),
        migrations.AddField(
            model_name="slotrollup",
            name="digest",
            field=models.BigIntegerField(db_default=0, editable=False),
        ),
    ]
