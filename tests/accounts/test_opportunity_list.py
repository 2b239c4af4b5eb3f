"""The opportunity drill-down list: every filter, credit from a channel or playbook, totals over the
whole filtered set, a rep's scope, bad parameters, the CSV and a flat query count."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from accounts.models import Opportunity, OpportunityStage
from metrics.models import AttributionCredit, RemovalEffect
from tests.accounts.account_pages import account
from tests.factories import ActivityFactory, OpportunityFactory, PlaybookFactory, StepFactory

URL = reverse("accounts:opportunities")
CSV_URL = reverse("accounts:opportunities_csv")
UTC = dt.UTC


def at(day: str, time: str = "12:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=UTC)


def deal(target, name, *, amount=1000, created="2026-03-10", stage="qualification", **extra):
    if stage in (OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST):
        extra.setdefault("closed_at", at(created) + dt.timedelta(days=30))
    return OpportunityFactory(
        account=target,
        name=name,
        amount=Decimal(amount),
        created_at=at(created) if isinstance(created, str) else created,
        stage=stage,
        **extra,
    )


def credit(opportunity, channel, amount, *, model="linear", kind="pipeline", playbook=None):
    return AttributionCredit.objects.create(
        model=model,
        kind=kind,
        opportunity=opportunity,
        account_id=opportunity.account_id,
        converted_at=opportunity.created_at,
        channel=channel,
        playbook=playbook,
        weight=0.5,
        credit=Decimal(amount),
    )


def names(response) -> list[str]:
    assert response.status_code == 200
    return [o.name for o in response.context["rows"]]


def csv_rows(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


@pytest.fixture
def book(alice, bob):
    """Alice: Acme (tier 1). Bob: Bolt (tier 2). Nobody: Cargo (not a target)."""
    acme = account(alice, "Acme", tier=1)
    bolt = account(bob, "Bolt", tier=2)
    cargo = account(None, "Cargo", tier=None)
    playbook = PlaybookFactory(name="Launch")
    deals = {
        "a1": deal(acme, "A1", amount=1000, created="2026-01-15", source="marketing"),
        "a2": deal(acme, "A2", amount=2000, created="2026-02-10", stage="closed_won"),
        "b1": deal(bolt, "B1", amount=4000, created="2026-02-20", stage="closed_lost"),
        "b2": deal(
            bolt, "B2", amount=8000, created="2026-03-05", stage="proposal", source="partner"
        ),
        "c1": deal(cargo, "C1", amount=16000, created="2026-03-25", source="marketing"),
    }
    credit(deals["a1"], "email", "600")
    credit(deals["a1"], "webinar", "400", playbook=playbook)
    credit(deals["b1"], "email", "1000")
    credit(deals["b1"], "email", "4000", model="first_touch")
    credit(deals["b2"], "webinar", "8000", playbook=playbook)
    credit(deals["a2"], "email", "2000", kind="revenue")
    return {**deals, "acme": acme, "bolt": bolt, "cargo": cargo, "playbook": playbook}


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in (URL, CSV_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_it_lists_every_visible_deal_newest_first(client, diana, book):
    client.force_login(diana)
    assert names(client.get(URL)) == ["C1", "B2", "B1", "A2", "A1"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"created_from": "2026-02-10"}, ["C1", "B2", "B1", "A2"]),
        ({"created_to": "2026-02-10"}, ["A2", "A1"]),
        ({"created_from": "2026-02-01", "created_to": "2026-02-28"}, ["B1", "A2"]),
        ({"closed_from": "2026-03-12", "closed_to": "2026-03-12"}, ["A2"]),
        ({"closed_to": "2026-03-31"}, ["B1", "A2"]),
        ({"tier": "1"}, ["A2", "A1"]),
        ({"tier": "2"}, ["B2", "B1"]),
        ({"tier": "0"}, ["C1"]),
        ({"tier": "targets"}, ["B2", "B1", "A2", "A1"]),
        ({"owner": "unassigned"}, ["C1"]),
        ({"stage": "open"}, ["C1", "B2", "A1"]),
        ({"stage": "won"}, ["A2"]),
        ({"stage": "lost"}, ["B1"]),
        ({"stage": "proposal"}, ["B2"]),
        ({"source": "marketing"}, ["C1", "A1"]),
        ({"source": "partner"}, ["B2"]),
        ({"origin": "sourced"}, ["C1", "A1"]),
        ({"channel": "email"}, ["B1", "A1"]),
        ({"channel": "email", "model": "first_touch", "kind": "pipeline"}, ["B1"]),
        ({"channel": "email", "kind": "revenue"}, ["A2"]),
        ({"channel": "webinar", "tier": "2"}, ["B2"]),
        ({"model": "linear"}, ["B2", "B1", "A1"]),
        ({"stage": "open", "tier": "targets", "created_from": "2026-01-01"}, ["B2", "A1"]),
    ],
)
def test_each_filter_narrows_the_list(client, diana, book, params, expected):
    client.force_login(diana)
    assert names(client.get(URL, params)) == expected


def test_owner_and_account_filters_take_ids(client, diana, alice, book):
    client.force_login(diana)
    assert names(client.get(URL, {"owner": alice.pk})) == ["A2", "A1"]
    response = client.get(URL, {"account": book["bolt"].pk})
    assert names(response) == ["B2", "B1"]
    assert "Account: Bolt" in response.content.decode()


def test_playbook_filters_by_credit_from_that_playbook_or_none(client, diana, book):
    client.force_login(diana)
    assert names(client.get(URL, {"playbook": book["playbook"].pk})) == ["B2", "A1"]
    assert names(client.get(URL, {"playbook": "none"})) == ["B1", "A1"]
    response = client.get(URL, {"playbook": book["playbook"].pk, "channel": "webinar"})
    assert "Credited to playbook: Launch" in response.content.decode()


def test_created_days_are_whole_utc_days_inclusive(client, diana):
    target = account(None, "Edge")
    deal(target, "first instant", created=at("2026-05-01", "00:00"))
    deal(target, "last instant", created=at("2026-05-31", "23:59:59.999999"))
    deal(target, "day before", created=at("2026-04-30", "23:59:59.999999"))
    deal(target, "day after", created=at("2026-06-01", "00:00"))
    client.force_login(diana)

    shown = names(client.get(URL, {"created_from": "2026-05-01", "created_to": "2026-05-31"}))

    assert shown == ["last instant", "first instant"]


def test_the_credited_column_sums_the_rows_credit_from_the_filtered_channel(client, diana, book):
    client.force_login(diana)

    response = client.get(URL, {"channel": "email", "model": "linear", "kind": "pipeline"})

    credited = {o.name: o.credited for o in response.context["rows"]}
    assert credited == {"A1": Decimal("600"), "B1": Decimal("1000")}
    page = response.content.decode()
    assert "Credited" in page
    assert "$1,600" in page  # the total credited


def test_markov_credit_is_derived_from_the_linear_touch_counts_and_removal_effects(
    client, diana, book
):
    linear = AttributionCredit.objects.filter(model="linear", kind="pipeline")
    linear.filter(opportunity=book["a1"], channel="email").update(touches=3)
    linear.filter(opportunity=book["a1"], channel="webinar").update(touches=1)
    linear.filter(opportunity=book["b1"]).update(touches=2)
    RemovalEffect.objects.create(kind="pipeline", channel="email", effect=0.2)
    RemovalEffect.objects.create(kind="pipeline", channel="webinar", effect=0.6)
    client.force_login(diana)

    response = client.get(URL, {"channel": "email", "model": "markov", "kind": "pipeline"})

    # A1: email 3 x .2 = .6 of .6 + 1 x .6: half its 1,000. B1: email alone, all its 4,000.
    credited = {o.name: o.credited for o in response.context["rows"]}
    assert credited == {"A1": Decimal("500"), "B1": Decimal("4000")}
    assert response.context["totals"].credited == Decimal("4500")


def test_a_credit_filter_without_a_model_says_it_uses_linear_pipeline(client, diana, book):
    client.force_login(diana)

    response = client.get(URL, {"channel": "webinar"})

    credit = response.context["credit"]
    assert (credit.model, credit.kind) == ("linear", "pipeline")
    assert "credit shown is Linear, pipeline (the default)" in response.content.decode()


def test_no_credit_column_without_a_credit_filter(client, diana, book):
    client.force_login(diana)
    response = client.get(URL, {"tier": "1"})
    assert response.context["credit"] is None
    assert response.context["totals"].credited is None
    assert "Credited" not in response.content.decode()


def test_totals_cover_the_whole_filtered_set_not_just_the_page(client, diana):
    target = account(None, "Bulk")
    for i in range(60):
        created = deal(target, f"Deal {i:02}", amount=100 + i, created=at("2026-04-01"))
        credit(created, "email", 10 + i)
    client.force_login(diana)

    response = client.get(URL, {"channel": "email"})

    totals = response.context["totals"]
    assert len(response.context["rows"]) == 50
    assert totals.count == 60 == Opportunity.objects.count()
    assert totals.amount == Opportunity.objects.aggregate(s=Sum("amount"))["s"]
    assert totals.credited == AttributionCredit.objects.aggregate(s=Sum("credit"))["s"]
    page = response.content.decode()
    assert "<strong>60</strong> opportunities" in page
    assert "$7,770" in page  # 60 * 100 + (0 + ... + 59)
    assert "$2,370" in page  # 60 * 10 + (0 + ... + 59)
    second = client.get(URL, {"channel": "email", "page": 2})
    assert len(second.context["rows"]) == 10
    assert second.context["totals"] == totals


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("amount", ["A1", "A2", "B1", "B2", "C1"]),
        ("-amount", ["C1", "B2", "B1", "A2", "A1"]),
        ("created", ["A1", "A2", "B1", "B2", "C1"]),
        ("name", ["A1", "A2", "B1", "B2", "C1"]),
    ],
)
def test_it_sorts_by_a_few_safe_keys(client, diana, book, sort, expected):
    client.force_login(diana)
    assert names(client.get(URL, {"sort": sort})) == expected


# --- Marketing-influenced: the SQL rule is the recompute's rule ------------------------------


def test_influenced_means_a_marketing_touch_in_the_window_before_creation(client, diana):
    from metrics.engine.loading import load_activities, load_first_mqa, load_opportunities
    from metrics.leads import pipeline_origins
    from metrics.touch_rule_store import load_touch_rules
    from metrics.touch_rules import attribution_touches

    created = at("2026-06-01")
    marketing_step = StepFactory(channel="email", owner_role="marketing")
    sales_step = StepFactory(channel="email", owner_role="sales")
    phone_by_marketing = StepFactory(channel="phone", owner_role="marketing")
    mail_step = StepFactory(channel="direct_mail", owner_role="marketing")
    display_step = StepFactory(channel="display", owner_role="marketing")
    cases = {
        # name: (activity fields or None, influenced?)
        "webinar before": ({"channel": "webinar", "kind": "webinar_attended"}, True),
        "only a phone call": ({"channel": "phone", "kind": "call_connected"}, False),
        "only sdr outreach": ({"channel": "sdr_outreach", "kind": "meeting"}, False),
        "email from a sales step": ({"step": sales_step, "kind": "email_reply"}, False),
        "email from a marketing step": ({"step": marketing_step, "kind": "email_reply"}, True),
        "phone from a marketing step": (
            {"step": phone_by_marketing, "channel": "phone", "kind": "call_connected"},
            True,
        ),
        "no points, no cost": ({"channel": "email", "kind": "email_sent"}, False),
        # Touch rules (defaults): outbound counts only as a playbook step with a cost.
        "mail with a cost, no step": (
            {"channel": "direct_mail", "kind": "direct_mail_sent", "cost": Decimal(40)},
            False,
        ),
        "mail from a step with a cost": (
            {"step": mail_step, "kind": "direct_mail_sent", "cost": Decimal(40)},
            True,
        ),
        "impression from a step with a cost": (
            {"step": display_step, "kind": "ad_impression", "cost": Decimal(4)},
            False,
        ),
        "after creation": ({"kind": "email_click", "days": -1}, False),
        "too early": ({"kind": "email_click", "days": 181}, False),
        "window's first day": ({"kind": "email_click", "days": 180}, True),
        "at creation": ({"kind": "email_click", "days": 0}, True),
        "no touches": (None, False),
    }
    for name, (fields, _) in cases.items():
        target = account(None, name)
        deal(target, name, created=created)
        if fields is not None:
            fields = dict(fields)
            days = fields.pop("days", 10)
            fields.setdefault(
                "channel", fields.get("step").channel if "step" in fields else "email"
            )
            ActivityFactory(account=target, occurred_at=created - dt.timedelta(days=days), **fields)
    client.force_login(diana)

    shown = set(names(client.get(URL, {"origin": "influenced"})))

    assert shown == {name for name, (_, influenced) in cases.items() if influenced}
    # A creation range bounds the touches searched too, without changing the answer.
    day = {"origin": "influenced", "created_from": "2026-06-01", "created_to": "2026-06-01"}
    assert set(names(client.get(URL, day))) == shown
    touches = attribution_touches(load_activities(), load_first_mqa(), load_touch_rules())
    origins = pipeline_origins(load_opportunities(), touches, window_days=180)
    by_recompute = set(
        Opportunity.objects.filter(
            pk__in=origins.loc[origins["influenced"], "opportunity_id"].tolist()
        ).values_list("name", flat=True)
    )
    assert shown == by_recompute


# --- Scope ------------------------------------------------------------------------------------


def test_a_rep_sees_only_deals_on_accounts_they_own(client, alice, book):
    client.force_login(alice)
    assert names(client.get(URL)) == ["A2", "A1"]
    response = client.get(URL, {"channel": "email"})
    assert names(response) == ["A1"]
    assert response.context["totals"].credited == Decimal("600")


def test_a_rep_asking_for_another_reps_deals_gets_an_empty_list(client, alice, bob, book):
    client.force_login(alice)

    response = client.get(URL, {"owner": bob.pk})

    assert names(response) == []
    assert response.context["totals"].count == 0
    assert "No opportunities match these filters" in response.content.decode()
    assert names(client.get(URL, {"account": book["bolt"].pk})) == []


def test_a_reps_csv_holds_only_their_deals(client, alice, bob, book):
    client.force_login(alice)
    assert [r["name"] for r in csv_rows(client.get(CSV_URL))] == ["A2", "A1"]
    assert csv_rows(client.get(CSV_URL, {"owner": bob.pk})) == []


# --- Bad parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"created_from": "abc"},
        {"created_to": "2026-02-30"},
        {"tier": "9"},
        {"model": "foo"},
        {"owner": "x"},
        {"source": "bogus"},
        {"origin": "both"},
        {"channel": "fax"},
        {"kind": "profit"},
        {"account": "-1"},
        {"playbook": "abc"},
        {"sort": "password"},
        {"page": "x"},
    ],
)
def test_a_bad_parameter_is_ignored_and_the_valid_ones_kept(client, diana, book, bad):
    client.force_login(diana)

    response = client.get(URL, {"stage": "open", **bad})

    assert response.status_code == 200
    assert names(response) == ["C1", "B2", "A1"]
    page = response.content.decode()
    assert "ignored" in page
    assert "Stage: Open" in page
    for name in bad:
        assert f"{name}=" not in response.context["query_string"]


def test_a_reversed_date_range_is_ignored_with_a_message(client, diana, book):
    client.force_login(diana)
    response = client.get(URL, {"created_from": "2026-03-01", "created_to": "2026-02-01"})
    assert len(names(response)) == 5
    assert "both were ignored" in response.content.decode()


def test_a_bad_parameter_in_the_csv_link_is_ignored_too(client, diana, book):
    client.force_login(diana)
    exported = csv_rows(client.get(CSV_URL, {"tier": "9", "stage": "won"}))
    assert [r["name"] for r in exported] == ["A2"]


# --- Chips ------------------------------------------------------------------------------------


def test_each_chip_links_to_the_list_without_its_filter(client, diana, book):
    client.force_login(diana)

    response = client.get(
        URL, {"channel": "email", "model": "linear", "kind": "pipeline", "tier": "2"}
    )

    chips = {chip.label: chip.remove_query for chip in response.context["chips"]}
    assert chips == {
        "Tier 2": "model=linear&kind=pipeline&channel=email",
        "Credited to Email": "tier=2&model=linear&kind=pipeline",
        "Linear model, pipeline": "tier=2&channel=email",
    }
    page = response.content.decode()
    assert "Clear filters" in page
    assert 'aria-label="Remove filter: Tier 2"' in page


# --- CSV --------------------------------------------------------------------------------------


def test_the_csv_holds_the_whole_filtered_set_with_its_credit(client, diana, book):
    client.force_login(diana)

    response = client.get(CSV_URL, {"channel": "email", "sort": "amount"})

    assert 'filename="opportunities.csv"' in response["Content-Disposition"]
    exported = csv_rows(response)
    assert [(r["name"], r["account"], r["credited"]) for r in exported] == [
        ("A1", "Acme", "600.00"),
        ("B1", "Bolt", "1000.00"),
    ]
    assert exported[0]["owner"] == "Alice"
    assert exported[0]["tier"] == "1"


def test_the_csv_has_no_credit_column_without_a_credit_filter(client, diana, book):
    client.force_login(diana)
    exported = csv_rows(client.get(CSV_URL))
    assert len(exported) == 5
    assert "credited" not in exported[0]


def test_the_csv_neutralises_spreadsheet_formulas(client, diana):
    evil = account(None, "=cmd|' /C calc'!A0", domain="evil.example")
    deal(evil, '=HYPERLINK("http://x.example","click")')
    deal(evil, "@SUM(1+1)")
    deal(evil, "+1+1")
    client.force_login(diana)

    exported = csv_rows(client.get(CSV_URL, {"sort": "name"}))

    assert [r["name"] for r in exported] == [
        "'+1+1",
        '\'=HYPERLINK("http://x.example","click")',
        "'@SUM(1+1)",
    ]
    assert {r["account"] for r in exported} == {"'=cmd|' /C calc'!A0"}


def test_the_account_export_keeps_its_own_url_name(book):
    # accounts:opportunities_csv names both exports; the arguments pick the pattern.
    assert reverse("accounts:opportunities_csv") == "/accounts/opportunities.csv"
    assert reverse("accounts:opportunities_csv", args=[7]) == "/accounts/7/opportunities.csv"


# --- Query count ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [5, 60])
def test_the_query_count_does_not_grow_with_rows(
    client, diana, django_assert_max_num_queries, n, alice
):
    playbook = PlaybookFactory(name="Launch")
    owners = [alice, None]
    now = timezone.now()
    for i in range(n):
        target = account(owners[i % 2], f"Company {i:02}", tier=(i % 3) + 1)
        created = deal(target, f"Deal {i:02}", created=now - dt.timedelta(days=i + 1))
        credit(created, "email", 10, playbook=playbook)
        ActivityFactory(account=target, occurred_at=created.created_at - dt.timedelta(days=3))
    client.force_login(diana)
    credit_params = {
        "channel": "email",
        "playbook": playbook.pk,
        "model": "linear",
        "origin": "influenced",
        "tier": "targets",
    }

    # session + user, the touch rules (origin=influenced), totals, page rows, the playbook's
    # name for its chip
    with django_assert_max_num_queries(6):
        response = client.get(URL, credit_params)
    assert len(response.context["rows"]) == min(n, 50)
    # ... and with the owner's and the account's names instead
    with django_assert_max_num_queries(6):
        response = client.get(URL, {"owner": alice.pk, "account": target.pk, "stage": "open"})
    assert response.status_code == 200
