"""The rollups the dashboards read add up to the same totals as the rows they summarise."""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from accounts.models import Account, Opportunity
from metrics import rollups
from metrics.engine.runner import recompute_all
from metrics.models import (
    AttributionCredit,
    BudgetLine,
    EngagementHistory,
    MetricRollup,
    RollupMetric,
    credit_rows_of,
)
from playbooks.models import Activity
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    EnrolmentFactory,
    LeadFactory,
    OpportunityFactory,
    PlaybookFactory,
    StepFactory,
)

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


@pytest.fixture
def dataset(alice, bob):
    email_step = StepFactory(channel="email", owner_role="marketing")
    playbook = email_step.stage.playbook
    phone_step = StepFactory(channel="phone", owner_role="sales", stage=email_step.stage)

    mine = AccountFactory(tier=1, owner=alice)
    vp = ContactFactory(account=mine, seniority="vp")
    ActivityFactory(
        account=mine,
        contact=vp,
        channel="webinar",
        kind="webinar_attended",
        occurred_at=days_ago(40),
    )
    ActivityFactory(
        account=mine,
        contact=vp,
        channel="email",
        kind="email_click",
        step=email_step,
        cost=Decimal("5"),
        occurred_at=days_ago(30),
    )
    OpportunityFactory(
        account=mine, amount=Decimal("10000"), created_at=days_ago(10), source="marketing"
    )
    OpportunityFactory(
        account=mine,
        amount=Decimal("8000"),
        stage="closed_won",
        created_at=days_ago(100),
        closed_at=days_ago(50),
    )

    theirs = AccountFactory(tier=2, owner=bob)
    ActivityFactory(
        account=theirs,
        channel="phone",
        kind="call_connected",
        step=phone_step,
        occurred_at=days_ago(20),
    )
    ActivityFactory(
        account=theirs,
        channel="display",
        kind="ad_click",
        cost=Decimal("12"),
        occurred_at=days_ago(15),
    )
    OpportunityFactory(
        account=theirs,
        amount=Decimal("5000"),
        stage="closed_lost",
        created_at=days_ago(60),
        closed_at=days_ago(30),
    )

    nobody = AccountFactory(tier=None, owner=None)
    ActivityFactory(account=nobody, channel="content", kind="web_visit", occurred_at=days_ago(5))
    OpportunityFactory(account=nobody, amount=Decimal("2000"), created_at=days_ago(3))

    BudgetLine.objects.create(playbook=playbook, date=dt.date(2026, 5, 1), amount=Decimal("1000"))
    BudgetLine.objects.create(channel="display", date=dt.date(2026, 6, 1), amount=Decimal("300"))
    LeadFactory(
        account=mine,
        source_channel="webinar",
        handed_off_at=days_ago(29),
        first_follow_up_at=days_ago(28),
    )
    LeadFactory(account=theirs, source_channel="event", handed_off_at=days_ago(20))
    EnrolmentFactory(account=mine, playbook=playbook, status="active", enrolled_at=days_ago(90))
    EnrolmentFactory(account=theirs, playbook=playbook, status="holdout", enrolled_at=days_ago(90))
    recompute_all(now=NOW)
    return {"playbook": playbook, "mine": mine, "theirs": theirs, "nobody": nobody}


def rollup(metric: str, **filters):
    return MetricRollup.objects.filter(metric=metric, **filters)


def total(queryset, field: str = "value") -> float:
    return queryset.aggregate(total=Sum(field))["total"] or 0.0


def test_the_metric_catalogue_matches_the_model():
    assert set(rollups.METRICS) == set(RollupMetric.values)


@pytest.mark.parametrize("kind", ["pipeline", "revenue"])
@pytest.mark.parametrize("model", ["first_touch", "linear", "markov", "shapley"])
def test_credit_rollups_sum_to_the_stored_credits(dataset, model, kind):
    credits = credit_rows_of(model).filter(kind=kind)
    rows = rollup("credit", model=model, kind=kind)
    assert total(rows) == pytest.approx(float(total(credits, "credit")))
    # Conversions credited: every deal with touches counts once in all.
    assert total(rows, "count") == pytest.approx(credits.values("opportunity").distinct().count())


def test_credit_rollups_per_channel_and_owner_match_the_credits(dataset, alice):
    credits = AttributionCredit.objects.filter(model="linear", kind="pipeline")
    by_channel = dict(credits.values_list("channel").annotate(total=Sum("credit")))
    rows = rollup("credit", model="linear", kind="pipeline")
    rolled = {c: total(rows.filter(channel=c)) for c in by_channel}
    assert rolled == pytest.approx({c: float(v) for c, v in by_channel.items()})
    assert total(rows.filter(owner=alice)) == pytest.approx(
        float(total(credits.filter(account__owner=alice), "credit"))
    )


