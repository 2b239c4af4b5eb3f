"""The planner over the API (issue #18): POST /api/plans/preview/ and /api/plans/export/."""

import pytest

from goals.models import Goal
from tests.goals.test_plan_budgets import _playbook, _spend
from tests.metrics.planning_book import make_book

PREVIEW, EXPORT = "/api/plans/preview/", "/api/plans/export/"


@pytest.fixture
def book(db, alice, bob):
    return make_book(alice, bob)


OVERRIDES = {
    "conversion": {
        "targeted_engaged": 0.5,
        "engaged_mqa": 0.5,
        "mqa_opportunity": 0.5,
        "opportunity_won": 0.5,
    },
    "deal_size": 10000,
    "channel_mix": {"email": 1.0},
}


def _body(**change):
    return {
        "target": 100000,
        "kind": "revenue",
        "start": "2027-01-01",
        "end": "2027-06-30",
        "tiers": [1, 2],
        "model": "w_shaped",
        "overrides": OVERRIDES,
    } | change


def test_the_preview_plans_backwards_with_the_overrides(api, book, diana):
    response = api(diana).post(PREVIEW, _body(), format="json")
    assert response.status_code == 200, response.content
    plan = response.json()
    # won 100,000 / 10,000 = 10; opportunities 20; mqa 40; engaged 80; targeted 160
    assert {s: plan["needed"][s]["value"] for s in plan["needed"]} == pytest.approx(
        {"targeted": 160, "engaged": 80, "mqa": 40, "opportunity": 20, "won": 10}
    )
    # email: 3,000 spend / 1 attributed opportunity = 3,000 each, x 20
    assert plan["budget"][0]["channel"] == "email"
    assert plan["budget"][0]["amount"]["value"] == pytest.approx(60000)
    assert plan["budget"][0]["return_per_dollar"] == pytest.approx(40000 / 3000)
    # the pool of targets short of engaged is 0: all 160 are missing
    assert plan["gap"]["targeted"] == 160
    # the measured rates: 3 engaged accounts (A1 by skipping it), 2 became mqa (A1, B1); under
    # 30 accounts, so the all-tier figure stands in and says so
    rate = plan["rates"]["conversion"]["engaged_mqa"]
    assert rate["value"] == pytest.approx(2 / 3)
    assert rate["accounts"] == 3
    assert rate["fallback"] is True
    assert plan["rates"]["deal_size"]["value"] == pytest.approx(40000)
    assert [m["month"] for m in plan["by_month"]][-1] == "2027-06-01"


