from django.apps import AppConfig


class AbmConfig(AppConfig):
    name = "abm"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        # The Celery app, loaded with Django (web, worker, beat, tests), binds shared_task;
        # importing checks registers the deploy checks, any_of the ``__any_of`` lookup.
        from abm import celery, checks  # noqa: F401
        from abm.export_views import export_progress
        from abm.job_progress import register_progress
        from abm.lib import any_of  # noqa: F401
        from abm.models import RunKind

        register_progress(RunKind.EXPORT, export_progress)
