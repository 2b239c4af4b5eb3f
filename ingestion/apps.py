from django.apps import AppConfig


class IngestionConfig(AppConfig):
    """Everything that comes in: CSV imports (reading, mapping, upserts, jobs and pages), the
    activity ingestion API, activities logged by hand, and the activity list."""

    name = "ingestion"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        from ingestion import export_specs

        export_specs.register()  # the CSV exports this app's pages offer (abm/exports.py)
