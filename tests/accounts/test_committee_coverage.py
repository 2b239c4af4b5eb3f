"""Buying-committee coverage: the share of decision maker, champion and influencer engaged."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.committee import committee_coverage
from accounts.models import COMMITTEE_ROLES
from tests.accounts.account_pages import account, activity
from tests.factories import ContactFactory

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def days_ago(n):
    return NOW - dt.timedelta(days=n)


ROLES = [(role.value, str(role.label)) for role in COMMITTEE_ROLES]


@pytest.mark.parametrize(
    ("contacts", "share", "missing"),
    [
        ([], 0.0, ["Decision maker", "Champion", "Influencer"]),
        ([("decision_maker", days_ago(5))], 1 / 3, ["Champion", "Influencer"]),
        (
            [("decision_maker", days_ago(5)), ("champion", days_ago(89)), ("influencer", NOW)],
            1.0,
            [],
        ),
        # Engaged 90 days ago or earlier does not count; no inbound at all does not either.
        ([("champion", days_ago(90)), ("influencer", None)], 0.0, None),
        # Users and blockers are not part of the three roles.
        ([("user", NOW), ("blocker", NOW), ("unknown", NOW)], 0.0, None),
        # Two engaged champions still cover one role.
        ([("champion", NOW), ("champion", NOW)], 1 / 3, None),
    ],
)
def test_coverage_is_the_share_of_key_roles_engaged_in_90_days(contacts, share, missing):
    coverage = committee_coverage(contacts, roles=ROLES, now=NOW, days=90)

    assert coverage.share == pytest.approx(share)
    if missing is not None:
        assert coverage.missing == missing


def test_it_counts_contacts_and_engaged_ones_per_role():
    coverage = committee_coverage(
        [("champion", NOW), ("champion", None), ("influencer", None)],
        roles=ROLES,
        now=NOW,
        days=90,
    )

    assert [(r.role, r.contacts, r.engaged) for r in coverage.roles] == [
        ("decision_maker", 0, 0),
        ("champion", 2, 1),
        ("influencer", 1, 0),
    ]


def test_the_account_page_counts_only_inbound_touches_by_the_contact(client, maria):
    acme = account(None, "Acme")
    dm = ContactFactory(account=acme, buying_role="decision_maker")
    champion = ContactFactory(account=acme, buying_role="champion")
    influencer = ContactFactory(account=acme, buying_role="influencer")
    activity(acme, days_ago=3, contact=dm, kind="email_reply", direction="inbound")
    # We emailed the champion: that is our touch, not their engagement.
    activity(acme, days_ago=3, contact=champion, kind="email_sent", direction="outbound")
    activity(acme, days_ago=120, contact=influencer, kind="email_reply", direction="inbound")
    client.force_login(maria)

    response = client.get(reverse("accounts:detail", args=[acme.pk]))

    coverage = response.context["coverage"]
    assert [r.covered for r in coverage.roles] == [True, False, False]
    assert response.context["engaged_contacts"] == 1
    assert 'data-testid="coverage">33.3%' in response.content.decode()
