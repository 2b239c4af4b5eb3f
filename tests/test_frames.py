"""frame_from_queryset's categorical columns, alike on PostgreSQL (COPY) and SQLite."""

import pandas as pd
import pytest

from abm.lib.frames import frame_from_queryset
from abm.models import User
from accounts.models import Contact
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

# The owner's username: NULL for a contact of an account without an owner.
COLUMNS = {
    "id": "id",
    "seniority": "seniority",
    "title": "title",
    "owner": "account__owner__username",
}
TEXTS = ("seniority", "title", "owner")


def test_categories_hold_the_values_with_blank_and_null_missing():
    rep = User.objects.create_user("rep-frames", password="x")
    owned, unowned = AccountFactory(owner=rep), AccountFactory(owner=None)
    manager = ContactFactory(account=owned, seniority="manager", title="Ops")
    vp = ContactFactory(account=owned, seniority="vp", title="")
    other = ContactFactory(account=unowned, seniority="vp", title="CFO")

    frame = frame_from_queryset(
        Contact.objects.filter(account__in=[owned, unowned]), COLUMNS, categories=TEXTS
    ).set_index("id")

    for column in TEXTS:
        assert isinstance(frame[column].dtype, pd.CategoricalDtype)
    assert frame.loc[manager.pk, "seniority"] == "manager"
    assert frame.loc[manager.pk, "owner"] == "rep-frames"
    assert pd.isna(frame.loc[other.pk, "owner"])
    assert pd.isna(frame.loc[vp.pk, "title"])
    assert frame["seniority"].cat.categories.tolist() == ["manager", "vp"]
    assert frame["title"].cat.categories.tolist() == ["CFO", "Ops"]
    # Matching and grouping by value, as the engine does.
    assert sorted(frame.index[frame["seniority"] == "vp"]) == sorted([vp.pk, other.pk])
    assert frame.groupby("title", observed=True).size().to_dict() == {"CFO": 1, "Ops": 1}


def test_no_rows_still_give_categorical_columns():
    frame = frame_from_queryset(
        Contact.objects.filter(account_id__any_of=[]), COLUMNS, categories=("seniority",)
    )

    assert len(frame) == 0
    assert isinstance(frame["seniority"].dtype, pd.CategoricalDtype)
