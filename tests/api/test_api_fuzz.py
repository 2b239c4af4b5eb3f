"""Schemathesis against our own OpenAPI schema, in-process through the WSGI app.

Every operation gets generated requests, sent as each role in turn (two reps, a marketer, a
director, an admin) with their personal tokens: no answer is a 5xx, every answer matches the
schema (status documented, body conforming), and a rep's answers never carry the other rep's
account.
"""

import os
import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.generation.meta import TestPhase

from abm.models import Role
from abm.tokens import token_create
from abm.wsgi import application
from tests.conftest import make_user
from tests.factories import AccountFactory, ContactFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db
# The examples are derandomized, so both legs of `make test` would send the same requests: the
# full run belongs to the PostgreSQL leg, the embedded leg keeps a quick pass. Schemathesis's
# coverage phase (boundary values, wrong types, every other method) ignores max_examples: on both
# legs it took 8 of the embedded leg's 26 minutes, so it runs on PostgreSQL only.
FULL_RUN = "postgres" in os.environ.get("DATABASE_URL", "")
EXAMPLES = 5 if FULL_RUN else 2
SECRET_DOMAIN = "bobs-secret-account.com"
SECRET_NAME = "Bob Only Holdings"
# Refusals no schema can state: an id of nothing the caller may see, a page past the last, a
# value another row already has, a rule across fields.
UNSTATABLE = re.compile(
    r"There (is|are) no \w+ [-\d, ]+ that you can see\.|Invalid pk \"-?\d+\" - object does not exist\."
    r"|^Invalid page\.$|already exists\.|^The fields [\w, ]+ must make a unique set\.$"
    r"|^This [\w ]+ cannot be used\.$"
    r"|“\w+” \(\d+\) was ignored: Select a valid choice\. \d+ is not one of"
    r"|A custom period needs|a custom period spans at most|Starter playbooks are templates|Say what the money was for"
    # The planner: a period's end against its start, and assumptions the history cannot carry.
    r"|A plan's period|set it by hand\.|has no attributed opportunity|channel mix must add up"
    # A goal's SMART rules across its fields, against today and the data (goals/smart.py), and
    # the teams a role may set.
    r"|^Specific: Say for which accounts: choose tiers, a playbook or a rep's accounts\.$"
    r"|^Measurable: “.*” reads like a task, not a goal\. A task is work you do "
    r"|^Measurable: A rate can be at most 100%\.$"
    r"|^Attainable: A target of .+ is no improvement on the baseline, .+ Set a target above the baseline\.$"
    r"|^Timely: The end date must be after the start date\.$"
    r"|^Timely: The period ended on \w{3} \d{1,2}, \d{4}: a goal for a past period is a report, not a goal\. Choose an end date after today\.$"
    r"|^You may not set \w+ goals: directors and admins set any goal, marketers marketing goals\.$"
    # A goal's milestones against each other and against its period, metric and target.
    r"|^Two milestones share a date; keep one per date\.$"
    r"|^A milestone on \w{3} \d{1,2}, \d{4} is outside the period; milestones fall between "
    r"|^A rate milestone can be at most 100%\.$"
    r"|^Milestones of a running total cannot go down from one date to the next\.$"
    r"|^A milestone cannot be above the target\.$"
    # A part of a goal against its parent (goals/forms.py).
    r"|^A part of “.*” measures its metric too\.$|^A part must fit in its parent's period \("
    r"|^Choose among the parent's tiers\.$|^Keep the parent's (playbook|rep)\.$"
    r"|^The parts would add up to .+, more than the parent's .+\.$"
    r"|^Its parts add up to .+: lower their targets first\.$"
    r"|^You may not change goal \d+, so you may not add parts to it\.$"
    r"|^Goal \d+ is a part of this goal; it cannot be its parent\.$"
    # A saved account filter's ranges (accounts/account_filters.py).
    r"|^“(?P<range>Fit|Engagement) from” \(\S+\) is above “(?P=range) to” \(\S+\): both were ignored\.$"
    r"|^“Reached from” \(\S+\) is after “Reached to” \(\S+\)\.$"
    r"|^“Reached from” and “Reached to” need a reached stage\.$"
)
# Found when these checks were turned on (issue 17) and owned by other work: each is a known
# ST2xx gap of one operation, to be removed from here when fixed. Anything else fails the test.
KNOWN_GAPS = {
    # By design, not a gap: a batch's items are validated one by one and each refused item is
    # reported inside the 2xx answer, so one bad item never costs the client the whole batch.
    ("ST201", "POST /api/activities/batch/"),
}


