"""Stored data behind the SMART examples of issue #14, built with the factories.

A goal runs from ``START`` (30 days ago) for 90 days; its baseline is the 90 days before, its
record the equal periods before that which the data cover.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from tests.factories import AccountFactory, EnrolmentFactory, OpportunityFactory, PlaybookFactory

TODAY = timezone.now().date()
START = TODAY - dt.timedelta(days=30)
END = START + dt.timedelta(days=89)


def days_ago(n: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


def win_rate_book() -> None:
    """Tier 1 deals closed in the baseline period (31-120 days ago): 7 won, 3 lost = 70 %."""
    account = AccountFactory(tier=1)
    for index in range(10):
        OpportunityFactory(
            account=account,
            stage="closed_won" if index < 7 else "closed_lost",
            created_at=days_ago(200),
            closed_at=days_ago(60),
        )


def playbook_book():
    """8 accounts enrolled in a playbook; pipeline created 60 days ago ($90k, the baseline) and
    150 days ago ($120k, the period before); a tier 2 account outside it has a $5M deal 215 days
    ago, so the data cover those two periods (31-120 and 121-210 days ago) and not the third."""
    playbook = PlaybookFactory(name="Eight accounts")
    accounts = [AccountFactory(tier=1) for _ in range(8)]
    for account in accounts:
        EnrolmentFactory(account=account, playbook=playbook, status="active")
    OpportunityFactory(account=accounts[0], amount=Decimal(90_000), created_at=days_ago(60))
    OpportunityFactory(account=accounts[1], amount=Decimal(120_000), created_at=days_ago(150))
    OpportunityFactory(
        account=AccountFactory(tier=2), amount=Decimal(5e6), created_at=days_ago(215)
    )
    return playbook
