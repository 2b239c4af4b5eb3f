from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """The pages that read what the engine computed: the director, marketer and sales
    dashboards, their drill-down lists and the reports API."""

    name = "dashboards"
    verbose_name = "Dashboards"

    def ready(self) -> None:
        from abm.jobs import run_finished
        from dashboards import export_specs
        from dashboards.figure_warming import warm_after_run

        export_specs.register()  # the CSV exports this app's pages offer (abm/exports.py)
        # The director's figures for the next look, built in the worker after each run.
        run_finished.connect(warm_after_run, dispatch_uid="dashboards.warm_after_run")
