from django.apps import AppConfig


class AbmConfig(AppConfig):
    name = "abm"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        from abm.export_views import export_progress
        from abm.job_progress import register_progress
        from abm.models import RunKind

        register_progress(RunKind.EXPORT, export_progress)
