"""``field__any_of``: the same rows as ``__in`` from one array parameter (abm/lib/any_of.py), on
both databases, in reads, deletes and the COPY reader."""

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from abm.lib.frames import frame_from_queryset
from accounts.models import Account, Contact
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contacts():
    accounts = AccountFactory.create_batch(6)
    for account in accounts:
        ContactFactory.create_batch(2, account=account)
    return [a.pk for a in accounts]


def test_any_of_picks_what_in_picks(contacts):
    chosen = np.array(contacts[1:4], dtype=np.int64)  # numpy ids, as the engine passes them

    picked = Contact.objects.filter(account_id__any_of=chosen)

    expected = Contact.objects.filter(account_id__in=chosen.tolist())
    assert sorted(picked.values_list("pk", flat=True)) == sorted(
        expected.values_list("pk", flat=True)
    )
    assert len(picked) == 6
    assert sorted(Account.objects.filter(pk__any_of=chosen).values_list("pk", flat=True)) == sorted(
        chosen.tolist()
    )


def test_any_of_sends_one_parameter_on_postgresql(contacts):
    with CaptureQueriesContext(connection) as queries:
        list(Contact.objects.filter(account_id__any_of=contacts))

    sql = queries.captured_queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql
        assert " IN (" not in sql
    else:
        assert " IN (" in sql


def test_an_empty_list_matches_nothing(contacts):
    assert not Contact.objects.filter(account_id__any_of=[]).exists()
    assert (
        len(frame_from_queryset(Contact.objects.filter(account_id__any_of=[]), {"id": "id"})) == 0
    )


def test_deletes_and_copies_only_the_chosen_rows(contacts):
    chosen, kept = contacts[:2], contacts[2:]

    read = frame_from_queryset(
        Contact.objects.filter(account_id__any_of=chosen), {"account_id": "account_id"}
    )
    Contact.objects.filter(account_id__any_of=chosen).delete()

    assert sorted(set(read["account_id"].tolist())) == sorted(chosen)
    assert not Contact.objects.filter(account_id__in=chosen).exists()
    assert Contact.objects.filter(account_id__in=kept).count() == 2 * len(kept)
