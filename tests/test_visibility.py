"""One scoping function per model decides who sees what (DOMAIN.md, "People")."""

import pytest

from accounts.visibility import (
    accounts_visible_to,
    contacts_visible_to,
    leads_visible_to,
    opportunities_visible_to,
)
from metrics.models import AttributionCredit, EngagementScore
from metrics.visibility import (
    attribution_credits_visible_to,
    budget_lines_visible_to,
    engagement_scores_visible_to,
    goals_visible_to,
)
from playbooks.visibility import (
    activities_visible_to,
    enrolments_visible_to,
    playbooks_visible_to,
    tasks_visible_to,
)
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    EnrolmentFactory,
    GoalFactory,
    LeadFactory,
    OpportunityFactory,
    PlaybookFactory,
    TaskFactory,
)


@pytest.fixture
def world(alice, bob):
    """Two accounts, one per rep, each with one row of every child kind, and an unowned one."""
    rows = {}
    for rep in (alice, bob):
        account = AccountFactory(owner=rep)
        opportunity = OpportunityFactory(account=account)
        task = TaskFactory(enrolment=EnrolmentFactory(account=account))
        rows[rep.username] = {
            "account": account,
            "contact": ContactFactory(account=account),
            "opportunity": opportunity,
            "stage_change": opportunity.stage_changes.create(
                to_stage="qualification", changed_at=opportunity.created_at
            ),
            "lead": LeadFactory(account=account),
            "activity": ActivityFactory(account=account),
            "task": task,
            "enrolment": task.enrolment,
        }
    rows["nobody"] = {"account": AccountFactory(owner=None)}
    return rows


SCOPED = [
    (accounts_visible_to, "account"),
    (contacts_visible_to, "contact"),
    (opportunities_visible_to, "opportunity"),
    (leads_visible_to, "lead"),
    (activities_visible_to, "activity"),
    (tasks_visible_to, "task"),
    (enrolments_visible_to, "enrolment"),
]


@pytest.mark.parametrize(("visible_to", "key"), SCOPED)
def test_a_rep_sees_only_rows_of_their_own_accounts(world, alice, visible_to, key):
    assert set(visible_to(alice)) == {world["alice"][key]}


@pytest.mark.parametrize(("visible_to", "key"), SCOPED)
@pytest.mark.parametrize("who", ["maria", "diana", "root"])
def test_marketers_directors_and_admins_see_every_rep_s_rows(request, world, visible_to, key, who):
    user = request.getfixturevalue(who)
    assert {world["alice"][key], world["bob"][key]} <= set(visible_to(user))


def test_unowned_accounts_are_hidden_from_reps_but_not_from_marketers(world, alice, maria):
    assert not accounts_visible_to(alice).filter(pk=world["nobody"]["account"].pk).exists()
    assert accounts_visible_to(maria).filter(pk=world["nobody"]["account"].pk).exists()


def test_anonymous_users_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert not accounts_visible_to(anonymous).exists()
    assert not activities_visible_to(anonymous).exists()
    assert not playbooks_visible_to(anonymous).exists()
    assert not goals_visible_to(anonymous).exists()


def test_stored_metric_rows_follow_their_account(world, alice):
    import datetime as dt

    from django.utils import timezone

    for rep in ("alice", "bob"):
        account, opportunity = world[rep]["account"], world[rep]["opportunity"]
        EngagementScore.objects.create(account=account, score=5, computed_at=timezone.now())
        AttributionCredit.objects.create(
            model="linear",
            kind="pipeline",
            opportunity=opportunity,
            account=account,
            converted_at=timezone.now() - dt.timedelta(days=1),
            channel="email",
            weight=1,
            credit=opportunity.amount,
        )
    own = world["alice"]["account"].pk
    assert set(engagement_scores_visible_to(alice).values_list("account_id", flat=True)) == {own}
    assert set(attribution_credits_visible_to(alice).values_list("account_id", flat=True)) == {own}


def test_a_rep_sees_goals_they_own_or_that_cover_their_accounts(alice, bob, diana):
    own = GoalFactory(owner=alice, team="sales")
    covering = GoalFactory(owner=diana, scope_owner=alice, team="sales")
    other = GoalFactory(owner=bob, team="sales")
    assert set(goals_visible_to(alice)) == {own, covering}
    assert set(goals_visible_to(diana)) == {own, covering, other}


def test_spend_is_hidden_from_reps(alice, maria):
    from metrics.models import BudgetLine

    line = BudgetLine.objects.create(
        playbook=PlaybookFactory(), date="2026-01-01", amount=1000, description="Agency"
    )
    assert not budget_lines_visible_to(alice).exists()
    assert list(budget_lines_visible_to(maria)) == [line]


def test_reps_see_metric_runs_but_not_import_runs(alice, maria):
    from abm.models import Job
    from abm.visibility import jobs_visible_to

    recompute = Job.objects.create(kind="full")
    upload = Job.objects.create(kind="import")
    assert set(jobs_visible_to(alice)) == {recompute}
    assert set(jobs_visible_to(maria)) == {recompute, upload}