def test_spend_rollups_are_activity_costs_plus_budget_lines(dataset):
    direct = total(Activity.objects.all(), "cost") + total(BudgetLine.objects.all(), "amount")
    assert total(rollup("spend")) == pytest.approx(float(direct))  # 5 + 12 + 1000 + 300
    # The playbook's May line (no channel) goes to the only account with its cost in May; the
    # June display line to the only account with a display cost in June.
    no_channel = rollup("spend", channel="unallocated").get()
    assert (no_channel.value, no_channel.playbook_id, no_channel.tier, no_channel.owner_id) == (
        1000,
        dataset["playbook"].pk,
        1,
        dataset["mine"].owner_id,
    )
    assert total(rollup("spend", tier=1)) == pytest.approx(5 + 1000)
    assert total(rollup("spend", tier=2)) == pytest.approx(12 + 300)
    assert not rollup("spend", tier__isnull=True).exists()


def test_deal_rollups_match_the_deals_per_month(dataset):
    direct = {
        row["month"].date(): (row["n"], float(row["amount"]))
        for row in Opportunity.objects.annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(n=Count("id"), amount=Sum("amount"))
    }
    rolled = {}
    for row in rollup("opportunities"):
        n, amount = rolled.get(row.period, (0, 0.0))
        rolled[row.period] = (n + row.count, amount + row.value)
    assert rolled == direct
    assert total(rollup("won")) == 8000
    assert total(rollup("lost")) == 5000
    assert total(rollup("open")) == 12000
    # The won deal took 50 days.
    assert total(rollup("cycle_days")) == pytest.approx(50)


def test_sourced_and_influenced_pipeline(dataset):
    assert total(rollup("sourced")) == 10000
    # A marketing touch before creation: the webinar and the email before alice's 10000 deal
    # (not before her 8000 one, created 100 days ago), the visit before the non-target's 2000.
    # Bob's deal came before his display ad, and a sales step's call is no marketing touch.
    assert total(rollup("influenced")) == 10000 + 2000


def test_the_funnel_counts_accounts_per_stage_and_tier(dataset):
    direct = dict(Account.objects.values_list("stage").annotate(n=Count("id")))
    rolled = {}
    for row in rollup("accounts", period=None):
        rolled[row.segment] = rolled.get(row.segment, 0) + row.count
    assert rolled == direct
    assert rollup("accounts", tier=0).get().count == 1  # the non-target


def test_engagement_rollups_sum_the_stored_history_of_enrolled_and_holdout_accounts(dataset):
    # A second playbook: its own rows, and the account still counts once for any playbook.
    other = PlaybookFactory()
    EnrolmentFactory(account=dataset["mine"], playbook=other, status="completed")
    recompute_all(now=NOW)
    days = rollups.engagement_days(NOW.date())
    assert sorted({r.period for r in rollup("engagement")}) == days
    groups = {
        ("enrolled", dataset["playbook"].pk): [dataset["mine"]],
        ("holdout", dataset["playbook"].pk): [dataset["theirs"]],
        ("enrolled", other.pk): [dataset["mine"]],
        ("enrolled", None): [dataset["mine"]],
        ("holdout", None): [dataset["theirs"]],
    }
    for (segment, playbook_id), accounts in groups.items():
        for day in days:
            row = rollup("engagement", segment=segment, playbook_id=playbook_id, period=day).get()
            stored = EngagementHistory.objects.filter(account__in=accounts, date=day)
            assert row.value == pytest.approx(total(stored, "score"))
            assert row.count == len(accounts)
            assert (row.tier, row.owner_id) == (accounts[0].tier, accounts[0].owner_id)
    assert total(rollup("engagement", period=days[-1])) > 0  # the sampled days carry scores


