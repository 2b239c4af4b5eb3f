"""The starter playbooks' Convert stage exits at customer, not opportunity.

With Convert exiting at opportunity, an account with an open deal entered Retain and got its
"Welcome aboard" email. Playbooks cloned earlier are the marketer's to change; only the starters
(templates) are corrected here.
"""

from django.db import migrations


def convert_exits_at_customer(apps, schema_editor):
    Stage = apps.get_model("playbooks", "Stage")
    Stage.objects.filter(
        playbook__is_starter=True, name="Convert", exit_stage="opportunity"
    ).update(exit_stage="customer")


class Migration(migrations.Migration):
    dependencies = [("playbooks", "0002_task_note")]

    operations = [migrations.RunPython(convert_exits_at_customer, migrations.RunPython.noop)]
