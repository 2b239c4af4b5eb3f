import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from accounts.frames import load_accounts
from metrics.engine.loading import load_activities, load_opportunities
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    OpportunityFactory,
    StepFactory,
)

T0 = dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_activities_load_with_their_contact_seniority_and_playbook():
    account = AccountFactory()
    contact = ContactFactory(account=account, seniority="c_level")
    step = StepFactory()
    with_contact = ActivityFactory(
        account=account, contact=contact, occurred_at=T0, cost=Decimal("2.50"), step=step
    )
    without_contact = ActivityFactory(account=account, occurred_at=T0 + dt.timedelta(hours=1))

    frame = load_activities().set_index("activity_id")

    assert frame.loc[with_contact.pk, "seniority"] == "c_level"
    assert frame.loc[with_contact.pk, "cost"] == 2.5
    assert frame.loc[with_contact.pk, "playbook_id"] == step.stage.playbook_id
    assert frame.loc[with_contact.pk, "occurred_at"] == pd.Timestamp(T0)
    assert pd.isna(frame.loc[without_contact.pk, "seniority"])
    assert frame.loc[with_contact.pk, "owner_role"] == step.owner_role
    assert frame.loc[without_contact.pk, "owner_role"] == ""
    assert pd.isna(frame.loc[without_contact.pk, "playbook_id"])
    assert pd.isna(frame.loc[without_contact.pk, "contact_id"])
    assert str(frame["occurred_at"].dt.tz) == "UTC"
    for text in ("channel", "kind", "direction", "seniority", "owner_role"):
        assert isinstance(frame[text].dtype, pd.CategoricalDtype), text


@pytest.mark.django_db
def test_activities_load_only_inside_the_requested_window():
    inside = ActivityFactory(occurred_at=T0)
    ActivityFactory(occurred_at=T0 - dt.timedelta(days=10))
    ActivityFactory(occurred_at=T0 + dt.timedelta(days=10))
    frame = load_activities(since=T0 - dt.timedelta(days=1), until=T0)
    assert frame["activity_id"].tolist() == [inside.pk]


@pytest.mark.django_db
def test_accounts_and_opportunities_keep_blank_text_and_null_dates():
    account = AccountFactory(tier=None, industry="", stage="")
    OpportunityFactory(account=account, amount=Decimal("1234.56"), created_at=T0)
    accounts = load_accounts()
    opportunities = load_opportunities()
    assert accounts.loc[0, "industry"] == ""
    assert pd.isna(accounts.loc[0, "tier"])
    assert opportunities.loc[0, "amount"] == pytest.approx(1234.56)
    assert pd.isna(opportunities.loc[0, "closed_at"])
    assert opportunities.loc[0, "created_at"] == pd.Timestamp(T0)
