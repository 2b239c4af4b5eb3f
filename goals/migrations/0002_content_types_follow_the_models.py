# The content types of the moved models follow them, so admin history and permissions keep
# pointing at goals (the state-only move left them under metrics).

from django.db import migrations

MODELS = ("goal", "goalmilestone")


def _relabel(apps, *, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        # A second migrate after a partial one may already have made the new one: keep both then.
        if not content_type.objects.filter(app_label=new, model=model).exists():
            content_type.objects.filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor):
    _relabel(apps, old="metrics", new="goals")


def backwards(apps, schema_editor):
    _relabel(apps, old="goals", new="metrics")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("goals", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
