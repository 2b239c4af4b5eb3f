from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from abm.job_progress import Progress, register_progress
        from abm.models import RunKind
        from abm.scoping import register_scope
        from accounts import export_specs, visibility
        from accounts.models import Account, Contact, Lead, Opportunity

        # The API's uniqueness check asks whether the caller may see a clashing row.
        register_scope(Account, visibility.accounts_visible_to)
        register_scope(Contact, visibility.contacts_visible_to)
        register_scope(Opportunity, visibility.opportunities_visible_to)
        register_scope(Lead, visibility.leads_visible_to)
        export_specs.register()  # the CSV exports this app's pages offer (abm/exports.py)
        register_progress(
            RunKind.ICP_RESCORE,
            lambda run: Progress("accounts/_rescore_progress.html", {"run": run}),
        )
