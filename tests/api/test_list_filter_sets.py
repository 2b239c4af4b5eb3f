"""One FilterSet per list: the API accepts the page's parameters (strictly) and the page the API's
(leniently), each narrowing the same way."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.filtersets import LeadFilterSet, OpportunityFilterSet
from accounts.models import Lead, OpportunityStage
from playbooks.filtersets import ActivityFilterSet
from tests.api.api_calls import error_of, ids
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    LeadFactory,
    OpportunityFactory,
    StepFactory,
)


@pytest.fixture
def book(alice):
    now = timezone.now()
    acme = AccountFactory(owner=alice, tier=1)
    other = AccountFactory(owner=alice, tier=None)
    return {
        "open": OpportunityFactory(account=acme, stage=OpportunityStage.PROPOSAL),
        "won": OpportunityFactory(account=other, stage=OpportunityStage.CLOSED_WON, closed_at=now),
        "late": LeadFactory(
            account=acme, handed_off_at=now - dt.timedelta(days=3), first_follow_up_at=now
        ),
        "none": LeadFactory(account=other, first_follow_up_at=None),
        "stepped": ActivityFactory(account=acme, step=StepFactory()),
        "bare": ActivityFactory(account=other, step=None),
    }


def test_the_api_takes_the_pages_parameters(api, alice, book):
    client = api(alice)

    assert ids(client.get("/api/opportunities/", {"stage": "won"})) == [book["won"].pk]
    assert ids(client.get("/api/opportunities/", {"tier": "targets"})) == [book["open"].pk]
    assert ids(client.get("/api/leads/", {"follow_up": "none"})) == [book["none"].pk]
    assert ids(client.get("/api/activities/", {"playbook": "none"})) == [book["bare"].pk]
    assert ids(client.get("/api/activities/", {"owner": "unassigned"})) == []


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/opportunities/", {"created_from": "yesterday"}),
        ("/api/opportunities/", {"tier": "9"}),
        ("/api/leads/", {"follow_up": "maybe"}),
        ("/api/activities/", {"playbook": "abc"}),
    ],
)
def test_a_bad_page_parameter_is_a_400_in_the_api(api, alice, book, path, params):
    error = error_of(api(alice).get(path, params), 400)

    assert set(params) <= set(error["fields"])


def test_a_page_takes_the_apis_parameters_and_drops_bad_ones(book):
    later = (timezone.now() + dt.timedelta(days=1)).isoformat()

    flt = OpportunityFilterSet.for_page({"open": "true", "created_before": later, "tier": "9"})
    assert list(flt.qs) == [book["open"]]
    assert len(flt.problems) == 1
    assert "tier=" not in flt.query().urlencode()

    leads = LeadFilterSet.for_page({"followed_up": "true"}, Lead.objects.all())
    assert list(leads.qs) == [book["late"]]
    activities = ActivityFilterSet.for_page({"step": book["stepped"].step_id})
    assert list(activities.qs) == [book["stepped"]]
