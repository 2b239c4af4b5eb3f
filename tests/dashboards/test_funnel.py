"""The director's funnel from the stage history, its drill-down, and the mqa rule on real rows.

Histories are built by hand; every expected count below is counted by hand from them.
"""

import datetime as dt
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.http import QueryDict
from django.urls import reverse

from accounts.filtering import ENROLLED_STATUSES
from dashboards.drilldown import reached_accounts_url
from dashboards.filters import parse_filters
from dashboards.funnel import funnel_reached
from metrics import lift
from metrics.engine.runner import recompute_all
from metrics.models import EngagementScore, JourneyStageChange
from tests.conftest import make_user
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    EnrolmentFactory,
    PlaybookFactory,
)

URL = reverse("dashboards:director")
PERIOD = {"preset": "custom", "start": "2026-03", "end": "2026-04"}  # 1 Mar .. 30 Apr 2026
STAGES = ["targeted", "aware", "engaged", "mqa", "opportunity", "customer"]


def _at(day: str, time: str = "12:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}:00+00:00")


def _history(account, *changes):
    previous = ""
    for stage, at in changes:
        JourneyStageChange.objects.create(
            account=account, from_stage=previous, to_stage=stage, changed_at=at
        )
        previous = stage


@pytest.fixture
def histories(db, alice):
    a = AccountFactory(name="A", tier=1)  # targeted before the period, then aware and engaged
    _history(
        a,
        ("targeted", _at("2026-02-10")),
        ("aware", _at("2026-03-05")),
        ("engaged", _at("2026-04-30", "23:59")),
    )
    b = AccountFactory(name="B", tier=2, owner=alice)  # engaged -> opportunity: skips mqa
    _history(b, ("engaged", _at("2026-03-10")), ("opportunity", _at("2026-03-20")))
    c = AccountFactory(name="C", tier=1)  # in and out of mqa twice: one account
    _history(
        c,
        ("engaged", _at("2026-03-02")),
        ("mqa", _at("2026-03-15")),
        ("engaged", _at("2026-03-25")),
        ("mqa", _at("2026-04-05")),
    )
    d = AccountFactory(name="D", tier=1)  # changes just outside the period only
    _history(d, ("mqa", _at("2026-02-28", "23:59")), ("opportunity", _at("2026-05-01", "00:00")))
    e = AccountFactory(name="E", tier=None)  # not a target
    _history(e, ("customer", _at("2026-03-05")))
    f = AccountFactory(name="F", tier=3, owner=alice)  # becomes a customer
    _history(f, ("opportunity", _at("2026-02-01")), ("customer", _at("2026-04-10")))
    g = AccountFactory(name="G", tier=1)  # a lost deal: back to engaged on the first instant
    _history(g, ("opportunity", _at("2026-01-15")), ("engaged", _at("2026-03-01", "00:00")))
    h = AccountFactory(name="H", tier=2)  # newly tiered
    _history(h, ("targeted", _at("2026-03-03")))
    i = AccountFactory(name="I", tier=1)
    _history(i, ("aware", _at("2026-04-01")))
    playbook = PlaybookFactory()
    EnrolmentFactory(account=a, playbook=playbook, status="active")
    EnrolmentFactory(account=c, playbook=playbook, status="holdout")  # the control: not in it
    EnrolmentFactory(account=f, playbook=playbook, status="exited")
    return {"playbook": playbook, "alice": alice}


def _funnel(client, user, **params):
    client.force_login(user)
    response = client.get(URL, {**PERIOD, **params})
    assert response.status_code == 200
    return response.context["t"]["funnel"].rows


@pytest.mark.parametrize(
    ("params", "expected", "names"),
    [
        # targeted: A B C F G H I; aware: without H; engaged: without I; mqa: B C F; ...
        ({}, [7, 6, 5, 3, 2, 1], {"mqa": "BCF", "opportunity": "BF", "targeted": "ABCFGHI"}),
        ({"tier": "1"}, [4, 4, 3, 1, 0, 0], {"engaged": "ACG", "mqa": "C"}),
        ({"tier": "targets"}, [7, 6, 5, 3, 2, 1], {"customer": "F"}),
        ({"owner": "alice"}, [2, 2, 2, 2, 2, 1], {"mqa": "BF"}),
        ({"playbook": "pb"}, [2, 2, 2, 1, 1, 1], {"engaged": "AF", "mqa": "F"}),
    ],
)
def test_funnel_counts_accounts_that_reached_each_stage_and_the_list_holds_them(
    client, diana, histories, params, expected, names
):
    ids = {"alice": histories["alice"].pk, "pb": histories["playbook"].pk}
    params = {k: ids.get(v, v) for k, v in params.items()}

    rows = _funnel(client, diana, **params)

    assert [r["stage"] for r in rows] == STAGES
    assert [r["reached"] for r in rows] == expected
    for row in rows:
        listed = client.get(row["url"])
        page = listed.context["page"]
        assert page.paginator.count == row["reached"], row["stage"]
        if row["stage"] in names:
            shown = "".join(sorted(a.name for a in listed.context["rows"]))
            assert shown == names[row["stage"]]


