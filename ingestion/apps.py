from django.apps import AppConfig


class IngestionConfig(AppConfig):
    """Everything that comes in: CSV imports (reading, mapping, upserts, jobs and pages), the
    activity ingestion API, activities logged by hand, and the activity list."""

    name = "ingestion"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        from abm.job_progress import register_progress
        from abm.job_reading import register_user_error
        from abm.models import RunKind
        from ingestion import export_specs
        from ingestion.import_views import import_progress
        from ingestion.importing import ImportRefused

        export_specs.register()  # the CSV exports this app's pages offer (abm/exports.py)
        register_progress(RunKind.IMPORT, import_progress)
        # An import refused mid-run says why in words for the marketer (abm/job_reading.py).
        register_user_error(ImportRefused)
