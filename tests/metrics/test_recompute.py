"""The full recompute stores what the pure modules compute, and a re-run changes nothing."""

import datetime as dt
import io
from decimal import Decimal
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test import override_settings

from abm.jobs import execute_run
from abm.models import Job, RunKind, RunStatus
from accounts.models import Account
from metrics.engine import runner, writing
from metrics.engine.compute import credits
from metrics.engine.runner import recompute_all, recompute_changed
from metrics.models import (
    AttributionCredit,
    AttributionModel,
    EngagementHistory,
    EngagementScore,
    JourneyStageChange,
    MarkovCredit,
    MetricRollup,
    credit_rows_of,
)
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    OpportunityFactory,
    StepFactory,
)

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


@pytest.fixture
def dataset(db):
    """One target account with a deal and three touches, one quiet account, one non-target."""
    step = StepFactory(channel="email")
    mail_step = StepFactory(channel="direct_mail")
    deal_account = AccountFactory(tier=1)
    vp = ContactFactory(account=deal_account, seniority="vp")
    ActivityFactory(
        account=deal_account,
        contact=vp,
        channel="webinar",
        kind="webinar_attended",
        occurred_at=days_ago(40),
    )
    ActivityFactory(
        account=deal_account,
        contact=vp,
        channel="email",
        kind="email_click",
        occurred_at=days_ago(30),
        step=step,
    )
    # Outbound with no points, done by a playbook step with a cost: a touch for attribution
    # (the default touch rules), nothing for engagement.
    ActivityFactory(
        account=deal_account,
        channel="direct_mail",
        kind="direct_mail_sent",
        direction="outbound",
        cost=Decimal("40"),
        occurred_at=days_ago(20),
        step=mail_step,
    )
    deal = OpportunityFactory(
        account=deal_account, amount=Decimal("10000"), created_at=days_ago(10)
    )
    quiet = AccountFactory(tier=2)
    browsing = AccountFactory(tier=None)
    ActivityFactory(account=browsing, channel="content", kind="web_visit", occurred_at=days_ago(0))
    return {
        "deal_account": deal_account,
        "deal": deal,
        "quiet": quiet,
        "browsing": browsing,
        "step": step,
        "mail_step": mail_step,
    }


def test_it_stores_engagement_as_the_domain_formula_gives_it(dataset):
    recompute_all(now=NOW)
    # webinar 10 * vp 1.5 decayed 40 days; email click 3 * 1.5 decayed 30 days; mail 0.
    expected = 15 * 2 ** (-40 / 30) + 4.5 * 2 ** (-30 / 30)
    stored = EngagementScore.objects.get(account=dataset["deal_account"])
    assert stored.score == pytest.approx(expected, abs=1e-3)
    assert stored.by_channel == pytest.approx(
        {"webinar": 15 * 2 ** (-40 / 30), "email": 2.25}, abs=1e-3
    )
    assert Account.objects.get(pk=dataset["deal_account"].pk).engagement_score == pytest.approx(
        expected, abs=1e-3
    )
    assert EngagementScore.objects.get(account=dataset["quiet"]).score == 0


def test_it_moves_accounts_to_their_journey_stage_and_keeps_the_change(dataset):
    recompute_all(now=NOW)
    stages = dict(Account.objects.values_list("pk", "stage"))
    assert stages[dataset["deal_account"].pk] == "opportunity"
    assert stages[dataset["quiet"].pk] == "targeted"
    assert stages[dataset["browsing"].pk] == "aware"
    change = JourneyStageChange.objects.get(account=dataset["deal_account"])
    assert (change.from_stage, change.to_stage, change.changed_at) == ("", "opportunity", NOW)


@pytest.mark.parametrize("model", AttributionModel.values)
def test_every_model_credits_the_whole_deal_amount(dataset, model):
    recompute_all(now=NOW)
    credits = credit_rows_of(model).filter(kind="pipeline")
    assert credits.aggregate(total=Sum("credit"))["total"] == pytest.approx(Decimal("10000"))
    assert set(credits.values_list("opportunity", flat=True)) == {dataset["deal"].pk}


def test_linear_credit_goes_a_third_to_each_touch_and_keeps_the_playbook(dataset):
    recompute_all(now=NOW)
    credits = {
        (row.channel, row.playbook_id): row.credit
        for row in AttributionCredit.objects.filter(model="linear", kind="pipeline")
    }
    third = pytest.approx(Decimal("3333.3333"), abs=Decimal("0.001"))
    assert credits == {
        ("webinar", None): third,
        ("email", dataset["step"].stage.playbook_id): third,
        ("direct_mail", dataset["mail_step"].stage.playbook_id): third,
    }


