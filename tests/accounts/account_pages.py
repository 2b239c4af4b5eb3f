"""Helpers shared by the account-page tests (plain functions, so any test module can import them)."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from accounts.models import Account
from metrics.models import EngagementScore
from playbooks.models import Activity
from tests.factories import AccountFactory, ActivityFactory


def account(owner=None, name: str | None = None, **extra) -> Account:
    """An account with sensible firmographics; name and domain follow each other."""
    if name is not None:
        extra.setdefault("domain", name.lower().replace(" ", "-") + ".example")
        extra["name"] = name
    extra.setdefault("tier", None)
    return AccountFactory(owner=owner, **extra)


def activity(target: Account, *, days_ago: float = 1, **extra) -> Activity:
    extra.setdefault("occurred_at", timezone.now() - dt.timedelta(days=days_ago))
    return ActivityFactory(account=target, **extra)


def engagement(target: Account, *, score: float, top=(), by_channel=None, spike=False):
    target.engagement_score, target.spike = score, spike
    target.save(update_fields=["engagement_score", "spike"])
    return EngagementScore.objects.create(
        account=target,
        score=score,
        by_channel=by_channel or {},
        spike=spike,
        top_activities=list(top),
        computed_at=timezone.now(),
    )


def money(value) -> Decimal:
    return Decimal(str(value))
