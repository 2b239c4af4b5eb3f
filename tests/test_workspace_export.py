"""manage.py export_workspace: every table to CSV, secrets left out, formulas neutralised."""

import csv
import io

from django.apps import apps
from django.conf import settings
from django.core.management import call_command

from accounts.models import Account
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory


def _read(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# The project's apps, from the settings (every one of ours has tables to export).
OUR_APPS = [name for name in settings.INSTALLED_APPS if (settings.BASE_DIR / name).is_dir()]


def test_every_table_is_exported_with_its_rows(tmp_path, alice, db):
    acme = AccountFactory(name="=HYPERLINK(evil)", owner=alice, tier=1)
    ContactFactory(account=acme)
    OpportunityFactory(account=acme, amount=1234.5)

    call_command("export_workspace", str(tmp_path), stdout=io.StringIO())

    ours = [c for c in apps.get_app_configs() if c.name in OUR_APPS]
    assert len(ours) == len(OUR_APPS)
    for config in ours:
        label = config.label
        for model in config.get_models():
            path = tmp_path / f"{label}_{model._meta.model_name}.csv"
            assert path.exists(), path.name
            assert len(_read(path)) == model.objects.count(), path.name
    accounts = _read(tmp_path / "accounts_account.csv")
    assert accounts[0]["name"] == "'=HYPERLINK(evil)"  # a spreadsheet shows it, never runs it
    assert accounts[0]["owner_id"] == str(alice.pk)
    deals = _read(tmp_path / "accounts_opportunity.csv")
    assert deals[0]["amount"] == "1234.50"
    assert Account.objects.count() == 1


def test_password_hashes_and_token_digests_stay_behind(tmp_path, alice, db):
    from abm.tokens import token_create

    token_create(user=alice, name="crm sync")

    call_command("export_workspace", str(tmp_path), stdout=io.StringIO())

    users = _read(tmp_path / "abm_user.csv")
    tokens = _read(tmp_path / "abm_apitoken.csv")
    assert users[0]["username"] == "alice"
    assert "password" not in users[0]
    assert tokens[0]["name"] == "crm sync"
    assert "digest" not in tokens[0]
