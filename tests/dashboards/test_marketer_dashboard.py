"""The marketer's playbook dashboard: its figures equal totals computed straight from the rows,
every table exports, bad filters never break it and its queries do not grow with the data."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pandas as pd
import pytest
from django.db import connection
from django.db.models import Sum
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from abm.models import Role, User
from accounts.list_filters import day_range_q
from dashboards.filters import parse_filters
from dashboards.marketer import completion_rate, marketer_context
from demo.seeding import seed_demo
from metrics.engine.runner import recompute_all
from metrics.models import AttributionCredit, BudgetLine, EngagementHistory
from metrics.rollups import engagement_days
from playbooks.enrolment import enrol_accounts
from playbooks.models import Activity, Enrolment, Task
from playbooks.task_completion import task_complete, task_skip
from tests.conftest import make_user
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    OpportunityFactory,
    PlaybookFactory,
    StageFactory,
    StepFactory,
    TaskFactory,
)

URL = "/metrics/marketer/"
# Session, user, filter choices, runs, the touch rules (no run here recorded them), then one
# grouped read per panel.
QUERIES = 17
TABLES = (
    "enrolments_by_stage",
    "engagement_trend",
    "task_completion",
    "by_playbook",
    "holdout_lift",
)


def ago(now, days: float) -> dt.datetime:
    return now - dt.timedelta(days=days)


def build_playbook_world(*, accounts: int, owners, marketer, now) -> dict:
    """Two playbooks with stages, enrolments and a holdout, tasks in every state, costed and
    inbound touches, deals after them and a budget line; then a metrics run."""
    abm = PlaybookFactory(name="Tier 1 ABM", status="active", owner=marketer, holdout_share=0.25)
    find = StageFactory(playbook=abm, name="Find", order=0)
    nurture = StageFactory(playbook=abm, name="Nurture", order=1)
    email = StepFactory(stage=find, channel="email", owner_role="marketing", unit_cost=40)
    call = StepFactory(stage=nurture, channel="phone", owner_role="sales", day_offset=2)
    webinar_pb = PlaybookFactory(name="Webinar push", status="paused", owner=marketer)
    invite = StepFactory(
        stage__playbook=webinar_pb, stage__name="Invite", channel="webinar", unit_cost=150
    )
    rows = [
        AccountFactory(
            name=f"Acme {i:03}",
            owner=owners[i % len(owners)],
            tier=1 + i % 3,
            fit_score=30 + (i * 7) % 70,
        )
        for i in range(accounts)
    ]
    ids = [a.pk for a in rows]
    enrol_accounts(playbook=abm, account_ids=ids, seed=11)
    enrol_accounts(playbook=webinar_pb, account_ids=ids[::2], seed=5)
    active = list(Enrolment.objects.filter(playbook=abm, status="active").order_by("pk"))
    Enrolment.objects.filter(pk__in=[e.pk for e in active[::3]]).update(current_stage=nurture)
    Enrolment.objects.filter(pk=active[-1].pk).update(status="completed", current_stage=None)
    for index, account in enumerate(rows):
        contact = ContactFactory(account=account, seniority=("vp", "manager")[index % 2])
        ActivityFactory(
            account=account,
            contact=contact,
            channel="webinar",
            kind="webinar_attended",
            occurred_at=ago(now, 20 + index % 30),
        )
        ActivityFactory(
            account=account,
            contact=contact,
            channel="email",
            kind="email_click",
            step=email,
            cost=Decimal("40"),
            occurred_at=ago(now, 40 + index % 20),
        )
        if index % 3 == 0:
            ActivityFactory(
                account=account,
                channel="webinar",
                kind="event_attended",
                step=invite,
                cost=Decimal("150"),
                occurred_at=ago(now, 10),
            )
            OpportunityFactory(
                account=account, amount=Decimal(10000 + 1000 * index), created_at=ago(now, 5)
            )
        if index % 4 == 1:
            OpportunityFactory(
                account=account,
                amount=Decimal("25000"),
                stage="closed_won",
                created_at=ago(now, 30),
                closed_at=ago(now, 3),
            )
    tasks = []
    for index, enrolment in enumerate(active[:-1]):
        step = email if index % 2 else call
        due = ago(now, 3) if index % 4 else now
        tasks.append(
            TaskFactory(
                enrolment=enrolment,
                step=step,
                channel=step.channel,
                owner_role=step.owner_role,
                assignee=enrolment.account.owner,
                due_at=due,
            )
        )
    for task in tasks[1::3]:
        task_complete(task=task, by=task.assignee)
    for task in tasks[2::3]:
        task_skip(task=task, by=task.assignee)
    BudgetLine.objects.create(playbook=abm, date=now.date().replace(day=1), amount=Decimal("500"))
    recompute_all(now=timezone.now())  # after the tasks completed above
    return {"abm": abm, "webinar": webinar_pb, "find": find, "nurture": nurture, "accounts": rows}


@pytest.fixture
def world(alice, bob, maria):
    return build_playbook_world(
        accounts=12, owners=[alice, bob], marketer=maria, now=timezone.now()
    )


def context_for(user, query: str = "") -> dict:
    filters = parse_filters(QueryDict(query), user=user)
    return marketer_context(user, filters), filters


def table(context, name):
    return next(t for t in context["tables"] if t.name == name)


def tile(context, key):
    return next(t for t in context["tiles"] if t["key"] == key)


def test_enrolments_by_stage_match_the_enrolment_rows(world, maria):
    context, _ = context_for(maria)
    rows = table(context, "enrolments_by_stage").rows
    got = {(r["playbook"], r["stage"]): r["accounts"] for r in rows}
    abm = world["abm"]
    expected = {
        ("Tier 1 ABM", "Find"): Enrolment.objects.filter(
            playbook=abm, status="active", current_stage=world["find"]
        ).count(),
        ("Tier 1 ABM", "Nurture"): Enrolment.objects.filter(
            playbook=abm, status="active", current_stage=world["nurture"]
        ).count(),
        ("Tier 1 ABM", "Completed"): 1,
        ("Tier 1 ABM", "Holdout"): Enrolment.objects.filter(playbook=abm, status="holdout").count(),
    }
    for key, count in expected.items():
        assert got[key] == count
    assert sum(v for (name, _), v in got.items() if name == "Tier 1 ABM") == 12
    assert sum(v for (name, _), v in got.items() if name == "Webinar push") == 6
    # A stage bar opens the playbook's enrolment list.
    assert rows[0]["url"].startswith(reverse("playbooks:enrolments", args=[abm.pk]))


def test_the_engagement_trend_averages_the_history_of_enrolled_and_holdout_accounts(world, maria):
    context, _ = context_for(maria, f"playbook={world['abm'].pk}")
    rows = table(context, "engagement_trend").rows
    history = pd.DataFrame.from_records(
        list(EngagementHistory.objects.values("account_id", "date", "score"))
    )
    latest = history["date"].max()
    days = engagement_days(latest)
    assert len(rows) == 12
    assert rows[-1]["date"] == latest.isoformat()
    enrolments = pd.DataFrame.from_records(
        list(Enrolment.objects.filter(playbook=world["abm"]).values("account_id", "status"))
    )
    for group, statuses in (
        ("enrolled", ["active", "completed", "exited"]),
        ("holdout", ["holdout"]),
    ):
        members = set(enrolments.loc[enrolments["status"].isin(statuses), "account_id"])
        for row, day in zip(rows, days, strict=True):
            on_day = history.loc[(history["date"] == day) & history["account_id"].isin(members)]
            assert row[group] == pytest.approx(on_day["score"].sum() / len(members))
    assert any(row["enrolled"] for row in rows)


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)  # SQLite: text


def _trend_by_sql(*, playbook=None, tier=None, owner=None) -> dict:
    """The trend straight from the stored daily history, in SQL: per group (distinct accounts
    enrolled, or in the holdout, under the filters) the summed score on each sampled day."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(date) FROM metrics_engagementhistory")
        days = engagement_days(_day(cursor.fetchone()[0]))
        out = {}
        for group, statuses in (
            ("enrolled", ("active", "completed", "exited")),
            ("holdout", ("holdout",)),
        ):
            members = (
                "SELECT DISTINCT e.account_id FROM playbooks_enrolment e"
                " JOIN accounts_account a ON a.id = e.account_id"
                f" WHERE e.status IN ({', '.join(['%s'] * len(statuses))})"
            )
            params = list(statuses)
            for column, value in (("e.playbook_id", playbook), ("a.tier", tier)):
                if value is not None:
                    members += f" AND {column} = %s"
                    params.append(value)
            if owner is not None:
                members += " AND a.owner_id = %s"
                params.append(owner)
            cursor.execute(f"SELECT COUNT(*) FROM ({members}) m", params)
            size = cursor.fetchone()[0]
            cursor.execute(
                "SELECT date, SUM(score) FROM metrics_engagementhistory"
                f" WHERE account_id IN ({members})"
                f" AND date IN ({', '.join(['%s'] * len(days))}) GROUP BY date",
                [*params, *days],
            )
            sums = {_day(day): score for day, score in cursor.fetchall()}
            out[group] = (size, [sums.get(day, 0.0) / size if size else None for day in days])
        return {"days": [day.isoformat() for day in days], **out}


