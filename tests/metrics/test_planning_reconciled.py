"""The planner's measured rates and pool on the seeded demo, against SQL written from DOMAIN.md.

The SQL below is independent of the planner's loader: one row per event that shows an account
reached a journey stage (a stage change, an opportunity created, a deal won), ranked on the plan's
funnel (targeted and aware 0, engaged 1, mqa 2, opportunity 3, customer 4). An account reached
stage k when it has an event of rank >= k ("an account that skipped a stage counts as having
passed it"), on the earliest such event's date; a target without any event was targeted when it
was created.
"""

from datetime import date
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection

from abm.models import User
from demo.seeding import flush_domain_data
from metrics.planning import preview_plan
from metrics.planning_inputs import cost_window_start
from tests.metrics.reconciliation import sql

TODAY = "2025-06-01"
AS_OF = pd.Timestamp(TODAY, tz="UTC") + pd.Timedelta(days=1)  # the end of today
STAGES = ("targeted", "engaged", "mqa", "opportunity", "won")

EVENTS = """
    SELECT c.account_id, c.changed_at AS at,
           CASE c.to_stage WHEN 'engaged' THEN 1 WHEN 'mqa' THEN 2 WHEN 'opportunity' THEN 3
                           WHEN 'customer' THEN 4 ELSE 0 END AS rank
      FROM metrics_journeystagechange c
    UNION ALL
    SELECT o.account_id, o.created_at, 3 FROM accounts_opportunity o
    UNION ALL
    SELECT o.account_id, o.closed_at, 4 FROM accounts_opportunity o WHERE o.stage = 'closed_won'
"""
REACHED = f"""
    SELECT a.id, a.tier, a.stage,
           COALESCE(MIN(e.at), a.created_at) AS targeted,
           MIN(CASE WHEN e.rank >= 1 THEN e.at END) AS engaged,
           MIN(CASE WHEN e.rank >= 2 THEN e.at END) AS mqa,
           MIN(CASE WHEN e.rank >= 3 THEN e.at END) AS opportunity,
           MIN(CASE WHEN e.rank >= 4 THEN e.at END) AS won,
           (SELECT SUM(o.amount) FROM accounts_opportunity o
             WHERE o.account_id = a.id AND o.stage = 'closed_won') AS won_amount
      FROM accounts_account a LEFT JOIN ({EVENTS}) e ON e.account_id = a.id
     WHERE a.tier IN (%s, %s, %s)
     GROUP BY a.id, a.tier, a.stage, a.created_at
"""


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", "--accounts=300", f"--today={TODAY}", stdout=StringIO())
        yield User.objects.get(username="director")
        flush_domain_data()
        User.objects.all().delete()


def reached(tiers: tuple[int, ...]) -> pd.DataFrame:
    padded = (list(tiers) * 3)[:3]
    with connection.cursor() as cursor:
        cursor.execute(REACHED, padded)
        names = [column[0] for column in cursor.description]
        frame = pd.DataFrame(cursor.fetchall(), columns=names)
    for stage in STAGES:
        frame[stage] = pd.to_datetime(frame[stage], utc=True, format="mixed")
    frame["won_amount"] = frame["won_amount"].astype(float)
    return frame


