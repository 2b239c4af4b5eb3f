from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import export_specs

        export_specs.register()  # the CSV exports this app's pages offer (abm/exports.py)
