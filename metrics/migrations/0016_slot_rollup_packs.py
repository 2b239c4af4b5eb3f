from django.db import migrations, models


def uncompressed(apps, schema_editor):
    """A pack is numbers that barely compress: PostgreSQL's compression of each one on write
    cost more than a run's reading and writing of them together."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE metrics_slotrolluppack ALTER COLUMN data SET STORAGE EXTERNAL"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0015_credit_and_slot_rollup_digest"),
    ]

    operations = [
        migrations.CreateModel(
            name="SlotRollupPack",
            fields=[
                ("slot", models.PositiveIntegerField(primary_key=True, serialize=False)),
                ("rows", models.PositiveIntegerField()),
                ("data", models.BinaryField()),
            ],
        ),
        migrations.DeleteModel(
            name="SlotRollup",
        ),
        migrations.RunPython(uncompressed, migrations.RunPython.noop),
        # No slot is stored any more: the next run lays the slots out anew, a full run.
        migrations.RunSQL("DELETE FROM metrics_engineslot", migrations.RunSQL.noop),
    ]
