from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _create_starter_playbooks(sender, *, using, apps=None, **kwargs) -> None:
    from django.apps import apps as global_apps

    from playbooks.starters import ensure_starter_playbooks

    # migrate passes the migration state's registry; flush (between transactional tests) does not.
    apps = apps or global_apps
    try:
        apps.get_model("playbooks", "Playbook")
    except LookupError:  # migrated backwards past the playbooks app: nothing to fill
        return
    ensure_starter_playbooks(apps=apps, using=using)


class PlaybooksConfig(AppConfig):
    name = "playbooks"
    verbose_name = "Playbooks"

    def ready(self) -> None:
        from abm.job_progress import Progress, register_progress
        from abm.models import RunKind
        from abm.scoping import register_scope
        from playbooks.models import Playbook
        from playbooks.visibility import playbooks_visible_to

        register_scope(Playbook, playbooks_visible_to)
        register_progress(
            RunKind.TASKS, lambda run: Progress("playbooks/_tasks_progress.html", {"run": run})
        )
        # post_migrate, not a data migration: test databases flushed between transactional tests
        # get the starters back too, and a deleted starter returns on the next migrate.
        post_migrate.connect(
            _create_starter_playbooks, sender=self, dispatch_uid="playbooks.starters"
        )
