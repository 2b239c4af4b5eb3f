"""The metrics reports and resources: figures equal independent sums over the same seeded data."""

import datetime as dt
from collections import defaultdict

import pytest
from django.db.models import Sum
from django.utils import timezone

from abm.models import Job, RunKind, RunStatus, User
from accounts.models import Opportunity
from dashboards.filters import parse_filters
from demo.seeding import seed_demo
from metrics.engine.runner import recompute_all
from metrics.models import AttributionCredit, BudgetLine, EngagementScore, credit_rows_of
from playbooks.models import Activity, Enrolment
from tests.api.api_calls import error_of, ids
from tests.factories import AccountFactory, OpportunityFactory

ATTRIBUTION = "/api/metrics/attribution/"
ROI = "/api/metrics/roi/"
LIFT = "/api/metrics/lift/"
HOLDOUT = "/api/metrics/holdout-lift/"
SCORES = "/api/metrics/engagement-scores/"
RUNS = "/api/metric-runs/"


@pytest.fixture
def seeded(db):
    seed_demo(accounts=40, seed=7, today=timezone.now().date())
    recompute_all(now=timezone.now())
    return {name: User.objects.get(username=name) for name in ("director", "marketer", "rep1")}


def span(user, **params):
    """The [start, end) datetimes of the dashboard period the same parameters select."""
    filters = parse_filters(params, user=user)
    start = dt.datetime.combine(filters.first_day, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(filters.last_day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1)
    return start, end


def credits(user, kind: str, model: str, key: str) -> dict:
    """Credit and weight per ``key`` for deals converted in the period, from the credit table."""
    start, end = span(user)
    dates = "created_at" if kind == "pipeline" else "closed_at"
    deals = Opportunity.objects.filter(**{f"{dates}__gte": start, f"{dates}__lt": end})
    if not user.sees_everything:
        deals = deals.filter(account__owner=user)
    rows = (
        credit_rows_of(model)
        .filter(kind=kind, opportunity__in=deals)
        .values(key)
        .annotate(credit=Sum("credit"), weight=Sum("weight"))
    )
    return {row[key]: (float(row["credit"]), row["weight"]) for row in rows}


def by_key(response) -> dict:
    assert response.status_code == 200, response.content
    return {row["key"]: row for row in response.json()["rows"]}


@pytest.mark.parametrize("who", ["director", "rep1"])
def test_attribution_by_channel_equals_the_credit_table(api, seeded, who):
    user = seeded[who]

    rows = by_key(api(user).get(ATTRIBUTION, {"model": "linear", "kind": "pipeline"}))

    expected = credits(user, "pipeline", "linear", "channel")
    assert expected  # the seed made deals in the period
    assert set(rows) == set(expected)
    for channel, (credit, weight) in expected.items():
        assert rows[channel]["credit"] == pytest.approx(credit, rel=1e-6)
        assert rows[channel]["conversions"] == pytest.approx(weight, rel=1e-6)


def test_attribution_by_playbook_names_them(api, seeded):
    user = seeded["director"]

    response = api(user).get(
        ATTRIBUTION, {"group_by": "playbook", "kind": "revenue", "model": "w_shaped"}
    )

    rows = by_key(response)
    expected = credits(user, "revenue", "w_shaped", "playbook_id")
    assert {None if k is None else str(k) for k in expected} == set(rows)
    for playbook_id, (credit, _) in expected.items():
        row = rows[None if playbook_id is None else str(playbook_id)]
        assert row["credit"] == pytest.approx(credit, rel=1e-6)
    if None in rows:
        assert rows[None]["label"] == "No playbook"
    assert response.json()["model"] == "w_shaped"


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        (ATTRIBUTION, {"group_by": "region"}, "group_by"),
        (ATTRIBUTION, {"kind": "leads"}, "kind"),
        (ROI, {"group_by": "tier"}, "group_by"),
        *[
            (url, params, field)
            for url in (ATTRIBUTION, ROI, LIFT, HOLDOUT)
            for params, field in (
                ({"tier": "9"}, "tier"),
                ({"model": "magic"}, "model"),
                ({"preset": "custom", "start": "2026-05"}, "end"),
                ({"start": "May"}, "start"),
                ({"playbook": "x"}, "playbook"),
            )
        ],
    ],
)
def test_a_bad_report_parameter_is_a_400_naming_it(api, maria, url, params, field):
    error = error_of(api(maria).get(url, params), 400)

    assert error["code"] in ("invalid_parameter", "invalid_choice")
    assert field in error["fields"], error


@pytest.mark.parametrize("url", [ATTRIBUTION, ROI, LIFT, HOLDOUT])
def test_a_report_without_data_answers_empty(api, diana, url):
    response = api(diana).get(url)

    assert response.status_code == 200, response.content
    body = response.json()
    if url == LIFT:
        assert {row["opportunities"] for row in body["segments"]} == {0}
        assert {row["win_rate"] for row in body["lifts"]} == {None}
    else:
        assert body["rows"] == []


