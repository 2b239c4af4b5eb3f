"""Playbook pages read a constant number of queries whatever the number of rows."""

import pytest
from django.urls import reverse
from django.utils import timezone

from playbooks.building import playbook_create, step_add
from playbooks.enrolment import enrol_accounts
from playbooks.lifecycle import playbook_activate
from playbooks.tasking import generate_due_tasks
from tests.factories import AccountFactory, ContactFactory, GoalFactory

pytestmark = pytest.mark.django_db


def build(size: int, *, marketer, rep) -> int:
    """`size` playbooks, each with `size` extra steps per stage and `size` accounts enrolled."""
    goal = GoalFactory(owner=marketer)
    accounts = []
    for i in range(size * 2):
        account = AccountFactory(owner=rep, tier=1, industry=f"Industry {i % 3}")
        ContactFactory(account=account)
        accounts.append(account)
    first = None
    for n in range(size):
        playbook = playbook_create(name=f"Play {n}", by=marketer, audience_tiers=[1], goal=goal)
        for stage in playbook.stages.all():
            for _ in range(size):
                step_add(
                    stage=stage, by=marketer, owner_role="sales", subject="Hi {{ account.name }}"
                )
        playbook_activate(playbook=playbook, by=marketer)
        enrol_accounts(playbook=playbook, account_ids=[a.pk for a in accounts], seed=n)
        first = first or playbook
    generate_due_tasks(now=timezone.now())
    return first.pk


# Session and user, then per page: list = count + page; tasks = one aggregate + one query per due
# group; detail = playbook, stages, steps, enrolment counts, audience count, readiness (enrolled
# accounts per stage), the forms' owners, goals and industries, and for editors the holdout plan
# (not-yet-enrolled count, group sizes); cadence = playbook, stages, steps, counts;
# enrolments = playbook, counts, audience count and not-yet-enrolled count, page count and rows,
# the latest task-generation run;
# new = starters, their stages and steps.
BOUNDS = {
    "playbooks:list": 4,
    "playbooks:tasks": 6,
    "playbooks:detail": 13,
    "playbooks:cadence": 6,
    "playbooks:enrolments": 9,
    "playbooks:new": 5,
}
NEEDS_PK = {"playbooks:detail", "playbooks:cadence", "playbooks:enrolments"}


@pytest.mark.parametrize("size", [1, 5])
@pytest.mark.parametrize("username", ["maria", "alice", "diana"])
def test_playbook_pages_read_a_constant_number_of_queries(
    client, maria, alice, diana, django_assert_max_num_queries, size, username
):
    user = {"maria": maria, "alice": alice, "diana": diana}[username]
    pk = build(size, marketer=maria, rep=alice)
    client.force_login(user)

    for name, bound in BOUNDS.items():
        if name == "playbooks:new" and username != "maria":
            continue
        with django_assert_max_num_queries(bound):
            response = client.get(reverse(name, args=[pk] if name in NEEDS_PK else []))
        assert response.status_code == 200
