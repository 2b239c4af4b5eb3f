"""The sales dashboard: a rep sees only their own accounts, ranked by priority, with their tasks
and pipeline; the figures equal totals computed straight from the rows."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db.models import F, Sum
from django.http import QueryDict
from django.utils import timezone

from abm.models import Role
from accounts.list_filters import day_range_q
from accounts.models import Account, Opportunity
from dashboards.filters import parse_filters
from dashboards.sales import PRIORITY_ROWS, sales_context
from metrics.engine.runner import recompute_all
from metrics.models import AttributionCredit
from playbooks.models import Task
from playbooks.task_completion import task_complete
from tests.conftest import make_user
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    EnrolmentFactory,
    OpportunityFactory,
    StepFactory,
    TaskFactory,
)

URL = "/metrics/sales/"
TABLES = ("priority_accounts", "tasks_due", "pipeline_by_stage", "attributed_by_channel")
# Session, user, filter choices, runs, then one grouped read per panel (why-hot takes two).
QUERIES = 15
BOBS_AMOUNT = Decimal("777777")


def ago(now, days: float) -> dt.datetime:
    return now - dt.timedelta(days=days)


def build_book(owner, *, prefix: str, accounts: int, now, amount: Decimal, step) -> list:
    """A rep's book: engaged accounts (one spiking), open and won deals, and tasks in each state."""
    rows = []
    for i in range(accounts):
        account = AccountFactory(
            name=f"{prefix} {i:03}",
            owner=owner,
            tier=(1, 2, 3, None)[i % 4],
            fit_score=20 + (i * 13) % 80,
        )
        contact = ContactFactory(account=account, seniority=("c_level", "vp", "manager")[i % 3])
        for n in range(1 + i % 4):
            ActivityFactory(
                account=account,
                contact=contact,
                channel=("webinar", "email", "content")[n % 3],
                kind=("webinar_attended", "email_click", "content_download")[n % 3],
                occurred_at=ago(now, 15 + 9 * n),
            )
        if i == 0:  # a burst this week after a quiet month: a spike
            for n in range(4):
                ActivityFactory(
                    account=account,
                    contact=contact,
                    channel="event",
                    kind="meeting",
                    occurred_at=ago(now, 1 + n / 4),
                )
        OpportunityFactory(
            account=account,
            amount=amount + i,
            stage=("qualification", "discovery", "proposal", "negotiation")[i % 4],
            created_at=ago(now, 5),
        )
        if i % 3 == 0:
            OpportunityFactory(
                account=account,
                amount=amount + 1000 + i,
                stage="closed_won",
                created_at=ago(now, 40),
                closed_at=ago(now, 2),
            )
        enrolment = EnrolmentFactory(account=account, playbook=step.stage.playbook)
        due = (ago(now, 3), now + dt.timedelta(days=2), now + dt.timedelta(days=20))[i % 3]
        task = TaskFactory(
            enrolment=enrolment, step=step, assignee=owner, due_at=due, owner_role="sales"
        )
        if i % 5 == 4:
            task_complete(task=task, by=owner)
        rows.append(account)
    return rows


@pytest.fixture
def books(alice, bob):
    now = timezone.now()
    step = StepFactory(channel="phone", owner_role="sales", stage__playbook__name="Sales plays")
    mine = build_book(
        alice, prefix="Alpine", accounts=6, now=now, amount=Decimal("50000"), step=step
    )
    theirs = build_book(bob, prefix="Borealis", accounts=5, now=now, amount=BOBS_AMOUNT, step=step)
    AccountFactory(name="Nobody's Co", owner=None, fit_score=99)
    recompute_all(now=timezone.now())
    return {"mine": mine, "theirs": theirs, "now": now, "playbook": step.stage.playbook}


def context_for(user, query: str = ""):
    filters = parse_filters(QueryDict(query), user=user)
    return sales_context(user, filters), filters


