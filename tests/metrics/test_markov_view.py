"""Markov's credits are derived where read (the ``MarkovCredit`` view over the linear rows and the
stored removal effects): by hand, and row for row what the engine computes from the touches."""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from metrics.engine.compute.credits import attribution_credits
from metrics.engine.loading import load_inputs
from metrics.engine.params import EngineParams
from metrics.engine.runner import recompute_all
from metrics.models import AttributionCredit, MarkovCredit, RemovalEffect
from metrics.touch_rules import attribution_touches
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def linear_row(deal, channel, touches, kind="pipeline"):
    AttributionCredit.objects.create(
        model="linear",
        kind=kind,
        opportunity=deal,
        account=deal.account,
        converted_at=deal.created_at,
        channel=channel,
        weight=0.5,  # the linear figures play no part: Markov reads the touch counts
        credit=Decimal("1"),
        touches=touches,
    )


def markov(deal) -> dict:
    return {
        (r.kind, r.channel): (r.weight, r.credit, r.touches)
        for r in MarkovCredit.objects.filter(account_id=deal.account_id, opportunity=deal)
    }


@pytest.mark.django_db
def test_a_touch_weighs_its_channels_effect_over_the_journeys_sum():
    deal = OpportunityFactory(amount=Decimal("1000"), created_at=NOW)
    linear_row(deal, "email", 2)
    linear_row(deal, "event", 1)
    linear_row(deal, "display", 3)
    RemovalEffect.objects.create(kind="pipeline", channel="email", effect=0.5)
    RemovalEffect.objects.create(kind="pipeline", channel="event", effect=0.25)
    RemovalEffect.objects.create(kind="pipeline", channel="display", effect=0.0)
    # email 2 x 0.5 = 1, event 1 x 0.25 = 0.25 of 1.25; display weighs 0: no row.
    assert markov(deal) == {
        ("pipeline", "email"): (0.8, Decimal("800.0000"), 2),
        ("pipeline", "event"): (0.2, Decimal("200.0000"), 1),
    }


@pytest.mark.django_db
def test_a_journey_whose_channels_all_weigh_nothing_takes_linear_weights():
    deal = OpportunityFactory(amount=Decimal("900"), created_at=NOW)
    linear_row(deal, "email", 2, kind="revenue")
    linear_row(deal, "phone", 1, kind="revenue")
    # No effect stored for revenue (no run yet, or no revenue paths): every channel weighs 0.
    RemovalEffect.objects.create(kind="pipeline", channel="email", effect=0.9)
    assert markov(deal) == {
        ("revenue", "email"): (pytest.approx(2 / 3, abs=1e-6), Decimal("600.0000"), 2),
        ("revenue", "phone"): (pytest.approx(1 / 3, abs=1e-6), Decimal("300.0000"), 1),
    }


@pytest.mark.django_db
def test_the_view_holds_what_the_engine_computes_from_the_touches(settings):
    for n, channels in enumerate([("email", "event"), ("email", "phone", "email"), ("display",)]):
        account = AccountFactory(tier=1)
        for d, channel in enumerate(channels):
            ActivityFactory(
                account=account,
                kind="meeting",
                channel=channel,
                occurred_at=NOW - dt.timedelta(days=30 - d),
            )
        won = {"stage": "closed_won", "closed_at": NOW} if n == 1 else {}
        OpportunityFactory(account=account, amount=Decimal(1000 * (n + 1)), created_at=NOW, **won)
    idle = AccountFactory(tier=2)  # a path to null: the effects are not all 1
    ActivityFactory(account=idle, kind="meeting", channel="phone", occurred_at=NOW)
    recompute_all(now=NOW)

    # The engine over every account in one piece, from the touches: its Markov rows.
    now, params = pd.Timestamp(NOW), EngineParams.from_settings(settings)
    data = load_inputs(now, params)
    touches = attribution_touches(data.activities, data.first_mqa, data.touch_rules)
    credits = attribution_credits(touches, data.opportunities, now, params)
    expected = {
        (r.kind, r.opportunity_id, r.channel): (r.weight, Decimal(str(r.credit)), r.touches)
        for r in credits.loc[credits["model"] == "markov"].itertuples()
    }
    stored = {
        (r.kind, r.opportunity_id, r.channel): (r.weight, r.credit, r.touches)
        for r in MarkovCredit.objects.all()
    }
    assert {kind for kind, _, _ in expected} == {"pipeline", "revenue"}
    assert stored.keys() == expected.keys()
    for key, (weight, credit, touches) in expected.items():
        assert stored[key][0] == pytest.approx(weight, abs=1e-6)
        assert stored[key][1] == pytest.approx(credit, abs=Decimal("0.0001"))
        assert stored[key][2] == touches
