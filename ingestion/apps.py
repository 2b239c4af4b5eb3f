from django.apps import AppConfig


class IngestionConfig(AppConfig):
    """Everything that comes in: CSV imports (reading, mapping, upserts, jobs and pages), the
    activity ingestion API, activities logged by hand, and the activity list."""

    name = "ingestion"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        from abm.job_progress import register_progress
        from abm.models import RunKind
        from ingestion import export_specs
        from ingestion.import_views import import_progress

        export_specs.register()  # the CSV exports this app's pages offer (abm/exports.py)
        register_progress(RunKind.IMPORT, import_progress)
