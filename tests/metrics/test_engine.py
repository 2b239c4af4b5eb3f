"""The engine's seams: its pure compute runs without Django, its params come from settings once,
and each run announces itself (``metrics_recomputed``) inside its write transaction."""

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from abm.models import Job, RunKind
from metrics.engine.params import EngineParams
from metrics.engine.runner import recompute_all
from metrics.models import AttributionCredit, EngagementScore, MetricRollup, RemovalEffect
from metrics.signals import metrics_recomputed
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, OpportunityFactory

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[2]

PURE_MODULES = [
    "metrics.engine.params",
    "metrics.engine.compute",
    "metrics.engine.compute.inputs",
    "metrics.engine.compute.accounts",
    "metrics.engine.compute.credits",
    "metrics.engine.compute.rollup_rows",
    "metrics.engagement",
    "metrics.attribution",
    "metrics.stages",
    "metrics.rollups",
    "metrics.roi",
    "metrics.touch_rules",
    "metrics.leads",
    "metrics.lift",
]

# Imports every pure module, then computes a journey's stage and credits with them alone.
PURE_RUN = f"""
import importlib, json, sys
for name in {PURE_MODULES!r}:
    importlib.import_module(name)
import pandas as pd
from metrics.engine.compute.accounts import journey_stages_now
from metrics.engine.compute.credits import attribution_credits
from metrics.engine.params import EngineParams
from metrics.touch_rules import TouchRules, attribution_touches

params = EngineParams(engagement_points={{"meeting": 20.0}}, seniority_multipliers={{}})
now = pd.Timestamp("2026-06-30 12:00", tz="UTC")
activities = pd.DataFrame({{
    "activity_id": [1, 2], "account_id": [7, 7], "contact_id": [None, None],
    "seniority": [None, None], "channel": ["event", "email"], "kind": ["meeting", "meeting"],
    "direction": ["inbound", "inbound"], "cost": [0.0, 0.0], "playbook_id": [float("nan")] * 2,
    "occurred_at": [now - pd.Timedelta(days=20), now - pd.Timedelta(days=5)],
}})
deals = pd.DataFrame({{
    "opportunity_id": [70], "account_id": [7], "amount": [1000.0], "stage": ["proposal"],
    "source": ["marketing"], "created_at": [now - pd.Timedelta(days=1)],
    "closed_at": pd.Series([pd.NaT], dtype="datetime64[ns, UTC]"),
}})
accounts = pd.DataFrame({{"account_id": [7], "tier": [1.0]}})
scores = pd.DataFrame({{"account_id": [7], "score": [30.0], "engaged_contacts": [0]}})
stage = journey_stages_now(accounts, scores, deals, activities, now, params)
first_mqa = pd.DataFrame({{"account_id": pd.Series(dtype="int64"),
                           "mqa_at": pd.Series(dtype="datetime64[ns, UTC]")}})
touches = attribution_touches(activities, first_mqa, TouchRules.of(["meeting"]))
credits = attribution_credits(touches, deals, now, params)
linear = credits.loc[(credits["model"] == "linear") & (credits["kind"] == "pipeline")]
print(json.dumps({{
    "django": sorted(m for m in sys.modules if m == "django" or m.startswith("django.")),
    "orm": sorted(m for m in sys.modules if m.startswith(("django.db", "django.apps"))),
    "stage": stage.loc[7],
    "linear": dict(zip(linear["channel"], linear["credit"].round(2))),
}}))
"""


def pure_run() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    done = subprocess.run(
        [sys.executable, "-c", PURE_RUN], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_pure_compute_imports_and_runs_without_django():
    result = pure_run()
    assert (result["django"], result["orm"]) == ([], [])
    assert result["stage"] == "opportunity"
    assert result["linear"] == {"email": 500.0, "event": 500.0}


def test_params_are_read_from_the_settings(settings):
    settings.ABM_ENGAGED_SCORE = 12.5
    settings.ABM_ATTRIBUTION_WINDOW_DAYS = 90
    params = EngineParams.from_settings(settings)
    assert (params.engaged_score, params.attribution_window_days) == (12.5, 90)
    assert params.engagement_points["meeting"] == settings.ABM_ENGAGEMENT_POINTS["meeting"]
    with pytest.raises(TypeError):
        params.engagement_points["meeting"] = 0  # frozen: a run's rules cannot drift


def test_a_changed_setting_changes_the_run(db, settings):
    account = AccountFactory(tier=1)
    contact = ContactFactory(account=account, seniority="manager")
    ActivityFactory(account=account, contact=contact, kind="meeting", occurred_at=NOW)
    recompute_all(now=NOW)
    assert EngagementScore.objects.get(account=account).score == pytest.approx(20)
    settings.ABM_ENGAGEMENT_POINTS = {**settings.ABM_ENGAGEMENT_POINTS, "meeting": 4.0}
    recompute_all(now=NOW)
    assert EngagementScore.objects.get(account=account).score == pytest.approx(4)


@pytest.fixture
def received():
    calls = []

    def receiver(sender, **kwargs):
        calls.append(
            {
                **kwargs,
                "in_transaction": connection.in_atomic_block,
                "rollups": MetricRollup.objects.count(),
            }
        )

    metrics_recomputed.connect(receiver)
    yield calls
    metrics_recomputed.disconnect(receiver)


def test_each_run_signals_after_its_writes_inside_its_transaction(db, received):
    account = AccountFactory(tier=1)
    OpportunityFactory(account=account, amount=Decimal(1000), created_at=NOW)
    run = Job.objects.create(kind=RunKind.FULL)

    recompute_all(run=run, now=NOW)

    (call,) = received
    assert (call["now"], call["run"]) == (NOW, run)
    assert call["rollups"] > 0  # this run's rollups are written when it is sent
    assert call["in_transaction"]


def test_a_failing_receiver_rolls_the_finish_back(db):
    """Slots are stored as they end (each whole); the finish, which writes the rollups the
    dashboards read and Markov's removal effects, is rolled back with its receivers."""
    account = AccountFactory(tier=1)
    ActivityFactory(account=account, kind="meeting", occurred_at=NOW)
    OpportunityFactory(account=account, amount=Decimal(1000), created_at=NOW)

    def broken(sender, **kwargs):
        raise RuntimeError("receiver failed")

    metrics_recomputed.connect(broken)
    try:
        with pytest.raises(RuntimeError, match="receiver failed"):
            recompute_all(now=NOW)
    finally:
        metrics_recomputed.disconnect(broken)
    assert EngagementScore.objects.filter(account=account).exists()
    assert AttributionCredit.objects.filter(model="linear").exists()
    assert not RemovalEffect.objects.exists()
    assert not MetricRollup.objects.exists()
