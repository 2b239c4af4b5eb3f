"""Proposed playbook budgets on the saved plan page, and setting them (issue #18)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from playbooks.building import playbook_create
from playbooks.models import Activity, Playbook, PlaybookStatus, Step
from tests.goals.test_plans import _period, _save, snapshot_for


def _line(channel: str, amount: float) -> dict:
    value = {"value": amount, "low": amount, "high": amount, "accounts": 10, "fallback": False}
    return {"channel": channel, "amount": value, "cost_per_opportunity": None}


def _plan(by, **extra):
    start, _ = _period()
    result = snapshot_for(start)
    # $10,000 email, $6,000 LinkedIn, $2,000 events.
    result["budget"] = [_line("email", 10_000), _line("linkedin", 6_000), _line("event", 2_000)]
    return _save(by, result=result, **extra)


def _playbook(by, name, tiers, status=PlaybookStatus.ACTIVE, budget=0, **extra):
    playbook = playbook_create(name=name, by=by, audience_tiers=tiers, budget=budget)
    Playbook.objects.filter(pk=playbook.pk).update(status=status, **extra)
    playbook.refresh_from_db()
    return playbook


def _spend(playbook, channel, cost, account):
    step = Step.objects.create(stage=playbook.stages.first(), channel=channel)
    Activity.objects.create(
        account=account,
        channel=channel,
        kind="email_sent",
        direction="outbound",
        occurred_at=timezone.now() - dt.timedelta(days=30),
        cost=Decimal(cost),
        step=step,
        source="import",
        external_id=f"{playbook.pk}-{channel}-{cost}",
    )


@pytest.fixture
def history(diana):
    """Email spend 300 (Nurture) to 100 (Expand), LinkedIn only Expand, events nobody; an
    archived, a starter and a tier-3 playbook that are out of the tiers-1-2 plan's scope."""
    account = Account.objects.create(name="A", domain="a.com", tier=1)
    nurture = _playbook(diana, "Nurture", [1], budget=1_000)
    expand = _playbook(diana, "Expand", [2, 3], status=PlaybookStatus.DRAFT)
    archived = _playbook(diana, "Old", [1], status=PlaybookStatus.ARCHIVED, budget=5)
    starter = _playbook(diana, "Starter", [1], is_starter=True)
    retail = _playbook(diana, "Tier 3", [3])
    _spend(nurture, "email", 200, account)
    _spend(nurture, "email", 100, account)
    _spend(expand, "email", 100, account)
    _spend(expand, "linkedin", 50, account)
    for other in (archived, starter, retail):
        _spend(other, "event", 999, account)
        _spend(other, "email", 999, account)
    return {"nurture": nurture, "expand": expand, "archived": archived}


@pytest.mark.django_db
def test_a_director_sees_the_proposals_and_sets_them_once(client, diana, history):
    plan = _plan(diana)
    client.force_login(diana)
    page = client.get(reverse("plans:plan_detail", args=[plan.pk])).content.decode()
    assert "Proposed playbook budgets" in page
    # Nurture: 3/4 of $10,000 email = $7,500 (from $1,000: +$6,500). Expand: 1/4 of email +
    # all of LinkedIn = $2,500 + $6,000 = $8,500. Events $2,000 unassigned; total $18,000.
    assert '$1,000.00</td><td class="num">$7,500.00</td><td class="num">+$6,500.00' in page
    assert '$0.00</td><td class="num">$8,500.00</td><td class="num">+$8,500.00' in page
    assert "Unassigned: Event" in page
    assert "$18,000.00" in page
    assert f'data-testid="proposal-{history["archived"].pk}"' not in page
    assert ">Tier 3</a>" not in page

    response = client.post(reverse("plans:plan_budgets", args=[plan.pk]))
    assert response.status_code == 302
    nurture, expand = (Playbook.objects.get(pk=history[key].pk) for key in ("nurture", "expand"))
    assert (nurture.budget, expand.budget) == (Decimal("7500.00"), Decimal("8500.00"))
    assert Playbook.objects.get(pk=history["archived"].pk).budget == Decimal(5)

    # The second click changes nothing, not even the playbooks' last-changed time.
    stamps = {pb.pk: pb.updated_at for pb in (nurture, expand)}
    again = client.post(reverse("plans:plan_budgets", args=[plan.pk]), follow=True)
    assert "nothing changed" in again.content.decode()
    for pk, stamp in stamps.items():
        playbook = Playbook.objects.get(pk=pk)
        assert playbook.updated_at == stamp
    assert {pb.budget for pb in Playbook.objects.filter(pk__in=stamps)} == {
        Decimal("7500.00"),
        Decimal("8500.00"),
    }


@pytest.mark.django_db
def test_a_plan_naming_a_playbook_proposes_for_it_alone(client, diana, history):
    plan = _plan(diana, playbook=history["expand"])
    client.force_login(diana)
    client.post(reverse("plans:plan_budgets", args=[plan.pk]))
    # Expand alone: all email ($10,000) and LinkedIn ($6,000); Nurture keeps its $1,000.
    assert Playbook.objects.get(pk=history["expand"].pk).budget == Decimal("16000.00")
    assert Playbook.objects.get(pk=history["nurture"].pk).budget == Decimal("1000.00")


@pytest.mark.django_db
def test_no_playbook_in_scope_is_an_empty_state(client, diana):
    plan = _plan(diana)
    client.force_login(diana)
    page = client.get(reverse("plans:plan_detail", args=[plan.pk])).content.decode()
    assert "No playbook in scope" in page
    assert "Set these budgets" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "status"), [("maria", 403), ("alice", 404)])
def test_marketers_and_reps_cannot_set_budgets(client, diana, history, who, status, request):
    plan = _plan(diana)
    client.force_login(request.getfixturevalue(who))
    response = client.post(reverse("plans:plan_budgets", args=[plan.pk]))
    assert response.status_code == status
    assert Playbook.objects.get(pk=history["nurture"].pk).budget == Decimal("1000.00")
    assert Playbook.objects.get(pk=history["expand"].pk).budget == Decimal(0)
    if who == "maria":
        page = client.get(reverse("plans:plan_detail", args=[plan.pk])).content.decode()
        assert "Set these budgets" not in page