def test_a_rerun_changes_nothing(dataset):
    recompute_all(now=NOW)
    first = (
        list(
            AttributionCredit.objects.order_by("model", "channel").values_list(
                "model", "channel", "credit"
            )
        ),
        list(EngagementScore.objects.order_by("account_id").values_list("account_id", "score")),
        EngagementHistory.objects.count(),
        JourneyStageChange.objects.count(),
    )
    recompute_all(now=NOW)
    second = (
        list(
            AttributionCredit.objects.order_by("model", "channel").values_list(
                "model", "channel", "credit"
            )
        ),
        list(EngagementScore.objects.order_by("account_id").values_list("account_id", "score")),
        EngagementHistory.objects.count(),
        JourneyStageChange.objects.count(),
    )
    assert first == second


def test_history_holds_the_daily_score_of_each_account(dataset):
    recompute_all(now=NOW)
    day = EngagementHistory.objects.get(account=dataset["deal_account"], date=dt.date(2026, 6, 1))
    end_of_day = dt.datetime(2026, 6, 1, 23, 59, 59, 999999, tzinfo=dt.UTC)
    webinar_age = (end_of_day - days_ago(40)).total_seconds() / 86400
    click_age = (end_of_day - days_ago(30)).total_seconds() / 86400
    expected = 15 * 2 ** (-webinar_age / 30) + 4.5 * 2 ** (-click_age / 30)
    assert day.score == pytest.approx(expected, abs=1e-3)


def test_credits_are_stored_once_per_model_kind_deal_channel_and_playbook(dataset):
    recompute_all(now=NOW)
    keys = [
        key
        for rows in (AttributionCredit.objects, MarkovCredit.objects)
        for key in rows.values_list("model", "kind", "opportunity", "channel", "playbook")
    ]
    # Three (channel, playbook) pairs; first and last touch credit one of them. Markov's rows
    # are derived where read (the view), none stored.
    assert len(keys) == len(set(keys)) == 6 * 3 + 2 * 1
    assert not AttributionCredit.objects.filter(model="markov").exists()


def test_it_reports_the_time_of_every_phase(dataset):
    result = recompute_all(now=NOW)
    assert list(result["seconds"]) == [
        "load",
        "engagement",
        "stages",
        "attribution",
        "rollups",
        "write slot",
        "finish load",
        "finish compute",
        "write finish",
        "analyze",
    ]
    assert all(seconds >= 0 for seconds in result["seconds"].values())


def test_the_command_recomputes_as_a_recorded_run_and_prints_the_phases(dataset):
    out = io.StringIO()
    call_command("recompute_metrics", "--now", "2026-06-30T12:00:00", stdout=out)
    run = Job.objects.get(kind=RunKind.FULL)
    assert (run.kind, run.status, run.percent) == (RunKind.FULL, RunStatus.DONE, 100)
    assert run.result["as_of"] == NOW.isoformat()
    assert "attribution" in out.getvalue()
    assert "3 deals" not in out.getvalue()  # the dataset has one deal
    assert "1 deals" in out.getvalue()


def recorded_progress(**kwargs) -> list[tuple[int, str]]:
    """(percent, phase) of every progress report of a full run (``recompute_all`` kwargs)."""
    seen = []
    original = runner.run_progress

    def record(run, *, phase, percent):
        seen.append((percent, phase))
        original(run, phase=phase, percent=percent)

    run = Job.objects.create(kind=RunKind.FULL)
    with mock.patch.object(runner, "run_progress", record):
        execute_run(run.pk, lambda r: recompute_all(run=r, now=NOW, **kwargs))
    return seen


@pytest.mark.django_db
def test_progress_moves_forward_through_named_phases(dataset):
    seen = recorded_progress()
    percents = [p for p, _ in seen]
    assert percents == sorted(percents)
    assert len(set(percents)) == len(percents) >= 6
    assert any("attributing" in phase for _, phase in seen)


@pytest.mark.django_db
def test_progress_spreads_the_batches_of_slots_over_the_bar(dataset):
    """A run computes its slots in batches: the bar names each part of the total and moves
    through the slots' share (2-85 %) part by part, not slot by slot."""
    with override_settings(ABM_ENGINE_ACCOUNTS_PER_BATCH=1):
        seen = recorded_progress(slots=3)
    parts = [(p, phase) for p, phase in seen if phase.startswith("part ")]
    totals = {phase.split(":")[0].split(" of ")[1] for _, phase in parts}
    assert len(totals) == 1
    batches = int(totals.pop())
    assert batches >= 2
    assert {phase.split(":")[0] for _, phase in parts} == {
        f"part {n} of {batches}" for n in range(1, batches + 1)
    }
    # The last part's write: 2 + 83 x (batches - 1 + 0.75) / batches.
    assert max(p for p, _ in parts) == 2 + int(83 * (batches - 0.25) / batches)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="binary COPY is PostgreSQL's")