def test_the_trend_on_seeded_data_equals_sql_over_the_stored_history(client, db):
    seed_demo(accounts=60, seed=5, today=timezone.now().date())
    recompute_all(now=timezone.now())  # a run that rewrites only the last days of the history
    marketer, rep = User.objects.get(username="marketer"), User.objects.get(username="rep1")
    playbook = Enrolment.objects.values_list("playbook_id", flat=True).first()
    cases = [
        (marketer, {}, {}),
        (marketer, {"playbook": playbook}, {"playbook": playbook}),
        (marketer, {"tier": "1"}, {"tier": 1}),
        (marketer, {"owner": rep.pk}, {"owner": rep.pk}),
        (rep, {}, {"owner": rep.pk}),  # the context a rep would get: their accounts only
    ]
    for user, query, sql in cases:
        if user == marketer:
            client.force_login(user)
            context = client.get(URL, query).context
        else:
            context, _ = context_for(user)
        expected = _trend_by_sql(**sql)
        rows = context["t"]["engagement_trend"].rows
        assert [row["date"] for row in rows] == expected["days"], query
        tiles = {tile["key"]: tile for tile in context["tiles"]}
        assert tiles["enrolled"]["value"] == expected["enrolled"][0]
        for group in ("enrolled", "holdout"):
            assert [row[group] for row in rows] == pytest.approx(expected[group][1], abs=1e-9)
    assert expected["enrolled"][0]
    assert any(expected["enrolled"][1])