def preview(user, tiers):
    return preview_plan(
        user=user,
        target=2_000_000,
        kind="revenue",
        start=date(2025, 7, 1),
        end=date(2025, 12, 31),
        tiers=tiers,
        model="w_shaped",
        today=date.fromisoformat(TODAY),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("tiers", [(1, 2, 3), (1, 2)])
def test_conversion_lags_and_deal_size_match_the_sql(demo, tiers, settings):
    own, everyone = reached(tiers), reached((1, 2, 3))
    rates = preview(demo, tiers).rates

    def figures(frame, a, b):
        passed_a = frame[a].notna()
        passed_both = passed_a & frame[b].notna()
        days = (frame.loc[passed_both, b] - frame.loc[passed_both, a]).dt.total_seconds() / 86400
        # An account counts once it has had the step's 90th-percentile lag to convert.
        had_time = passed_a & (frame[a] <= AS_OF - pd.Timedelta(days=np.percentile(days, 90)))
        converted = had_time & frame[b].notna()
        return had_time.sum(), converted.sum() / had_time.sum(), float(np.median(days))

    fell_back = 0
    for a, b in zip(STAGES, STAGES[1:], strict=False):
        step = f"{a}->{b}"
        base, conversion, lag = figures(own, a, b)
        # Thin data: the all-tier figure stands in, and says so.
        thin = base < settings.ABM_PLAN_MIN_ACCOUNTS
        if thin:
            base, conversion, _ = figures(everyone, a, b)
            fell_back += 1
        measured = rates.conversion[step]
        assert measured.fallback == thin
        assert measured.accounts == base
        assert measured.value == pytest.approx(conversion, abs=1e-12)
        assert measured.low <= measured.value <= measured.high
        if not rates.lag_days[step].fallback:
            assert rates.lag_days[step].value == pytest.approx(lag, abs=1e-9)
    assert fell_back < len(STAGES) - 1  # the scope's own figures, mostly
    won = own["won"].notna()
    if won.sum() < settings.ABM_PLAN_MIN_ACCOUNTS:
        won, own = everyone["won"].notna(), everyone
    assert rates.deal_size.accounts == won.sum() > 0
    assert rates.deal_size.value == pytest.approx(own.loc[won, "won_amount"].mean(), rel=1e-9)


@pytest.mark.django_db
def test_the_pool_and_the_waterfall_follow_from_the_sql(demo):
    tiers = (1, 2)
    result = preview(demo, tiers)
    plan, frame = result.plan, reached(tiers)

    # Targets that could still reach the stage after each one, by their current journey stage:
    # not yet engaged (aware is short of it), not yet mqa, not yet an opportunity, not yet won;
    # for won, not yet customers.
    depth = frame["stage"].map(
        {"": 0, "targeted": 0, "aware": 0, "engaged": 1, "mqa": 2, "opportunity": 3, "customer": 4}
    )
    expected_pool = {stage: int((depth <= min(k, 3)).sum()) for k, stage in enumerate(STAGES)}
    assert result.pool == expected_pool

    # Backwards from $2M won: deals = target / deal size, each stage above = the one below / its
    # conversion (no overrides: the measured figures).
    needed = 2_000_000 / result.rates.deal_size.value
    expected = {"won": needed}
    for a, b in reversed(list(zip(STAGES, STAGES[1:], strict=False))):
        needed /= result.rates.conversion[f"{a}->{b}"].value
        expected[a] = needed
    for stage in STAGES:
        assert plan.needed[stage].value == pytest.approx(expected[stage], rel=1e-9)


# DOMAIN "Money", cost per mqa, applied to the plan's engaged stage: each account that first
# reached the stage (engaged: a change to engaged or any later journey stage) is shared 1/n over
# its n touches in the attribution window before, in the month it reached it. Touches by DOMAIN's
# default rule: a response (>= 1 point), or a direct mail, 1:1 email or message a playbook step
# sent with a cost; never an ad impression, whatever it cost (the reconciliation suite's rule).
CREDITED = f"""
    WITH reached AS (
        SELECT c.account_id, MIN(c.changed_at) AS at
          FROM metrics_journeystagechange c JOIN accounts_account a ON a.id = c.account_id
         WHERE c.to_stage = ANY(%(stages)s) AND a.tier = ANY(%(tiers)s)
         GROUP BY c.account_id
    ), touch AS ({sql.TOUCHES}), shared AS (
        SELECT r.at, t.channel, COUNT(*) OVER (PARTITION BY r.account_id) AS n
          FROM reached r JOIN touch t ON t.account_id = r.account_id
           AND t.occurred_at <= r.at
           AND t.occurred_at >= r.at - interval '{sql.WINDOW_DAYS} days'
    )
    SELECT channel, SUM(1.0 / n)::float8 FROM shared WHERE at >= %(since)s GROUP BY channel
"""


@pytest.mark.django_db
def test_cost_per_engaged_and_per_mqa_by_channel_count_what_the_sql_counts(demo):
    if connection.vendor != "postgresql":
        pytest.skip("the SQL is PostgreSQL's")
    tiers = (1, 2)
    costs = {c.channel: c for c in preview(demo, tiers).costs}
    since = cost_window_start(date.fromisoformat(TODAY))
    expected = {}
    with connection.cursor() as cursor:
        for name, stages in (
            ("engaged", ["engaged", "mqa", "opportunity", "customer"]),
            ("mqa", ["mqa"]),
        ):
            cursor.execute(CREDITED, {"stages": stages, "tiers": list(tiers), "since": since})
            expected[name] = dict(cursor.fetchall())
    assert sum(expected["engaged"].values()) > 5  # the demo's story has engaged accounts
    for name in ("engaged", "mqa"):
        measured = {c: getattr(cost, name) for c, cost in costs.items() if getattr(cost, name)}
        assert measured.keys() == expected[name].keys(), name
        for channel, value in expected[name].items():
            assert measured[channel] == pytest.approx(value, rel=1e-9), (name, channel)
    # Each channel's cost per engaged account is its spend over those accounts.
    for cost in costs.values():
        if cost.engaged:
            assert cost.cost_per_engaged == pytest.approx(cost.spend / cost.engaged)
