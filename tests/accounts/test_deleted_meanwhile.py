"""A change to a record another user deleted after the request read it (issue #17): the change
is refused in the user's words (404), never a 500, and a second delete is a no-op."""

import pytest
from django.test import Client

from abm.api_errors import api_exception_handler
from abm.lib.row_locks import RecordDeleted
from accounts.models import Account, Contact, Opportunity
from accounts.records import (
    account_delete,
    account_update,
    opportunity_update,
    record_update,
)
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


def stale_copies(account):
    """The instances a request holds, read before someone else deleted the account."""
    return (
        Account.objects.get(pk=account.pk),
        Contact.objects.get(account=account),
        Opportunity.objects.get(account=account),
    )


def test_changes_to_records_deleted_meanwhile_raise_record_deleted(maria):
    account = AccountFactory(employees=10)
    ContactFactory(account=account)
    OpportunityFactory(account=account, amount=1000)
    stale_account, stale_contact, stale_deal = stale_copies(account)
    account_delete(account=account, by=maria)

    with pytest.raises(RecordDeleted, match="This account was deleted by someone else"):
        account_update(account=stale_account, by=maria, employees=20)
    with pytest.raises(RecordDeleted, match="This contact was deleted by someone else"):
        record_update(stale_contact, by=maria, title="CFO")
    with pytest.raises(RecordDeleted, match="This opportunity was deleted by someone else"):
        opportunity_update(opportunity=stale_deal, by=maria, amount=2000)
    # Deleting what is already gone does what was asked.
    account_delete(account=stale_account, by=maria)
    assert not Account.objects.filter(pk=stale_account.pk).exists()


def test_the_api_answers_404_with_the_reason_for_a_record_deleted_meanwhile():
    response = api_exception_handler(RecordDeleted(AccountFactory.build()), {"request": None})
    assert response.status_code == 404
    assert response.data["error"]["message"] == (
        "This account was deleted by someone else; your change was not saved."
    )


def test_an_account_deleted_twice_over_the_api_answers_no_5xx(maria):
    account = AccountFactory()
    client = Client()
    client.force_login(maria)
    first = client.delete(f"/api/accounts/{account.pk}/")
    second = client.delete(f"/api/accounts/{account.pk}/")
    assert (first.status_code, second.status_code) == (204, 404)