def test_task_completion_matches_the_task_rows(world, maria):
    context, filters = context_for(maria)
    rows = {r["playbook"]: r for r in table(context, "task_completion").rows}
    abm = rows["Tier 1 ABM"]
    tasks = Task.objects.filter(enrolment__playbook=world["abm"])
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    done = tasks.filter(status="done").count()
    skipped = tasks.filter(status="skipped").count()
    overdue = tasks.filter(status="open", due_at__lt=today).count()
    upcoming = tasks.filter(status="open", due_at__gte=today).count()
    assert (abm["done"], abm["skipped"], abm["overdue"], abm["upcoming"]) == (
        done,
        skipped,
        overdue,
        upcoming,
    )
    assert min(done, skipped, overdue, upcoming) > 0
    assert abm["rate"] == pytest.approx(done / (done + skipped + overdue))
    assert tile(context, "completion")["value"] == pytest.approx(abm["rate"])


@pytest.mark.parametrize(
    ("done", "skipped", "overdue", "rate"), [(3, 1, 0, 0.75), (0, 0, 0, None), (1, 0, 1, 0.5)]
)
def test_completion_rate_leaves_tasks_not_due_out(done, skipped, overdue, rate):
    assert completion_rate(done, skipped, overdue) == rate


def test_spend_pipeline_and_roi_match_the_stored_costs_and_credits(world, maria):
    context, filters = context_for(maria)
    rows = {r["playbook"]: r for r in table(context, "by_playbook").rows}
    in_period = day_range_q("occurred_at", filters.first_day, filters.last_day)
    totals = {"pipeline": 0.0, "revenue": 0.0, "spend": 0.0}
    for playbook in (world["abm"], world["webinar"]):
        costs = Activity.objects.filter(in_period, step__stage__playbook=playbook).aggregate(
            s=Sum("cost")
        )["s"] or Decimal(0)
        budget = BudgetLine.objects.filter(
            playbook=playbook, date__gte=filters.first_day, date__lte=filters.last_day
        ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        credits = AttributionCredit.objects.filter(
            day_range_q("converted_at", filters.first_day, filters.last_day),
            model=filters.model,
            playbook=playbook,
        )
        pipeline = float(credits.filter(kind="pipeline").aggregate(s=Sum("credit"))["s"] or 0)
        revenue = float(credits.filter(kind="revenue").aggregate(s=Sum("credit"))["s"] or 0)
        row = rows[playbook.name]
        assert row["spend"] == pytest.approx(float(costs + budget))
        assert row["pipeline"] == pytest.approx(pipeline)
        assert row["revenue"] == pytest.approx(revenue)
        assert row["roi"] == pytest.approx(
            (revenue - float(costs + budget)) / float(costs + budget)
        )
        totals["pipeline"] += pipeline
        totals["revenue"] += revenue
        totals["spend"] += float(costs + budget)
    assert min(totals["pipeline"], totals["spend"]) > 0
    assert tile(context, "pipeline")["value"] == pytest.approx(totals["pipeline"])
    assert tile(context, "spend")["value"] == pytest.approx(totals["spend"])
    assert tile(context, "roi")["value"] == pytest.approx(
        (totals["revenue"] - totals["spend"]) / totals["spend"]
    )
    # Pipeline drills down to its credited deals, spend to its costs and budget-line shares
    # (tests/metrics/test_drilldowns.py, tests/metrics/test_spend_list.py).
    abm = rows["Tier 1 ABM"]
    assert f"playbook={abm['playbook_id']}" in abm["spend_url"]
    assert f"model={filters.model}" in abm["url"]
    assert "kind=pipeline" in abm["url"]


def test_the_tiles_count_playbooks_and_enrolled_accounts(world, maria):
    context, _ = context_for(maria)
    assert tile(context, "active_playbooks")["value"] == 1
    enrolled = Enrolment.objects.exclude(status="holdout").values("account_id").distinct().count()
    assert tile(context, "enrolled")["value"] == enrolled


def test_the_playbook_filter_narrows_every_panel(world, maria):
    context, _ = context_for(maria, f"playbook={world['webinar'].pk}")
    assert {r["playbook"] for r in table(context, "enrolments_by_stage").rows} == {"Webinar push"}
    assert {r["playbook"] for r in table(context, "by_playbook").rows} <= {"Webinar push"}
    assert tile(context, "active_playbooks")["value"] == 0
    assert (
        tile(context, "enrolled")["value"]
        == Enrolment.objects.filter(playbook=world["webinar"]).exclude(status="holdout").count()
    )


def test_the_holdout_table_has_a_row_per_playbook_with_a_holdout(world, maria):
    context, _ = context_for(maria)
    rows = table(context, "holdout_lift").rows
    assert {r["playbook"] for r in rows} == {"Tier 1 ABM", "Webinar push"}
    # Under 30 accounts per group the interval is not worth showing.
    assert all(r["rate_ci"].startswith("not enough data") for r in rows)
    assert context["charts"]["holdout"]["data"][0]["customdata"][0].startswith("/playbooks/")


def test_the_page_shows_the_panels_with_charts_and_formatted_money(client, world, maria):
    client.force_login(maria)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for name in TABLES:
        assert f'data-testid="panel-{name}"' in html
    for chart in ("stages", "trend", "tasks", "money", "roi", "holdout"):
        assert f'id="{chart}-data"' in html
    assert "<script>" not in html.replace('<script type="application/json"', "")
    assert "Tier 1 ABM" in html
    assert "$" in html


@pytest.mark.parametrize("name", TABLES)
def test_every_table_exports_csv(client, world, maria, name):
    client.force_login(maria)
    response = client.get(URL, {"export": name})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    context, _ = context_for(maria)
    expected = table(context, name)
    assert rows[0] == [c.label for c in expected.columns]
    assert len(rows) == 1 + len(expected.rows)


@pytest.mark.parametrize(
    "query",
    [
        "tier=x&playbook=abc",
        "owner=999999&model=nope",
        "preset=custom&start=2026-13&end=abc",
        "playbook=999999",
        "export=nope",
    ],
)
def test_bad_filter_params_never_break_the_page(client, world, maria, query):
    client.force_login(maria)
    response = client.get(f"{URL}?{query}")
    assert response.status_code in (200, 400)
    assert response.status_code == (400 if query.startswith("export") else 200)


@pytest.mark.parametrize("role", ["alice", "diana", "root"])
def test_only_marketers_directors_and_admins_open_it(client, request, role, maria):
    user = request.getfixturevalue(role)
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == (403 if role == "alice" else 200)


def test_an_empty_plan_says_what_to_do(client, maria):
    client.force_login(maria)
    response = client.get(URL)
    assert response.status_code == 200
    assert b'data-testid="empty-dashboard"' in response.content


def test_the_page_reads_the_same_queries_for_5_and_50_accounts(
    client, alice, bob, maria, django_assert_max_num_queries
):
    now = timezone.now()
    build_playbook_world(accounts=5, owners=[alice, bob], marketer=maria, now=now)
    client.force_login(maria)
    client.get(URL)  # warm the session
    with django_assert_max_num_queries(QUERIES) as small:
        assert client.get(URL).status_code == 200
    more = make_user("marketer2", Role.MARKETER)
    build_playbook_world(accounts=45, owners=[alice, bob], marketer=more, now=now)
    with django_assert_max_num_queries(QUERIES) as large:
        assert client.get(URL).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