def _known_gap(code: str, case) -> bool:
    return (code, f"{case.method.upper()} {case.operation.path}") in KNOWN_GAPS


def refuses_what_the_schema_forbids(ctx, response, case):
    if _known_gap("ST201", case):
        return None
    return checks.negative_data_rejection(ctx, response, case)


def accepts_what_the_schema_allows(ctx, response, case):
    if _known_gap("ST202", case) or _refused_for_an_unstatable_reason(response):
        return None
    return checks.positive_data_acceptance(ctx, response, case)


def _refused_for_an_unstatable_reason(response) -> bool:
    if response.status_code != 400:
        return False
    error = response.json()["error"]
    messages = [m for problems in error["fields"].values() for m in problems] or [error["message"]]
    return all(UNSTATABLE.search(message) for message in messages)


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    refuses_what_the_schema_forbids,
    accepts_what_the_schema_allows,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # The WSGI handler closes "obsolete" connections around each request; inside the test's
    # transaction that would close it on PostgreSQL. Django's test client does the same.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    # Fuzzing sends many requests a second; the throttle is tested elsewhere.
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api": "1000000/min"}
    rates["ingestion"] = "1000000/min"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    return settings


@pytest.fixture
def world(db):
    """Two reps' books, a marketer, a director and an admin, each with a token."""
    users = {
        "rep": make_user("fuzz_rep", Role.SALES),
        "other_rep": make_user("fuzz_other", Role.SALES),
        "marketer": make_user("fuzz_marketer", Role.MARKETER),
        "director": make_user("fuzz_director", Role.DIRECTOR),
        "admin": make_user("fuzz_admin", Role.ADMIN, is_superuser=True, is_staff=True),
    }
    mine = AccountFactory(name="Rep Visible Co", domain="rep-visible.com", owner=users["rep"])
    secret = AccountFactory(name=SECRET_NAME, domain=SECRET_DOMAIN, owner=users["other_rep"])
    for account in (mine, secret):
        contact = ContactFactory(account=account)
        OpportunityFactory(account=account)
        LeadFactory(account=account, contact=contact)
    tokens = {role: token_create(user=user, name="fuzz")[1] for role, user in users.items()}
    return {"tokens": tokens, "secret_id": secret.pk}


# The coverage phase's cases (boundary values, wrong types, other methods: a few dozen per
# operation) go to the rep, whose answers are checked for the other rep's account, and to the
# admin, who passes every permission and so reaches every validation. All five roles would
# cost minutes of the PostgreSQL leg for the same validation code paths.
COVERAGE_CALLERS = ("rep", "admin")


def _callers(case, tokens: dict[str, str]) -> dict[str, str]:
    if case.meta is not None and case.meta.phase.name == TestPhase.COVERAGE:
        return {role: tokens[role] for role in COVERAGE_CALLERS}
    return tokens


# Read through the app itself (anonymous, no database): the schema is what /api/schema/ serves.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
schema.config.phases.coverage.enabled = FULL_RUN


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_schema_and_its_scopes(case, world):
    for role, token in _callers(case, world["tokens"]).items():
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=CHECKS)
        if role == "rep":
            body = response.text
            assert SECRET_DOMAIN not in body, f"{case.method} {case.formatted_path} leaked"
            assert SECRET_NAME not in body, f"{case.method} {case.formatted_path} leaked"
