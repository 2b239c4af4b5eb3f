"""The full recompute stores what the pure modules compute, and a re-run changes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from accounts.models import Account
from metrics.models import (
    AttributionCredit,
    AttributionModel,
    EngagementHistory,
    EngagementScore,
    JourneyStageChange,
)
from metrics.recompute import recompute_all
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    OpportunityFactory,
    StepFactory,
)

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


@pytest.fixture
def dataset(db):
    """One target account with a deal and three touches, one quiet account, one non-target."""
    step = StepFactory(channel="email")
    deal_account = AccountFactory(tier=1)
    vp = ContactFactory(account=deal_account, seniority="vp")
    ActivityFactory(
        account=deal_account,
        contact=vp,
        channel="webinar",
        kind="webinar_attended",
        occurred_at=days_ago(40),
    )
    ActivityFactory(
        account=deal_account,
        contact=vp,
        channel="email",
        kind="email_click",
        occurred_at=days_ago(30),
        step=step,
    )
    # Outbound with no points but a cost: a touch for attribution, nothing for engagement.
    ActivityFactory(
        account=deal_account,
        channel="direct_mail",
        kind="direct_mail_sent",
        direction="outbound",
        cost=Decimal("40"),
        occurred_at=days_ago(20),
    )
    deal = OpportunityFactory(
        account=deal_account, amount=Decimal("10000"), created_at=days_ago(10)
    )
    quiet = AccountFactory(tier=2)
    browsing = AccountFactory(tier=None)
    ActivityFactory(account=browsing, channel="content", kind="web_visit", occurred_at=days_ago(0))
    return {
        "deal_account": deal_account,
        "deal": deal,
        "quiet": quiet,
        "browsing": browsing,
        "step": step,
    }


def test_it_stores_engagement_as_the_domain_formula_gives_it(dataset):
    recompute_all(now=NOW)
    # webinar 10 * vp 1.5 decayed 40 days; email click 3 * 1.5 decayed 30 days; mail 0.
    expected = 15 * 2 ** (-40 / 30) + 4.5 * 2 ** (-30 / 30)
    stored = EngagementScore.objects.get(account=dataset["deal_account"])
    assert stored.score == pytest.approx(expected, abs=1e-3)
    assert stored.by_channel == pytest.approx(
        {"webinar": 15 * 2 ** (-40 / 30), "email": 2.25}, abs=1e-3
    )
    assert Account.objects.get(pk=dataset["deal_account"].pk).engagement_score == pytest.approx(
        expected, abs=1e-3
    )
    assert EngagementScore.objects.get(account=dataset["quiet"]).score == 0


def test_it_moves_accounts_to_their_journey_stage_and_keeps_the_change(dataset):
    recompute_all(now=NOW)
    stages = dict(Account.objects.values_list("pk", "stage"))
    assert stages[dataset["deal_account"].pk] == "opportunity"
    assert stages[dataset["quiet"].pk] == "targeted"
    assert stages[dataset["browsing"].pk] == "aware"
    change = JourneyStageChange.objects.get(account=dataset["deal_account"])
    assert (change.from_stage, change.to_stage, change.changed_at) == ("", "opportunity", NOW)


@pytest.mark.parametrize("model", AttributionModel.values)
def test_every_model_credits_the_whole_deal_amount(dataset, model):
    recompute_all(now=NOW)
    credits = AttributionCredit.objects.filter(model=model, kind="pipeline")
    assert credits.aggregate(total=Sum("credit"))["total"] == pytest.approx(Decimal("10000"))
    assert set(credits.values_list("opportunity", flat=True)) == {dataset["deal"].pk}


def test_linear_credit_goes_a_third_to_each_touch_and_keeps_the_playbook(dataset):
    recompute_all(now=NOW)
    credits = {
        (row.channel, row.playbook_id): row.credit
        for row in AttributionCredit.objects.filter(model="linear", kind="pipeline")
    }
    third = pytest.approx(Decimal("3333.3333"), abs=Decimal("0.001"))
    assert credits == {
        ("webinar", None): third,
        ("email", dataset["step"].stage.playbook_id): third,
        ("direct_mail", None): third,
    }


def test_a_rerun_changes_nothing(dataset):
    recompute_all(now=NOW)
    first = (
        list(
            AttributionCredit.objects.order_by("model", "channel").values_list(
                "model", "channel", "credit"
            )
        ),
        list(EngagementScore.objects.order_by("account_id").values_list("account_id", "score")),
        EngagementHistory.objects.count(),
        JourneyStageChange.objects.count(),
    )
    recompute_all(now=NOW)
    second = (
        list(
            AttributionCredit.objects.order_by("model", "channel").values_list(
                "model", "channel", "credit"
            )
        ),
        list(EngagementScore.objects.order_by("account_id").values_list("account_id", "score")),
        EngagementHistory.objects.count(),
        JourneyStageChange.objects.count(),
    )
    assert first == second


def test_history_holds_the_daily_score_of_each_account(dataset):
    recompute_all(now=NOW)
    day = EngagementHistory.objects.get(account=dataset["deal_account"], date=dt.date(2026, 6, 1))
    end_of_day = dt.datetime(2026, 6, 1, 23, 59, 59, 999999, tzinfo=dt.UTC)
    webinar_age = (end_of_day - days_ago(40)).total_seconds() / 86400
    click_age = (end_of_day - days_ago(30)).total_seconds() / 86400
    expected = 15 * 2 ** (-webinar_age / 30) + 4.5 * 2 ** (-click_age / 30)
    assert day.score == pytest.approx(expected, abs=1e-3)