def test_a_rep_preview_rests_on_their_accounts(api, book, alice):
    plan = api(alice).post(PREVIEW, _body(), format="json").json()
    # A1 and A2, both engaged (A1 by skipping)
    assert plan["rates"]["conversion"]["targeted_engaged"]["accounts"] == 2
    assert plan["rates"]["conversion"]["targeted_engaged"]["value"] == pytest.approx(1.0)
    # Her channels only (Bob's display is not among them), with what each outcome cost.
    email, event = plan["channels"]
    assert (email["channel"], event["channel"]) == ("email", "event")
    assert email["engaged"] == 0.5
    assert email["cost_per_engaged"] == 6000
    assert email["cost_per_mqa"] is None  # no account became mqa on email


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target": 0}, "target"),
        ({"kind": "bookings"}, "kind"),
        ({"end": "2026-12-01", "start": "2027-01-01"}, "end"),
        ({"tiers": [4]}, "tiers"),
        ({"tiers": []}, "tiers"),
        ({"model": "magic"}, "model"),
        ({"playbook": 999999}, "playbook"),
        ({"overrides": {"conversion": {"engaged_mqa": 1.5}}}, "overrides"),
        ({"overrides": {"deal_size": -5}}, "overrides"),
        ({"overrides": {"channel_mix": {"email": "half"}}}, "overrides"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, book, diana, change, field):
    response = api(diana).post(PREVIEW, _body(**change), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_a_plan_without_history_to_rest_on_says_what_to_set(api, db, diana):
    response = api(diana).post(PREVIEW, _body(overrides={}), format="json")
    assert response.status_code == 400
    assert "set it by hand" in response.json()["error"]["message"]


def test_a_mix_on_a_channel_without_opportunities_is_refused(api, book, diana):
    body = _body(overrides=OVERRIDES | {"channel_mix": {"email": 0.5, "display": 0.5}})
    response = api(diana).post(PREVIEW, body, format="json")
    assert response.status_code == 400
    assert "display has no attributed opportunity" in response.json()["error"]["message"]


def test_the_plan_exports_as_csv_with_percentages_and_ranges(api, book, diana):
    response = api(diana).post(EXPORT, _body(), format="json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "Section,Item,Value,Low (80 %),High (80 %),Accounts,Note"
    assert "Assumption,Target → engaged conversion,50.0%,,,," in lines
    assert any(line.startswith("Needed,Target accounts,160.0,") for line in lines)
    assert any(line.startswith('Budget,email,"$60,000"') for line in lines)
    # Each channel's costs: email's $3,000 over half an engaged account, display's $500 over one.
    assert (
        'Measured,email cost per engaged account,"$6,000",,,,spend over 0.5 attributed accounts'
        in lines
    )
    assert (
        "Measured,display cost per engaged account,$500,,,,spend over 1.0 attributed accounts"
        in lines
    )
    assert "Measured,display cost per MQA,,,,,spend over 0.0 attributed accounts" in lines


# --- Saved plans: /api/plans/ ------------------------------------------------------------------

PLANS = "/api/plans/"


def _csv(response) -> list[str]:
    return b"".join(response.streaming_content).decode("utf-8-sig").splitlines()


def test_a_saved_plan_is_the_preview_as_it_stood_and_exports_the_same_csv(api, book, diana):
    client = api(diana)
    response = client.post(PLANS, _body(name="H1 from tier 1"), format="json")
    assert response.status_code == 201, response.content
    saved = response.json()
    assert saved["name"] == "H1 from tier 1"
    assert saved["created_by"] == "Diana"
    assert (saved["kind"], saved["tiers"], saved["goal"]) == ("revenue", [1, 2], None)
    # One format: what the preview answers for the same body, figure for figure.
    assert saved["plan"] == client.post(PREVIEW, _body(), format="json").json()
    assert client.get(f"{PLANS}{saved['id']}/").json() == saved
    listed = client.get(PLANS).json()["results"]
    assert [p["id"] for p in listed] == [saved["id"]]
    assert listed[0] == {k: v for k, v in saved.items() if k != "plan"}  # figures: one by one
    exported = _csv(client.get(f"{PLANS}{saved['id']}/export/"))
    assert exported == _csv(client.post(EXPORT, _body(), format="json"))


def test_marketers_read_saved_plans_reps_see_none_and_only_planners_save(
    api, book, diana, maria, alice
):
    saved = api(diana).post(PLANS, _body(name="Mine"), format="json").json()
    assert api(maria).get(f"{PLANS}{saved['id']}/").status_code == 200
    assert api(maria).post(PLANS, _body(name="Hers"), format="json").status_code == 403
    rep = api(alice)
    assert rep.get(PLANS).json()["results"] == []
    assert rep.get(f"{PLANS}{saved['id']}/").status_code == 404
    assert rep.get(f"{PLANS}{saved['id']}/export/").status_code == 404
    assert rep.post(PLANS, _body(name="Rep's"), format="json").status_code == 403


def test_saving_a_plan_that_cannot_be_planned_is_a_400_in_words(api, db, diana):
    response = api(diana).post(PLANS, _body(name="No history", overrides={}), format="json")
    assert response.status_code == 400
    assert "set it by hand" in response.json()["error"]["message"]
    response = api(diana).post(PLANS, _body(), format="json")
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_a_saved_plan_turns_into_goals_once(api, book, diana, maria):
    saved = api(diana).post(PLANS, _body(name="H1 from tier 1"), format="json").json()
    owners = {"parent": diana.pk, "opportunity": diana.pk, "mqa": maria.pk, "engaged": maria.pk}
    goals = f"{PLANS}{saved['id']}/goals/"
    assert api(maria).post(goals, owners, format="json").status_code == 403
    response = api(diana).post(goals, owners, format="json")
    assert response.status_code == 201, response.content
    parent = Goal.objects.get(pk=response.json()["goal"])
    assert parent.metric == "revenue_won"
    assert sorted(parent.children.values_list("metric", flat=True)) == [
        "engaged_accounts",
        "mqa_accounts",
        "opportunity_accounts",
    ]
    again = api(diana).post(goals, owners, format="json")
    assert again.status_code == 400
    assert "already made" in again.json()["error"]["message"]
    assert api(diana).get(f"{PLANS}{saved['id']}/").json()["goal"] == parent.pk
    missing = api(diana).post(goals, {"parent": diana.pk}, format="json")
    assert missing.status_code == 400
    assert "engaged" in missing.json()["error"]["fields"]


def test_setting_a_saved_plans_budgets_twice_changes_nothing_the_second_time(api, book, diana):
    playbook = _playbook(diana, "Tier 1 nurture", [1])
    _spend(playbook, "email", 100, book["a1"])  # the only playbook with email spend
    saved = api(diana).post(PLANS, _body(name="H1"), format="json").json()
    budgets = f"{PLANS}{saved['id']}/budgets/"
    first = api(diana).post(budgets, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["changed"] == [playbook.pk]
    playbook.refresh_from_db()
    # The plan's whole email budget ($60,000): the only playbook in scope.
    assert playbook.budget == pytest.approx(60000)
    assert api(diana).post(budgets, format="json").json()["changed"] == []