def test_drop_off_is_the_share_of_the_step_before_that_did_not_get_this_far(
    client, diana, histories
):
    rows = _funnel(client, diana)

    drop = [r["drop_off"] for r in rows]
    assert drop[0] is None
    assert drop[1:] == pytest.approx([1 / 7, 1 / 6, 2 / 5, 1 / 3, 1 / 2])


def test_the_drill_down_says_what_it_lists(client, diana, histories):
    row = _funnel(client, diana)[3]

    response = client.get(row["url"])

    caption = response.content.decode()
    assert (
        "Target accounts that reached MQA or a later stage between 1 Mar 2026 and 30 Apr 2026"
        in caption
    )
    assert parse_qs(urlsplit(row["url"]).query)["reached_from"] == ["2026-03-01"]


def test_a_rep_counts_and_lists_only_their_own_accounts(client, histories):
    # Reps do not open the director's dashboard; the funnel and the list are scoped all the same.
    alice = histories["alice"]
    filters = parse_filters(QueryDict(urlencode(PERIOD)), user=alice)

    reached = funnel_reached(alice, filters)

    assert [reached[s] for s in STAGES] == [2, 2, 2, 2, 2, 1]
    client.force_login(alice)
    listed = client.get(reached_accounts_url(filters, "targeted"))
    assert sorted(a.name for a in listed.context["rows"]) == ["B", "F"]


def test_the_non_target_filter_has_no_funnel(client, diana, histories):
    assert _funnel(client, diana, tier="0") == []


def test_a_period_without_changes_has_no_funnel_steps(client, diana, histories):
    client.force_login(diana)
    response = client.get(URL, {"preset": "custom", "start": "2025-01", "end": "2025-02"})

    assert response.context["t"]["funnel"].rows == []


def test_the_list_and_the_funnel_agree_on_enrolled_statuses():
    assert tuple(ENROLLED_STATUSES) == tuple(lift.ENROLLED_STATUSES)


def test_reached_dates_without_a_stage_are_dropped_with_a_note(client, diana, histories):
    client.force_login(diana)

    response = client.get(reverse("accounts:list"), {"reached_from": "2026-03-01"})

    assert response.context["page"].paginator.count == 9
    assert "need a reached stage" in response.content.decode()


# --- The mqa rule on real rows ----------------------------------------------------------------

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def _engage(account, first, second):
    """Meeting 20 (capped), event 15 x 1.5 -> 20 (capped) by ``first``; form 10 x 1.5 = 15 by
    ``second``: 55 points a day before NOW, 55 x 2^(-1/30) = 53.7 >= 50."""
    day_before = NOW - dt.timedelta(days=1)
    for contact, kind, channel in (
        (first, "meeting", "sdr_outreach"),
        (first, "event_attended", "event"),
        (second, "form_fill", "content"),
    ):
        ActivityFactory(
            account=account, contact=contact, kind=kind, channel=channel, occurred_at=day_before
        )


def test_an_account_with_two_engaged_contacts_and_score_50_becomes_mqa(db):
    two = AccountFactory(name="Two people", tier=1)
    one = AccountFactory(name="One person", tier=1)
    two_a, two_b = ContactFactory(account=two), ContactFactory(account=two)
    one_a, one_b = ContactFactory(account=one), ContactFactory(account=one)
    _engage(two, two_a, two_b)
    _engage(one, one_a, one_a)
    # What we send engages nobody: one_b received an email and did not answer.
    ActivityFactory(
        account=one, contact=one_b, kind="email_sent", direction="outbound", occurred_at=NOW
    )

    recompute_all(now=NOW, queue_tasks=False)

    scores = {s.account_id: s for s in EngagementScore.objects.all()}
    assert scores[two.pk].score == pytest.approx(55 * 2 ** (-1 / 30), rel=1e-6)
    assert scores[one.pk].score == pytest.approx(55 * 2 ** (-1 / 30), rel=1e-6)
    assert (scores[two.pk].engaged_contacts, scores[one.pk].engaged_contacts) == (2, 1)
    two.refresh_from_db()
    one.refresh_from_db()
    assert (two.stage, one.stage) == ("mqa", "engaged")
    assert JourneyStageChange.objects.get(account=two).to_stage == "mqa"


def test_a_rep_without_accounts_counts_nothing(histories):
    carl = make_user("carl", "sales")
    filters = parse_filters(QueryDict(urlencode(PERIOD)), user=carl)

    assert set(funnel_reached(carl, filters).values()) == {0}
