"""Holdout lift shows no bare point estimate under 30 accounts per group (DOMAIN.md "Lift and
incrementality"): not in the marketer's or the director's chart and table, not in the API. The
expected figures are counted here from the enrolment and deal rows, not by the lift module."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.utils import timezone
from rest_framework.test import APIClient

from dashboards.director import director_context
from dashboards.filters import parse_filters
from dashboards.marketer import marketer_context
from metrics.engine.runner import recompute_all
from playbooks.models import Enrolment
from tests.factories import AccountFactory, EnrolmentFactory, OpportunityFactory, PlaybookFactory

ENROLLED = ("active", "completed", "exited")
# name: (enrolled, holdout); 30 per group is enough, 29 in either is not.
GROUPS = {"Enough": (30, 30), "Holdout 29": (30, 29), "Enrolled 29": (29, 31), "Small": (20, 5)}


@pytest.fixture
def playbooks(db):
    now = timezone.now()
    made = {}
    for name, (enrolled, holdout) in GROUPS.items():
        playbook = PlaybookFactory(name=name, status="active")
        for index in range(enrolled + holdout):
            account = AccountFactory(tier=1)
            EnrolmentFactory(
                account=account,
                playbook=playbook,
                status="holdout" if index >= enrolled else ENROLLED[index % 3],
                enrolled_at=now - dt.timedelta(days=60),
            )
            # Every third enrolled account and every fifth held-out one opens a deal afterwards.
            if (index < enrolled and index % 3 == 0) or (index >= enrolled and index % 5 == 0):
                OpportunityFactory(
                    account=account, amount=Decimal(10_000), created_at=now - dt.timedelta(days=5)
                )
        made[name] = playbook
    recompute_all(now=now)
    return made


def expected_difference(playbook) -> float:
    """Opportunity rate, enrolled minus holdout, counted from the rows."""
    rates = []
    for statuses in (ENROLLED, ("holdout",)):
        rows = Enrolment.objects.filter(playbook=playbook, status__in=statuses)
        with_deal = sum(
            row.account.opportunities.filter(created_at__gt=row.enrolled_at).exists()
            for row in rows.select_related("account")
        )
        rates.append(with_deal / rows.count())
    return rates[0] - rates[1]


def counts(playbook) -> tuple[int, int]:
    rows = Enrolment.objects.filter(playbook=playbook)
    return rows.filter(status__in=ENROLLED).count(), rows.filter(status="holdout").count()


def panels(context) -> tuple[dict, dict]:
    table = next(t for t in context["tables"] if t.name == "holdout_lift")
    return {row["playbook"]: row for row in table.rows}, context["charts"]["holdout"]


@pytest.mark.parametrize("dashboard", ["marketer", "director"])
def test_the_chart_and_table_show_a_difference_only_with_30_per_group(
    playbooks, diana, maria, dashboard
):
    user, build = (
        (maria, marketer_context) if dashboard == "marketer" else (diana, director_context)
    )
    rows, chart = panels(build(user, parse_filters(QueryDict(""), user=user)))
    trace = chart["data"][0]
    points = dict(zip(trace["x"], trace["y"], strict=True))
    notes = {a["x"]: a["text"].replace("<br>", " ") for a in chart["layout"]["annotations"]}

    for name, playbook in playbooks.items():
        enrolled, holdout = counts(playbook)
        assert (enrolled, holdout) == GROUPS[name]
        if enrolled >= 30 and holdout >= 30:
            assert points[name] == pytest.approx(expected_difference(playbook))
            at = trace["x"].index(name)
            low, high = trace["error_y"]["arrayminus"][at], trace["error_y"]["array"][at]
            assert min(low, high) > 0  # the 95 % interval as error bars
            assert name not in notes
            assert rows[name]["rate_diff"] == pytest.approx(expected_difference(playbook))
            assert rows[name]["rate_ci"].endswith("pts")
        else:
            note = f"not enough data ({enrolled} enrolled / {holdout} holdout)"
            assert points[name] is None  # no point, no bar
            assert notes[name] == note
            assert rows[name]["rate_diff"] is None
            assert rows[name]["pipeline_diff"] is None
            assert rows[name]["rate_ci"] == note


def test_the_api_gives_no_difference_under_30_per_group(playbooks, diana):
    client = APIClient()
    client.force_authenticate(diana)

    rows = {r["label"]: r for r in client.get("/api/metrics/holdout-lift/").json()["rows"]}

    for name, playbook in playbooks.items():
        enrolled, holdout = counts(playbook)
        row = rows[name]
        if enrolled >= 30 and holdout >= 30:
            assert (row["enough_data"], row["note"]) == (True, None)
            assert row["rate_diff"] == pytest.approx(expected_difference(playbook))
        else:
            assert row["enough_data"] is False
            assert row["note"] == f"not enough data ({enrolled} enrolled / {holdout} holdout)"
            blank = ("rate_diff", "rate_ci_low", "rate_ci_high", "rate_p", "pipeline_diff")
            assert [row[name] for name in blank] == [None] * len(blank)