def table(context, name):
    return next(t for t in context["tables"] if t.name == name)


def tile(context, key):
    return next(t for t in context["tiles"] if t["key"] == key)


def test_a_reps_accounts_are_ranked_by_fit_times_engagement(books, alice):
    context, _ = context_for(alice)
    rows = table(context, "priority_accounts").rows
    expected = list(
        Account.objects.filter(owner=alice)
        .annotate(p=F("fit_score") * F("engagement_score") / 100.0)
        .order_by("-p", "name", "pk")
        .values_list("name", "p", "spike")[:PRIORITY_ROWS]
    )
    assert [(r["name"], r["priority"], r["is_spike"]) for r in rows] == [
        (name, pytest.approx(p), spike) for name, p, spike in expected
    ]
    assert any(r["is_spike"] for r in rows)
    assert (
        tile(context, "spiking")["value"] == Account.objects.filter(owner=alice, spike=True).count()
    )
    assert (
        tile(context, "targets")["value"]
        == Account.objects.filter(owner=alice, tier__isnull=False).count()
    )
    # Each row opens the account's timeline; the hot ones say why.
    assert rows[0]["url"].endswith(f"/accounts/{rows[0]['pk']}/#timeline")
    assert any(r["why_hot"] for r in rows)


def test_the_tier_filter_narrows_the_priority_list(books, alice):
    context, _ = context_for(alice, "tier=1")
    names = {r["name"] for r in table(context, "priority_accounts").rows}
    assert names == set(Account.objects.filter(owner=alice, tier=1).values_list("name", flat=True))


def test_pipeline_by_stage_and_won_revenue_match_the_deals(books, alice):
    context, filters = context_for(alice)
    rows = {r["stage_key"]: r for r in table(context, "pipeline_by_stage").rows}
    deals = Opportunity.objects.filter(account__owner=alice)
    for stage in ("qualification", "discovery", "proposal", "negotiation"):
        amount = deals.filter(stage=stage).aggregate(s=Sum("amount"))["s"] or 0
        assert rows[stage]["amount"] == pytest.approx(float(amount))
        assert rows[stage]["deals"] == deals.filter(stage=stage).count()
        assert f"stage={stage}" in rows[stage]["url"]
        assert "created_from" not in rows[stage]["url"]
    open_total = deals.exclude(stage__in=["closed_won", "closed_lost"]).aggregate(s=Sum("amount"))
    assert tile(context, "open_pipeline")["value"] == pytest.approx(float(open_total["s"]))
    won = deals.filter(
        day_range_q("closed_at", filters.first_day, filters.last_day), stage="closed_won"
    ).aggregate(s=Sum("amount"))["s"]
    assert tile(context, "won")["value"] == pytest.approx(float(won))


def test_attributed_pipeline_by_channel_matches_the_credits_of_the_reps_accounts(books, alice):
    context, filters = context_for(alice)
    rows = {r["channel_key"]: r for r in table(context, "attributed_by_channel").rows}
    credits = AttributionCredit.objects.filter(
        day_range_q("converted_at", filters.first_day, filters.last_day),
        account__owner=alice,
        model=filters.model,
        kind="pipeline",
    )
    expected = dict(credits.values_list("channel").annotate(s=Sum("credit")))
    assert expected
    assert {k: r["pipeline"] for k, r in rows.items()} == {
        k: pytest.approx(float(v)) for k, v in expected.items()
    }


def test_tasks_due_are_the_reps_open_tasks_overdue_or_due_within_a_week(books, alice):
    context, _ = context_for(alice)
    now = timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    mine = Task.objects.filter(assignee=alice, status="open")
    overdue = mine.filter(due_at__lt=today)
    soon = mine.filter(due_at__gte=today, due_at__lt=now + dt.timedelta(days=7))
    rows = table(context, "tasks_due").rows
    assert len(rows) == overdue.count() + soon.count()
    assert context["task_counts"] == {"overdue": overdue.count(), "soon": soon.count()}
    assert tile(context, "overdue")["value"] == overdue.count()
    assert {r["account"] for r in rows} <= {a.name for a in books["mine"]}
    assert [r["due_at"] for r in rows] == sorted(r["due_at"] for r in rows)