@pytest.mark.django_db
def test_binary_copy_stores_every_type_exactly(dataset):
    deal, account = dataset["deal"], dataset["deal_account"]
    playbook_id = dataset["step"].stage.playbook_id
    amounts = [0, 0.0001, 1234.5678, 999999999999.9999, 10000, 0.5]
    frame = pd.DataFrame(
        {
            "model": ["linear", "first_touch", "markov", "w_shaped", "shapley", "u_shaped"],
            "kind": ["pipeline", "revenue"] * 3,
            "opportunity_id": deal.pk,
            "account_id": account.pk,
            "converted_at": pd.Timestamp("2026-06-30 12:34:56.789012", tz="UTC"),
            "channel": ["email", "web_personalisation", "phone", "", "event", "display"],
            "playbook_id": [playbook_id, None, playbook_id, None, None, playbook_id],
            "weight": [0.0, 1.0, 0.125, 1 / 3, 0.5, 0.999999],
            "credit": amounts,
            "touches": [0, 1, 2, 3, 2**31 - 1, 7],
        }
    )
    AttributionCredit.objects.all().delete()
    writing.insert_rows(AttributionCredit, frame)

    # Rows go in grouped by their binary layout, not in frame order: compare by model.
    stored = {
        row[0]: row[1:]
        for row in AttributionCredit.objects.values_list(
            "model", "channel", "playbook_id", "weight", "credit", "touches", "converted_at"
        )
    }
    at = dt.datetime(2026, 6, 30, 12, 34, 56, 789012, tzinfo=dt.UTC)
    assert stored == {
        "linear": ("email", playbook_id, 0.0, Decimal("0"), 0, at),
        "first_touch": ("web_personalisation", None, 1.0, Decimal("0.0001"), 1, at),
        "markov": ("phone", playbook_id, 0.125, Decimal("1234.5678"), 2, at),
        "w_shaped": ("", None, 1 / 3, Decimal("999999999999.9999"), 3, at),
        "shapley": ("event", None, 0.5, Decimal("10000"), 2**31 - 1, at),
        "u_shaped": ("display", playbook_id, 0.999999, Decimal("0.5"), 7, at),
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="binary COPY is PostgreSQL's")
@pytest.mark.django_db
def test_binary_copy_stores_json_dates_nulls_and_unicode(dataset, alice):
    MetricRollup.objects.all().delete()
    frame = pd.DataFrame(
        {
            "metric": ["holdout", "spend"],
            "period": [None, dt.date(2026, 2, 1)],
            "model": ["", ""],
            "kind": ["", ""],
            "channel": ["", "événement ✓"],
            "playbook_id": pd.array([None, dataset["step"].stage.playbook_id], dtype="Int64"),
            "tier": pd.array([0, None], dtype="Int64"),
            "owner_id": pd.array([alice.pk, None], dtype="Int64"),
            "segment": ["target", ""],
            "value": [-1.5, 1e12],
            "count": [3.0, 0.0],
            "data": [{"p": None, "ok": True, "name": "Zürich", "n": [1, 2.5]}, {}],
        }
    )
    writing.insert_rows(MetricRollup, frame)
    first = MetricRollup.objects.get(metric="holdout")
    second = MetricRollup.objects.get(metric="spend")
    assert (first.period, first.tier, first.owner_id, first.value) == (None, 0, alice.pk, -1.5)
    assert first.data == {"p": None, "ok": True, "name": "Zürich", "n": [1, 2.5]}
    assert (second.period, second.channel, second.tier, second.data) == (
        dt.date(2026, 2, 1),
        "événement ✓",
        None,
        {},
    )


def credit_snapshot() -> list[tuple]:
    return sorted(
        AttributionCredit.objects.values_list(
            "model",
            "kind",
            "opportunity",
            "account",
            "converted_at",
            "channel",
            "playbook",
            "weight",
            "credit",
            "touches",
        ),
        key=repr,
    )


@pytest.fixture
def deals(db):
    """Six deals on six accounts, with touches before each."""
    accounts = AccountFactory.create_batch(6, tier=2)
    for n, account in enumerate(accounts):
        for channel, kind, days in (("email", "email_click", 40), ("event", "event_attended", 20)):
            ActivityFactory(account=account, channel=channel, kind=kind, occurred_at=days_ago(days))
        OpportunityFactory(account=account, amount=Decimal(1000 * (n + 1)), created_at=days_ago(5))
    return accounts


