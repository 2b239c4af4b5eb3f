"""A small book of targets for the planner's tests: Alice's two tier-1 accounts and Bob's one,
with their journey history, deals, spend and attribution credit."""

import datetime as dt
from decimal import Decimal

from accounts.models import OpportunityStage
from metrics.models import JourneyStageChange, MetricRollup
from tests.factories import AccountFactory, OpportunityFactory


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")


def _history(account, *changes):
    previous = ""
    for stage, day in changes:
        JourneyStageChange.objects.create(
            account=account, from_stage=previous, to_stage=stage, changed_at=_at(day)
        )
        previous = stage


def make_book(alice, bob) -> dict:
    """Alice's two tier-1 targets and Bob's one, with their history, deals, spend and credit."""
    a1 = AccountFactory(name="A1", tier=1, owner=alice, stage="customer")
    # targeted, then straight to mqa (engaged skipped), an opportunity, won for 40,000
    _history(a1, ("targeted", "2026-01-01"), ("mqa", "2026-01-11"), ("customer", "2026-02-20"))
    OpportunityFactory(
        account=a1,
        amount=Decimal("40000"),
        stage=OpportunityStage.CLOSED_WON,
        created_at=_at("2026-01-21"),
        closed_at=_at("2026-02-20"),
    )
    a2 = AccountFactory(name="A2", tier=1, owner=alice, stage="engaged")
    _history(a2, ("targeted", "2026-01-01"), ("engaged", "2026-01-06"))
    b1 = AccountFactory(name="B1", tier=1, owner=bob, stage="opportunity")
    _history(b1, ("targeted", "2026-01-01"), ("engaged", "2026-01-02"), ("mqa", "2026-01-03"))
    OpportunityFactory(account=b1, amount=Decimal("90000"), created_at=_at("2026-01-04"))
    # the credit the recompute stores for A1's deal, summed by month (AttributionCredit's rollup):
    # all to email under w_shaped; another model's credit does not count under w_shaped
    for model, kind, count in (("w_shaped", "pipeline", 1), ("w_shaped", "revenue", 1)) + (
        ("linear", "pipeline", 5),
    ):
        MetricRollup.objects.create(
            metric="credit",
            period=dt.date(2026, 2, 1),
            model=model,
            kind=kind,
            channel="email",
            tier=1,
            owner=alice,
            value=40000,
            count=count,
        )
    # spend this year: 3,000 on email for alice's tier-1 accounts, 500 on display for bob's
    MetricRollup.objects.create(
        metric="spend",
        period=dt.date(2026, 2, 1),
        channel="email",
        tier=1,
        owner=alice,
        value=3000,
    )
    MetricRollup.objects.create(
        metric="spend", period=dt.date(2026, 2, 1), channel="display", tier=1, owner=bob, value=500
    )
    # accounts that became engaged, shared over their touches (the recompute's engaged rollup):
    # A2 half email, half event; B1 all display
    for channel, owner, value in (
        ("email", alice, 0.5),
        ("event", alice, 0.5),
        ("display", bob, 1),
    ):
        MetricRollup.objects.create(
            metric="engaged",
            period=dt.date(2026, 1, 1),
            channel=channel,
            tier=1,
            owner=owner,
            value=value,
            count=1,
        )
    return {"a1": a1, "a2": a2, "b1": b1}
