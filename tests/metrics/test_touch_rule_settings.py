"""Touch rules end to end: the stored default, a changed rule after the recompute, the page and
who may use it, and the line every dashboard shows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from abm.audit import AuditAction
from abm.models import AuditEvent, Job, RunKind, RunStatus
from abm.navigation import nav_items
from accounts.models import Opportunity
from dashboards.opportunity_filtering import influenced_q
from metrics.engine.runner import recompute_all
from metrics.models import AttributionCredit, MetricRollup, TouchRule
from metrics.touch_rule_store import load_touch_rules, touch_rules_save
from metrics.touch_rules import TouchRules
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory, StepFactory

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)
URL = "/metrics/touch-rules/"
# DOMAIN.md's default, written out (the settings' points >= 1, plus three 1:1 step kinds).
DEFAULT_ALWAYS = {
    "email_open",
    "email_click",
    "email_reply",
    "web_visit",
    "content_download",
    "form_fill",
    "ad_click",
    "event_attended",
    "webinar_attended",
    "meeting",
    "call_connected",
    "intent_signal",
}
DEFAULT_STEPS = {"direct_mail_sent", "email_sent", "linkedin_message"}


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


@pytest.fixture
def world(db):
    """Deal A (9 000): impression from a display step ($5) 30 d, web visit 20 d, direct mail from
    a playbook step ($50) 10 d, impression outside playbooks ($5) 5 d before NOW. Deal B (1 000):
    only an impression from the display step ($5). Both created a day before NOW."""
    display = StepFactory(channel="display")
    mail = StepFactory(channel="direct_mail")
    a, b = AccountFactory(tier=1), AccountFactory(tier=1)

    def impression(account, days, step):
        ActivityFactory(
            account=account,
            channel="display",
            kind="ad_impression",
            direction="outbound",
            cost=Decimal("5"),
            occurred_at=days_ago(days),
            step=step,
        )

    impression(a, 30, display)
    ActivityFactory(account=a, channel="content", kind="web_visit", occurred_at=days_ago(20))
    ActivityFactory(
        account=a,
        channel="direct_mail",
        kind="direct_mail_sent",
        direction="outbound",
        cost=Decimal("50"),
        occurred_at=days_ago(10),
        step=mail,
    )
    impression(a, 5, None)
    impression(b, 15, display)
    deal_a = OpportunityFactory(account=a, amount=Decimal("9000"), created_at=days_ago(1))
    deal_b = OpportunityFactory(account=b, amount=Decimal("1000"), created_at=days_ago(1))
    return {"deal_a": deal_a, "deal_b": deal_b}


def linear_pipeline_by_channel() -> dict[str, float]:
    rows = (
        AttributionCredit.objects.filter(model="linear", kind="pipeline")
        .values("channel")
        .annotate(total=Sum("credit"))
    )
    return {row["channel"]: round(float(row["total"]), 2) for row in rows}


def rollup_total(metric: str, **filters) -> float:
    rows = MetricRollup.objects.filter(metric=metric, **filters)
    return float(rows.aggregate(total=Sum("value"))["total"] or 0)


def with_impressions() -> TouchRules:
    rules = load_touch_rules()
    return TouchRules.of(rules.always | {"ad_impression"}, rules.step_with_cost)


# --- The rule and the recompute ---------------------------------------------------------------


def test_the_default_is_domains_rule_without_any_stored_row(db):
    assert not TouchRule.objects.exists()
    rules = load_touch_rules()
    assert (rules.always, rules.step_with_cost) == (DEFAULT_ALWAYS, DEFAULT_STEPS)


def test_by_default_an_impression_is_no_touch_but_its_cost_is_spend(world):
    result = recompute_all(now=NOW)

    # Deal A's journey is the visit and the mail: 4 500 each. Display gets nothing; deal B has
    # no touch at all.
    assert linear_pipeline_by_channel() == {"content": 4500.0, "direct_mail": 4500.0}
    assert not AttributionCredit.objects.filter(opportunity=world["deal_b"]).exists()
    # Three impressions at $5 still cost $15.
    assert rollup_total("spend", channel="display") == pytest.approx(15.0)
    # Influenced: deal A (9 000) of 10 000 created; B was only shown ads.
    assert rollup_total("influenced") == pytest.approx(9000.0)
    assert rollup_total("opportunities") == pytest.approx(10000.0)
    # The drill-down behind "marketing-influenced" lists the same deal.
    assert set(Opportunity.objects.filter(influenced_q()).values_list("pk", flat=True)) == {
        world["deal_a"].pk
    }
    assert result["touch_rules"] == {
        "always": sorted(DEFAULT_ALWAYS),
        "step_with_cost": sorted(DEFAULT_STEPS),
    }


def test_a_changed_rule_changes_credits_and_influence_after_the_recompute(world, maria):
    recompute_all(now=NOW)
    touch_rules_save(rules=with_impressions(), by=maria)
    # Saving computes nothing: the figures wait for the recompute.
    assert linear_pipeline_by_channel() == {"content": 4500.0, "direct_mail": 4500.0}

    recompute_all(now=NOW)

    # Deal A: four touches at 2 250, two of them display; deal B: one display touch, 1 000.
    assert linear_pipeline_by_channel() == {
        "display": 5500.0,
        "content": 2250.0,
        "direct_mail": 2250.0,
    }
    assert rollup_total("spend", channel="display") == pytest.approx(15.0)
    assert rollup_total("influenced") == pytest.approx(10000.0)
    assert set(Opportunity.objects.filter(influenced_q()).values_list("pk", flat=True)) == {
        world["deal_a"].pk,
        world["deal_b"].pk,
    }


def test_a_direct_mail_outside_playbooks_needs_its_kind_switched_on(world, maria):
    rules = load_touch_rules()
    touch_rules_save(
        rules=TouchRules.of(rules.always - {"web_visit"}, rules.step_with_cost), by=maria
    )
    recompute_all(now=NOW)
    # Without visits deal A's only touch is the mail from the playbook step.
    assert linear_pipeline_by_channel() == {"direct_mail": 9000.0}


# --- The page -----------------------------------------------------------------------------------


def post_data(rules: TouchRules) -> dict:
    data = {kind: "on" for kind in rules.always}
    data.update({f"{kind}__step": "on" for kind in rules.step_with_cost})
    return {**data, "save": "1"}


def test_a_rep_may_not_open_or_post_the_page(client, alice):
    client.force_login(alice)
    assert client.get(URL).status_code == 403
    assert client.post(URL, post_data(with_impressions())).status_code == 403
    assert not TouchRule.objects.exists()


def test_a_director_reads_the_rules_but_cannot_change_them(client, diana):
    client.force_login(diana)
    response = client.get(URL)
    page = response.content.decode()

    assert response.status_code == 200
    assert "Read-only" in page
    assert "Save and recompute" not in page
    assert '<input type="checkbox" name="ad_impression" disabled' in page
    assert '<input type="checkbox" name="web_visit" disabled id="id_web_visit" checked>' in page
    assert client.post(URL, post_data(with_impressions())).status_code == 403
    assert not TouchRule.objects.exists()
    assert not Job.objects.exists()


def test_the_page_labels_each_kind_with_its_points_and_default(client, maria):
    client.force_login(maria)
    response = client.get(URL)
    page = response.content.decode()

    assert response.status_code == 200
    assert 'data-testid="touch-rule-ad_impression"' in page
    row = page.split('data-testid="touch-rule-ad_impression"')[1].split("</tr>")[0]
    assert "Ad impression" in row
    assert ">0.1<" in row
    assert "Not a touch" in row
    mail = page.split('data-testid="touch-rule-direct_mail_sent"')[1].split("</tr>")[0]
    assert "As a playbook step with a cost" in mail
    assert 'name="direct_mail_sent__step"' in mail


def test_saving_stores_audits_and_queues_a_recompute_without_running_it(client, maria, world):
    recompute_all(now=NOW)
    credits_before = linear_pipeline_by_channel()
    client.force_login(maria)

    response = client.post(URL, post_data(with_impressions()))

    assert response.status_code == 302
    assert TouchRule.objects.count() == 17
    assert TouchRule.objects.get(kind="ad_impression").counts_as_touch
    event = AuditEvent.objects.get(action=AuditAction.TOUCH_RULES_SAVED)
    assert event.actor == maria
    assert event.changes == {"ad_impression": ["no", "touch"]}
    run = Job.objects.get(kind=RunKind.INCREMENTAL)
    assert run.status == RunStatus.QUEUED
    assert run.params == {"reason": "touch rules changed"}
    assert linear_pipeline_by_channel() == credits_before

    # The same rules again: nothing to record, nothing to recompute.
    client.post(URL, post_data(with_impressions()))
    assert AuditEvent.objects.filter(action=AuditAction.TOUCH_RULES_SAVED).count() == 1


def test_restoring_the_defaults(client, root):
    touch_rules_save(rules=TouchRules.of({"ad_impression"}), by=root)
    client.force_login(root)

    response = client.post(URL, {"defaults": "1"})

    assert response.status_code == 302
    rules = load_touch_rules()
    assert (rules.always, rules.step_with_cost) == (DEFAULT_ALWAYS, DEFAULT_STEPS)


def test_the_navigation_links_the_page_for_those_who_may_see_it(maria, diana, alice):
    def labels(user):
        return [item["label"] for item in nav_items(user)]

    assert "Touch rules" in labels(maria)
    assert "Touch rules" in labels(diana)
    assert "Touch rules" not in labels(alice)


# --- Dashboards ---------------------------------------------------------------------------------

DASHBOARDS = ["/metrics/director/", "/metrics/marketer/", "/metrics/sales/"]


def rule_line(response) -> str:
    page = response.content.decode()
    return page.split('data-testid="touch-rule-line"')[1].split("</p>")[0]


@pytest.mark.parametrize("url", DASHBOARDS)
@pytest.mark.parametrize(("user", "link"), [("maria", "(change)"), ("diana", "(see)")])
def test_every_dashboard_names_the_rule_in_force(client, request, url, user, link):
    client.force_login(request.getfixturevalue(user))
    line = rule_line(client.get(url))

    assert "ad impressions and other outbound-only activity excluded" in line
    assert f'href="{URL}"' in line
    assert link in line


def test_a_rep_sees_the_rule_without_a_link(client, alice):
    client.force_login(alice)
    line = rule_line(client.get("/metrics/sales/"))

    assert "Touches counted" in line
    assert URL not in line


def test_the_dashboard_names_the_rule_its_figures_follow(client, maria):
    Job.objects.create(
        kind=RunKind.FULL,
        status=RunStatus.DONE,
        percent=100,
        finished_at=timezone.now(),
        result={"touch_rules": {"always": ["ad_impression", "web_visit"], "step_with_cost": []}},
    )
    client.force_login(maria)
    line = rule_line(client.get("/metrics/director/"))

    assert "custom rule" in line
    assert "Web visit, Ad impression" in line
