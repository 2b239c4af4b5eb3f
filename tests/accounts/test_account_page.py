"""The account page: what it shows, and to whom."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import OpportunityStageChange
from metrics.models import JourneyStageChange
from tests.accounts.account_pages import account, activity, engagement
from tests.factories import (
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    TaskFactory,
)


def page(client, target):
    return client.get(reverse("accounts:detail", args=[target.pk]))


def test_another_reps_account_is_a_404_like_a_missing_one(client, alice, bob):
    theirs = account(bob, "Bolt")
    client.force_login(alice)

    assert page(client, theirs).status_code == 404
    assert client.get(reverse("accounts:detail", args=[999999])).status_code == 404


def test_it_shows_fit_and_engagement_with_their_breakdowns(client, alice):
    acme = account(
        alice,
        "Acme",
        fit_score=75,
        fit_breakdown=[
            {"criterion": "industry", "weight": 3, "match": 1.0, "value": "Software"},
            {"criterion": "annual_revenue", "weight": 1, "match": 0.0, "value": 5_000_000},
        ],
    )
    engagement(
        acme,
        score=30,
        spike=True,
        by_channel={"webinar": 20.0, "email": 10.0},
        top=[{"activity_id": 0, "kind": "webinar_attended", "channel": "webinar", "points": 9}],
    )
    client.force_login(alice)

    response = page(client, acme)

    html = response.content.decode()
    assert [r["label"] for r in response.context["fit_rows"]] == ["Industry", "Annual revenue"]
    assert "$5,000,000" in html
    assert [r["channel"] for r in response.context["by_channel"]] == ["webinar", "email"]
    assert response.context["why_hot"] == "Webinar attended"
    assert "Spike" in html


def test_opportunities_show_their_stage_history(client, maria):
    acme = account(None, "Acme")
    deal = OpportunityFactory(account=acme, name="Rollout", amount=Decimal("120000"))
    start = deal.created_at
    for offset, (before, after) in enumerate(
        [("", "qualification"), ("qualification", "proposal")]
    ):
        OpportunityStageChange.objects.create(
            opportunity=deal,
            from_stage=before,
            to_stage=after,
            changed_at=start + dt.timedelta(days=offset),
        )
    client.force_login(maria)

    html = page(client, acme).content.decode()

    assert "Rollout" in html
    assert "$120,000" in html
    assert 'class="stage-path"' in html
    assert "Proposal" in html


def test_leads_show_their_follow_up_against_the_sla(client, maria, settings):
    settings.ABM_FOLLOW_UP_SLA_HOURS = 24
    acme = account(None, "Acme")
    handed = timezone.now() - dt.timedelta(days=5)
    LeadFactory(
        account=acme, handed_off_at=handed, first_follow_up_at=handed + dt.timedelta(hours=3)
    )
    LeadFactory(
        account=acme, handed_off_at=handed, first_follow_up_at=handed + dt.timedelta(hours=30)
    )
    LeadFactory(account=acme, handed_off_at=handed)
    client.force_login(maria)

    response = page(client, acme)

    labels = sorted(lead.follow_up.label for lead in response.context["leads"])
    assert labels == ["Late", "Overdue", "Within SLA"]
    assert "within 24 h" in response.content.decode()


def test_it_shows_open_tasks_and_the_journey(client, alice):
    acme = account(alice, "Acme")
    TaskFactory(enrolment__account=acme, assignee=alice, subject="Call the CFO")
    TaskFactory(enrolment__account=acme, assignee=alice, subject="Done already", status="done")
    JourneyStageChange.objects.create(
        account=acme, from_stage="", to_stage="targeted", changed_at=timezone.now()
    )
    client.force_login(alice)

    response = page(client, acme)

    assert [t.subject for t in response.context["tasks"]] == ["Call the CFO"]
    assert [c.to_stage for c in response.context["stage_history"]] == ["targeted"]


def test_the_activity_list_pages_through_the_latest_hundred(client, maria):
    acme = account(None, "Acme")
    for i in range(110):
        activity(acme, days_ago=i / 10 + 0.01)
    client.force_login(maria)

    first = page(client, acme).context["activity_page"]
    last = client.get(reverse("accounts:detail", args=[acme.pk]), {"activities": "4"})
    odd = client.get(reverse("accounts:detail", args=[acme.pk]), {"activities": "zzz"})

    assert first.paginator.count == 100
    assert len(first.object_list) == 25
    assert last.context["activity_page"].number == 4
    assert odd.status_code == 200


def test_the_committee_lists_contacts_by_role(client, maria):
    acme = account(None, "Acme")
    ContactFactory(account=acme, first_name="Zed", buying_role="influencer")
    ContactFactory(account=acme, first_name="Ann", buying_role="decision_maker")
    client.force_login(maria)

    response = page(client, acme)

    assert [c.first_name for c in response.context["contacts"]] == ["Ann", "Zed"]
    assert response.context["missing_roles"] == ["Champion"]


@pytest.mark.parametrize("username", ["alice", "maria", "diana", "root"])
def test_every_role_opens_a_visible_account(client, alice, maria, diana, root, username):
    acme = account(alice, "Acme")
    user = {"alice": alice, "maria": maria, "diana": diana, "root": root}[username]
    client.force_login(user)

    assert page(client, acme).status_code == 200


def test_an_empty_account_says_what_to_do_in_each_section(client, maria):
    acme = account(None, "Quiet")
    client.force_login(maria)

    html = page(client, acme).content.decode()

    assert "No touches or opportunities" in html
    assert "No contacts yet" in html
    assert "No opportunities yet" in html
    assert "No activity recorded yet" in html
    assert 'id="timeline"' not in html


def test_the_fit_rows_add_up_to_the_fit_shown(client, alice):
    # 37.5 + 37.5 + 18 = 93: rounded one by one the rows used to read 38 + 38 + 18 = 94.
    acme = account(
        alice,
        "Acme",
        fit_score=93.0,
        fit_breakdown=[
            {"criterion": "industry", "weight": 3, "match": 1.0, "value": "Software"},
            {"criterion": "country", "weight": 3, "match": 1.0, "value": "Germany"},
            {"criterion": "employees", "weight": 2, "match": 0.72, "value": 700},
        ],
    )
    client.force_login(alice)

    html = page(client, acme).content.decode()

    shown = re.findall(r'data-testid="fit-contribution">\+(\d+)<', html)
    assert [int(n) for n in shown] == [38, 37, 18]
    assert '<span class="meta">93 / 100</span>' in html
    assert "of 37.5" not in html
