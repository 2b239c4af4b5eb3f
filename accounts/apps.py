from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from abm.job_progress import Progress, register_progress
        from abm.models import RunKind
        from accounts import export_specs

        export_specs.register()  # the CSV exports this app's pages offer (abm/exports.py)
        register_progress(
            RunKind.ICP_RESCORE,
            lambda run: Progress("accounts/_rescore_progress.html", {"run": run}),
        )