def test_a_reps_dashboard_holds_nothing_of_another_reps_accounts(client, books, alice):
    client.force_login(alice)
    html = client.get(URL).content.decode()
    assert "Alpine 000" in html
    for account in books["theirs"]:
        assert account.name not in html
    assert "Nobody&#x27;s Co" not in html
    assert "Nobody's Co" not in html
    assert "777,7" not in html
    assert 'name="owner"' not in html  # a rep has no owner filter


@pytest.mark.parametrize("name", TABLES)
def test_every_table_exports_csv_within_the_reps_accounts(client, books, alice, name):
    client.force_login(alice)
    response = client.get(URL, {"export": name})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    context, _ = context_for(alice)
    expected = table(context, name)
    assert rows[0] == [c.label for c in expected.columns]
    assert len(rows) == 1 + len(expected.rows)
    assert "Borealis" not in body
    assert "777777" not in body
    assert "Nobody" not in body


def test_a_rep_cannot_widen_the_scope_with_an_owner_parameter(client, books, alice, bob):
    client.force_login(alice)
    html = client.get(URL, {"owner": bob.pk}).content.decode()
    assert "Borealis" not in html
    assert "Alpine 000" in html


def test_a_director_sees_the_rep_picked_in_the_owner_filter(books, diana, bob):
    context, _ = context_for(diana, f"owner={bob.pk}")
    names = {r["name"] for r in table(context, "priority_accounts").rows}
    assert names == {a.name for a in books["theirs"]}
    assert {r["account"] for r in table(context, "tasks_due").rows} <= names
    stage_total = sum(r["amount"] for r in table(context, "pipeline_by_stage").rows)
    expected = Opportunity.objects.filter(account__owner=bob).exclude(
        stage__in=["closed_won", "closed_lost"]
    )
    assert stage_total == pytest.approx(float(expected.aggregate(s=Sum("amount"))["s"]))
    assert f"owner={bob.pk}" in table(context, "pipeline_by_stage").rows[0]["url"]


def test_a_director_without_an_owner_sees_every_account(books, diana):
    context, _ = context_for(diana)
    assert context["account_count"] == Account.objects.count()
    assert any(c.key == "owner" for c in table(context, "priority_accounts").columns)


def test_a_rep_without_accounts_is_told_what_to_do(client, db):
    charlie = make_user("charlie", Role.SALES)
    client.force_login(charlie)
    response = client.get(URL)
    assert response.status_code == 200
    assert b"No accounts are assigned to you yet" in response.content


@pytest.mark.parametrize(
    "query",
    [
        "tier=x&playbook=abc",
        "owner=abc&model=nope",
        "preset=custom&start=2026-13&end=abc",
        "playbook=999999&tier=0",
    ],
)
def test_bad_filter_params_never_break_the_page(client, books, alice, diana, query):
    for user in (alice, diana):
        client.force_login(user)
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200


def test_the_page_reads_the_same_queries_for_5_and_50_accounts(
    client, alice, django_assert_max_num_queries
):
    now = timezone.now()
    step = StepFactory(channel="phone", owner_role="sales")
    build_book(alice, prefix="Small", accounts=5, now=now, amount=Decimal("1000"), step=step)
    recompute_all(now=timezone.now())
    client.force_login(alice)
    client.get(URL)
    with django_assert_max_num_queries(QUERIES) as small:
        assert client.get(URL).status_code == 200
    build_book(alice, prefix="Large", accounts=45, now=now, amount=Decimal("2000"), step=step)
    recompute_all(now=timezone.now())
    with django_assert_max_num_queries(QUERIES) as large:
        assert client.get(URL).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
