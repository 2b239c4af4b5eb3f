"""The account pages read a fixed number of queries, whatever the number of rows or children."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, OpportunityStageChange, OwnershipChange
from metrics.models import EngagementScore, JourneyStageChange
from playbooks.models import Activity
from tests.accounts.account_pages import account, engagement
from tests.factories import (
    ContactFactory,
    EnrolmentFactory,
    LeadFactory,
    OpportunityFactory,
    PlaybookFactory,
    TaskFactory,
)


def count_queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
        assert response.status_code == 200
    return len(queries)


def add_accounts(n: int, *, owner, start: int) -> None:
    now = timezone.now()
    accounts = Account.objects.bulk_create(
        Account(
            name=f"Company {i:04}",
            domain=f"c{i:04}.example",
            owner=owner,
            tier=(i % 3) + 1 if i % 4 else None,
            industry=("Software", "Retail")[i % 2],
            country=("Germany", "France")[i % 2],
            stage=("engaged", "aware", "")[i % 3],
            fit_score=i % 100,
            engagement_score=i % 50,
            spike=i % 5 == 0,
        )
        for i in range(start, start + n)
    )
    contacts = [ContactFactory(account=a, seniority="vp") for a in accounts]
    activities = Activity.objects.bulk_create(
        Activity(
            account=a,
            contact=c,
            channel="webinar",
            kind="webinar_attended",
            direction="inbound",
            occurred_at=now - dt.timedelta(days=2),
            source="import",
            external_id=f"q-{a.pk}",
        )
        for a, c in zip(accounts, contacts, strict=True)
    )
    EngagementScore.objects.bulk_create(
        EngagementScore(
            account=a,
            score=a.engagement_score,
            by_channel={"webinar": a.engagement_score},
            top_activities=[
                {"activity_id": x.pk, "kind": "webinar_attended", "channel": "webinar", "points": 5}
            ],
            computed_at=now,
        )
        for a, x in zip(accounts, activities, strict=True)
    )


@pytest.mark.parametrize("who", ["maria", "alice"])
def test_the_account_list_reads_the_same_queries_for_10_and_100_rows(
    client, alice, maria, bob, who, django_assert_max_num_queries
):
    PlaybookFactory(status="active")
    user = {"maria": maria, "alice": alice}[who]
    client.force_login(user)
    url = reverse("accounts:list")

    add_accounts(10, owner=alice, start=0)
    small = count_queries(client, url)
    add_accounts(90, owner=alice, start=10)
    big = count_queries(client, url, industry="Software", sort="-priority")

    assert small == big
    # Session, user, filter options (and reps), playbooks (marketers), count, page; for a rep
    # the "why hot" seniorities and this week's counts instead of reps and playbooks.
    with django_assert_max_num_queries(7):
        client.get(url)


def test_the_tiering_page_reads_the_same_queries_for_10_and_100_candidates(
    client, maria, django_assert_max_num_queries
):
    client.force_login(maria)
    url = reverse("accounts:tiering")

    add_accounts(10, owner=None, start=0)
    small = count_queries(client, url)
    add_accounts(90, owner=None, start=10)
    big = count_queries(client, url)

    assert small == big
    # Session, user, filter options, candidates with owners, the tier x stage matrix.
    with django_assert_max_num_queries(5):
        client.get(url)


def add_children(target: Account, n: int, *, owner, offset: int) -> None:
    now = timezone.now()
    enrolment = EnrolmentFactory(account=target, playbook=PlaybookFactory())
    for i in range(offset, offset + n):
        contact = ContactFactory(account=target, buying_role=("champion", "influencer")[i % 2])
        Activity.objects.create(
            account=target,
            contact=contact,
            channel="email",
            kind="email_reply",
            direction="inbound",
            occurred_at=now - dt.timedelta(hours=i + 1),
            source="import",
            external_id=f"c-{target.pk}-{i}",
        )
        deal = OpportunityFactory(account=target)
        OpportunityStageChange.objects.create(
            opportunity=deal, to_stage="qualification", changed_at=deal.created_at
        )
        LeadFactory(account=target, contact=contact)
        TaskFactory(enrolment=enrolment, assignee=owner)
        JourneyStageChange.objects.create(
            account=target, to_stage="aware", changed_at=now - dt.timedelta(minutes=i)
        )
        OwnershipChange.objects.create(
            account=target, new_owner=owner, changed_by=owner, changed_at=now
        )


@pytest.mark.parametrize("who", ["maria", "alice"])
def test_the_account_page_reads_the_same_queries_for_10_and_100_children(
    client, alice, maria, who, django_assert_max_num_queries
):
    acme = account(alice, "Acme")
    engagement(
        acme,
        score=12,
        top=[{"activity_id": 1, "kind": "email_reply", "channel": "email", "points": 8}],
    )
    user = {"maria": maria, "alice": alice}[who]
    client.force_login(user)
    url = reverse("accounts:detail", args=[acme.pk])

    add_children(acme, 10, owner=alice, offset=0)
    small = count_queries(client, url)
    add_children(acme, 90, owner=alice, offset=10)
    big = count_queries(client, url)

    assert small == big
    # Session, user, account with owner and engagement, contacts with their last inbound touch,
    # opportunities + stage histories, leads, open tasks, journey, ownership history, activity
    # count + page, chart touches, "why hot" (seniorities, this week's counts), reps to assign to,
    # the figures status line (pending runs, the last finished one).
    with django_assert_max_num_queries(18):
        client.get(url)