def test_a_change_recomputes_only_its_accounts_slot_and_ends_as_a_full_run_would(deals):
    recompute_all(now=NOW, slots=3)
    ActivityFactory(
        account=deals[0], channel="webinar", kind="webinar_attended", occurred_at=days_ago(10)
    )

    result = recompute_changed([deals[0].pk], now=NOW)
    incremental = (credit_snapshot(), rollup_snapshot())
    recompute_all(now=NOW, slots=3)

    assert (result["slots"], result["slots_computed"]) == (3, 1)
    assert result["accounts"] == sum(1 for a in deals if a.pk % 3 == deals[0].pk % 3)
    assert incremental == (credit_snapshot(), rollup_snapshot())


def test_deleting_a_deal_deletes_its_credits(deals):
    recompute_all(now=NOW)
    deal = deals[0].opportunities.get()
    deal.delete()
    assert not AttributionCredit.objects.filter(opportunity_id=deal.pk).exists()
    result = recompute_all(now=NOW)
    assert AttributionCredit.objects.count() == result["credit_rows"]


def rollup_snapshot() -> list:
    key = ("metric", "period", "model", "kind", "channel", "playbook", "tier", "owner", "segment")
    rows = MetricRollup.objects.values_list(*key, "value", "count", "data")
    return sorted(
        ((*r[:-3], round(r[-3], 9), round(r[-2], 9), repr(r[-1])) for r in rows), key=repr
    )


def test_a_rerun_as_of_the_same_instant_replaces_its_own_stage_changes(dataset):
    recompute_all(now=NOW)
    dataset["deal"].delete()  # the account falls back from opportunity to aware (score 8.2)
    recompute_all(now=NOW)
    change = JourneyStageChange.objects.get(account=dataset["deal_account"])
    assert (change.from_stage, change.to_stage) == ("", "aware")
    assert Account.objects.get(pk=dataset["deal_account"].pk).stage == "aware"


def naive_journeys(touches, conversions, now, window):
    """The journeys by a plain merge, filter and sort: what the fast builder must equal."""
    joined = touches.merge(
        conversions[["opportunity_id", "account_id", "ts", "start"]], on="account_id"
    )
    converting = joined.loc[
        (joined["occurred_at"] >= joined["start"]) & (joined["occurred_at"] <= joined["ts"])
    ].rename(columns={"opportunity_id": "journey_id"})
    recent = conversions.loc[conversions["ts"] > now - window, "account_id"]
    idle = touches.loc[
        ~touches["account_id"].isin(recent) & (touches["occurred_at"] > now - window)
    ].assign(journey_id=lambda f: -f["account_id"])
    columns = ["journey_id", "activity_id", "occurred_at", "channel", "is_mqa", "playbook_id"]
    both = pd.concat([converting[columns], idle[columns]], ignore_index=True)
    both = both.rename(columns={"activity_id": "touch_id", "occurred_at": "ts"})
    return both.sort_values(["journey_id", "ts", "touch_id"], ignore_index=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_journeys_are_the_touches_inside_each_window_in_order(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    now = pd.Timestamp("2026-06-30 12:00", tz="UTC")
    # Whole hours, so that many touches of an account share an instant (ties by id).
    hours = rng.integers(0, 24 * 400, n)
    touches = pd.DataFrame(
        {
            "activity_id": rng.permutation(n) + 1,
            "account_id": rng.integers(1, 60, n),
            "occurred_at": now - pd.to_timedelta(hours, unit="h"),
            "channel": pd.Categorical(rng.choice(["email", "event", "web"], n)),
            "is_mqa": rng.random(n) < 0.05,
            "playbook_id": np.where(rng.random(n) < 0.5, np.nan, rng.integers(1, 4, n)),
        }
    )
    window = pd.Timedelta(days=180)
    created = now - pd.to_timedelta(rng.integers(0, 24 * 300, 80), unit="h")
    conversions = pd.DataFrame(
        {
            "opportunity_id": rng.permutation(80) + 1000,
            # Some accounts have no touches at all (60..69).
            "account_id": rng.integers(1, 70, 80),
            "ts": created,
            "start": created - window,
        }
    )
    fast = credits.journey_touches(touches, conversions, now, window)
    naive = naive_journeys(touches, conversions, now, window)
    pd.testing.assert_frame_equal(
        fast.astype({"channel": object}), naive.astype({"channel": object}), check_dtype=False
    )
