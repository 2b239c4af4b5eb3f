from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """The pages that read what the engine computed: the director, marketer and sales
    dashboards, their drill-down lists and the reports API."""

    name = "dashboards"
    verbose_name = "Dashboards"

    def ready(self) -> None:
        from dashboards import export_specs

        export_specs.register()  # the CSV exports this app's pages offer (abm/exports.py)