def test_engagement_rollups_add_up_over_disjoint_accounts():
    members = pd.DataFrame(
        {
            "account_id": [1, 2, 3, 1, 2, 3],
            "playbook_id": pd.array([7, 7, 7, None, None, None], dtype="Int64"),
            "segment": ["enrolled", "enrolled", "holdout"] * 2,
            "tier": pd.array([1, 1, 1] * 2, dtype="Int64"),
            "owner_id": pd.array([5, 5, None] * 2, dtype="Int64"),
        }
    )
    days = rollups.engagement_days(dt.date(2026, 6, 30), weeks=2)
    daily = pd.DataFrame(
        {
            "account_id": [1, 2, 3, 1],
            "date": pd.to_datetime([days[1], days[1], days[1], days[0]]),
            "score": [1.5, 2.25, 4.0, 8.0],
        }
    )
    whole = rollups.engagement_rollup(members, daily, days)
    shards = pd.concat(
        [
            rollups.engagement_rollup(
                members.loc[members["account_id"].isin(part)],
                daily.loc[daily["account_id"].isin(part)],
                days,
            )
            for part in ([1], [2, 3])
        ]
    )
    keys = ["period", "playbook_id", "segment", "tier", "owner_id"]

    def summed(frame):
        frame = frame.astype({c: object for c in keys}).fillna({c: "NA" for c in keys})
        return frame.groupby(keys)[["value", "count"]].sum().sort_index()

    pd.testing.assert_frame_equal(summed(whole), summed(shards))
    last = whole.loc[(whole["period"] == pd.Timestamp(days[1])) & whole["playbook_id"].isna()]
    by_segment = last.set_index("segment")
    assert by_segment.loc["enrolled", "value"] == 3.75
    assert by_segment.loc["enrolled", "count"] == 2
    # No score on the first day for account 3: a zero row, still counting the account.
    first = whole.loc[(whole["period"] == pd.Timestamp(days[0])) & whole["playbook_id"].isna()]
    assert first.set_index("segment").loc["holdout", ["value", "count"]].tolist() == [0.0, 1.0]


def test_lead_rollups(dataset):
    assert total(rollup("leads"), "count") == 2
    assert total(rollup("leads")) == 1  # followed up
    # Both leads are decided: one on time, one 20 days without a follow-up.
    assert (total(rollup("follow_up")), total(rollup("follow_up"), "count")) == (1, 2)
    hours = rollup("follow_up_hours", segment="total").get()
    assert (hours.value, hours.count) == (24, 1)


def test_holdout_and_lift_snapshots(dataset):
    holdout = rollup("holdout").get()
    assert holdout.playbook_id == dataset["playbook"].pk
    assert holdout.data["enrolled_accounts"] == 1
    assert holdout.data["enough_data"] is False
    assert holdout.data["rate_ci_low"] is None
    lift_rows = {row.segment: row for row in rollup("lift")}
    assert set(lift_rows) >= {"target", "non_target", "target_vs_non_target"}
    # Targets: one won, one lost in the last 365 days.
    assert lift_rows["target"].value == pytest.approx(0.5)


def test_a_rep_reads_only_their_own_slice(dataset, alice):
    mine = MetricRollup.objects.filter(owner=alice)
    assert set(mine.values_list("metric", flat=True)) >= {"credit", "spend", "won", "leads"}
    # Medians do not add up, so they are kept per rep without a tier.
    assert set(mine.exclude(metric="follow_up_hours").values_list("tier", flat=True)) == {1}


def test_a_rerun_leaves_the_same_rollups(dataset):
    def snapshot():
        return sorted(
            MetricRollup.objects.values_list(
                "metric", "period", "model", "kind", "channel", "segment", "value", "count"
            ),
            key=repr,
        )

    first = snapshot()
    recompute_all(now=NOW)
    assert snapshot() == first


def test_task_rollups_split_open_tasks_at_the_run_day():
    today = pd.Timestamp("2026-06-30", tz="UTC")
    due = pd.to_datetime(
        [
            "2026-06-29 23:00",
            "2026-06-30 00:00",
            "2026-06-10 09:00",
            "2026-06-12 09:00",
            "2026-07-02 09:00",
        ],
        utc=True,
    )
    tasks = pd.DataFrame(
        {
            "status": ["open", "open", "done", "skipped", "open"],
            "due_at": due,
            "month": due.tz_localize(None).to_period("M").start_time,
            "playbook_id": pd.array([1, 1, 1, 2, 1], dtype="Int64"),
            "tier": pd.array([1, 1, 1, 1, 0], dtype="Int64"),
            "owner_id": pd.array([5, 5, 5, None, 5], dtype="Int64"),
        }
    )
    rows = rollups.task_rollup(tasks, today)
    got = rows.groupby(["segment", "playbook_id"])["value"].sum().to_dict()
    assert got == {("overdue", 1): 1, ("upcoming", 1): 2, ("done", 1): 1, ("skipped", 2): 1}
    assert (rows["value"] == rows["count"]).all()
    july = rows.loc[rows["period"] == pd.Timestamp("2026-07-01")]
    assert july[["segment", "tier"]].values.tolist() == [["upcoming", 0]]