def test_one_opportunitys_credits_add_up_to_its_amount(api, seeded):
    user = seeded["director"]
    credit = AttributionCredit.objects.filter(kind="pipeline").first()
    deal = Opportunity.objects.get(pk=credit.opportunity_id)

    response = api(user).get(f"{ATTRIBUTION}opportunities/{deal.pk}/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["opportunity"], body["account"]) == (deal.pk, deal.account_id)
    models = {(c["model"], c["kind"]) for c in body["credits"]}
    stored = set(
        AttributionCredit.objects.filter(opportunity=deal).values_list("model", "kind").distinct()
    )
    # Markov's credits are derived from the linear rows where read.
    assert models == stored | {("markov", kind) for m, kind in stored if m == "linear"}
    assert ("markov", "pipeline") in models
    for entry in body["credits"]:
        assert entry["total"] == pytest.approx(float(deal.amount), rel=1e-6)
        assert sum(p["credit"] for p in entry["by_channel"]) == pytest.approx(entry["total"])
        assert sum(p["credit"] for p in entry["by_playbook"]) == pytest.approx(entry["total"])
        assert sum(p["weight"] for p in entry["by_channel"]) == pytest.approx(1.0, abs=1e-5)


def test_another_reps_opportunity_has_no_attribution_for_you(api, alice, bob):
    deal = OpportunityFactory(account=AccountFactory(owner=bob))

    assert error_of(api(alice).get(f"{ATTRIBUTION}opportunities/{deal.pk}/"), 404)
    assert api(bob).get(f"{ATTRIBUTION}opportunities/{deal.pk}/").json()["credits"] == []


def test_roi_by_channel_equals_independent_sums(api, seeded):
    user = seeded["director"]
    start, end = span(user)

    rows = by_key(api(user).get(ROI, {"model": "linear"}))

    spend = defaultdict(float)
    costs = Activity.objects.filter(occurred_at__gte=start, occurred_at__lt=end, cost__gt=0)
    for channel, cost in (
        costs.values("channel").annotate(s=Sum("cost")).values_list("channel", "s")
    ):
        spend[channel] += float(cost)
    lines = BudgetLine.objects.filter(date__gte=start.date(), date__lt=end.date())
    for channel, amount in (
        lines.values("channel").annotate(s=Sum("amount")).values_list("channel", "s")
    ):
        spend[channel or "unallocated"] += float(amount)
    pipeline = credits(user, "pipeline", "linear", "channel")
    revenue = credits(user, "revenue", "linear", "channel")
    assert set(rows) == set(spend) | set(pipeline) | set(revenue)
    for channel, row in rows.items():
        assert row["spend"] == pytest.approx(spend.get(channel, 0.0), rel=1e-6)
        assert row["pipeline"] == pytest.approx(pipeline.get(channel, (0.0,))[0], rel=1e-6)
        assert row["revenue"] == pytest.approx(revenue.get(channel, (0.0,))[0], rel=1e-6)
        if row["spend"]:
            assert row["roi"] == pytest.approx((row["revenue"] - row["spend"]) / row["spend"])
            assert row["pipeline_ratio"] == pytest.approx(row["pipeline"] / row["spend"])
        else:
            assert row["roi"] is None
            assert row["pipeline_ratio"] is None
        deals = float(pipeline[channel][1]) if channel in pipeline else 0.0
        if deals:
            assert row["cost_per_opportunity"] == pytest.approx(row["spend"] / deals, rel=1e-6)
        else:
            assert row["cost_per_opportunity"] is None


def test_roi_by_playbook_has_a_row_per_playbook_with_money(api, seeded):
    rows = by_key(api(seeded["marketer"]).get(ROI, {"group_by": "playbook"}))

    named = {key: row["label"] for key, row in rows.items() if key is not None}
    assert named
    assert all(not label.startswith("Playbook ") for label in named.values())


def test_lift_counts_the_deals_created_in_the_period(api, seeded):
    user = seeded["director"]
    start, end = span(user)

    response = api(user).get(LIFT)

    assert response.status_code == 200, response.content
    segments = {row["segment"]: row for row in response.json()["segments"]}
    created = Opportunity.objects.filter(created_at__gte=start, created_at__lt=end)
    for segment, tiered in (("target", False), ("non_target", True)):
        deals = created.filter(account__tier__isnull=tiered)
        won = deals.filter(stage="closed_won").count()
        lost = deals.filter(stage="closed_lost").count()
        row = segments[segment]
        assert row["opportunities"] == deals.count()
        assert row["won"] == won
        assert row["win_rate"] == (pytest.approx(won / (won + lost)) if won + lost else None)
    lifts = {row["comparison"]: row for row in response.json()["lifts"]}
    target, non_target = segments["target"]["win_rate"], segments["non_target"]["win_rate"]
    if target is not None and non_target:
        assert lifts["target_vs_non_target"]["win_rate"] == pytest.approx(target / non_target - 1)


def test_holdout_lift_counts_each_playbooks_groups(api, seeded):
    response = api(seeded["director"]).get(HOLDOUT)

    assert response.status_code == 200, response.content
    rows = response.json()["rows"]
    assert rows
    for row in rows:
        enrolments = Enrolment.objects.filter(playbook_id=row["playbook"])
        assert row["holdout_accounts"] == enrolments.filter(status="holdout").count()
        assert row["enrolled_accounts"] == enrolments.exclude(status="holdout").count()
        assert row["enough_data"] == (
            row["enrolled_accounts"] >= 30 and row["holdout_accounts"] >= 30
        )


def test_a_rep_sees_no_holdout_or_budget_rows(api, seeded):
    # The groups span every rep's accounts; a rep's rollups hold only their own.
    assert api(seeded["rep1"]).get(HOLDOUT).json()["rows"] == []


def test_reports_in_flat_queries(api, seeded, django_assert_max_num_queries):
    client = api(seeded["director"])

    for url, params in (
        (ATTRIBUTION, {"group_by": "playbook"}),
        (ROI, {"group_by": "playbook"}),
        (LIFT, {}),
        (HOLDOUT, {}),
    ):
        # the filters' choices (playbooks, reps), the sums, the playbook names
        with django_assert_max_num_queries(6):
            assert client.get(url, params).status_code == 200


# --- Engagement scores ---------------------------------------------------------------------------


def scores(owner, count: int) -> list[EngagementScore]:
    now = timezone.now()
    return [
        EngagementScore.objects.create(
            account=AccountFactory(owner=owner),
            score=10 * n,
            by_channel={"email": 10.0 * n},
            spike=n % 2 == 1,
            top_activities=[],
            computed_at=now,
        )
        for n in range(count)
    ]


def test_a_rep_reads_their_accounts_scores(api, alice, bob):
    mine, theirs = scores(alice, 3), scores(bob, 1)
    client = api(alice)

    response = client.get(SCORES)

    assert [r["account"] for r in response.json()["results"]] == [
        s.account_id for s in reversed(mine)
    ]
    assert client.get(f"{SCORES}{mine[1].account_id}/").json()["score"] == 10
    assert error_of(client.get(f"{SCORES}{theirs[0].account_id}/"), 404)["code"] == "not_found"


def test_score_filters(api, maria, alice):
    rows = scores(alice, 4)
    client = api(maria)

    def accounts(params):
        response = client.get(SCORES, params)
        assert response.status_code == 200, response.content
        return {r["account"] for r in response.json()["results"]}

    assert accounts({"spike": "true"}) == {rows[1].account_id, rows[3].account_id}
    assert accounts({"min_score": 20}) == {rows[2].account_id, rows[3].account_id}
    assert accounts({"account": rows[0].account_id}) == {rows[0].account_id}
    assert "min_score" in error_of(client.get(SCORES, {"min_score": "hot"}), 400)["fields"]
    assert "spike" in error_of(client.get(SCORES, {"spike": "maybe"}), 400)["fields"]


@pytest.mark.parametrize("count", [3, 30])
def test_the_score_list_takes_flat_queries(api, alice, count, django_assert_max_num_queries):
    scores(alice, count)
    client = api(alice)

    with django_assert_max_num_queries(2):
        response = client.get(SCORES, {"page_size": 100})

    assert response.json()["count"] == count


# --- Metric runs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["maria", "diana", "root"])
def test_a_full_recompute_is_queued_with_a_202(
    api, who, request, django_capture_on_commit_callbacks
):
    user = request.getfixturevalue(who)

    with django_capture_on_commit_callbacks() as sent:
        response = api(user).post(RUNS)

    assert response.status_code == 202, response.content
    run = Job.objects.get(pk=response.json()["id"])
    assert (run.kind, run.status, run.requested_by) == (RunKind.FULL, RunStatus.QUEUED, user)
    assert len(sent) == 1  # the task goes out once the run row is committed


def test_a_rep_may_not_start_a_recompute_nor_see_imports(api, alice):
    full = Job.objects.create(kind=RunKind.FULL)
    imported = Job.objects.create(kind=RunKind.IMPORT)
    client = api(alice)

    assert error_of(client.post(RUNS), 403)["code"] == "permission_denied"
    assert ids(client.get(RUNS)) == [full.pk]
    assert error_of(client.get(f"{RUNS}{imported.pk}/"), 404)["code"] == "not_found"


def test_run_filters(api, maria):
    done = Job.objects.create(kind=RunKind.FULL, status=RunStatus.DONE)
    Job.objects.create(kind=RunKind.INCREMENTAL)
    client = api(maria)

    assert ids(client.get(RUNS, {"status": "done"})) == [done.pk]
    assert "kind" in error_of(client.get(RUNS, {"kind": "everything"}), 400)["fields"]


@pytest.mark.parametrize("count", [3, 30])
def test_the_run_list_takes_flat_queries(api, maria, count, django_assert_max_num_queries):
    Job.objects.bulk_create(Job(kind=RunKind.FULL) for _ in range(count))
    client = api(maria)

    with django_assert_max_num_queries(2):
        response = client.get(RUNS, {"page_size": 100})

    assert len(ids(response)) == count
