"""factory_boy factories for the domain model; tests name the fields that matter to them."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from abm.lib.channels import ActivityKind, Channel, Direction
from accounts.models import Account, Contact, Lead, Opportunity, OpportunityStage
from goals.choices import GoalMetric, GoalTeam
from goals.models import Goal
from playbooks.models import Activity, ActivitySource, Enrolment, Playbook, Stage, Step, Task


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.example")
    industry = "Software"
    employees = 1000
    annual_revenue = Decimal("100000000")
    country = "United States"
    tier = 1


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    first_name = factory.Sequence(lambda n: f"Person{n}")
    last_name = "Example"
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    seniority = "vp"
    buying_role = "decision_maker"


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Deal {n}")
    amount = Decimal("50000")
    stage = OpportunityStage.QUALIFICATION
    created_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=10))


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    account = factory.SubFactory(AccountFactory)
    source_channel = Channel.WEBINAR
    handed_off_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))


class PlaybookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Playbook

    name = factory.Sequence(lambda n: f"Playbook {n}")
    audience_tiers = [1]


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    playbook = factory.SubFactory(PlaybookFactory)
    name = "Find"
    order = 0


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Step

    stage = factory.SubFactory(StageFactory)
    channel = Channel.EMAIL
    subject = "Hello {{ account.name }}"


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment

    account = factory.SubFactory(AccountFactory)
    playbook = factory.SubFactory(PlaybookFactory)
    enrolled_at = factory.LazyFunction(timezone.now)


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    enrolment = factory.SubFactory(EnrolmentFactory)
    account = factory.SelfAttribute("enrolment.account")
    step = factory.SubFactory(
        StepFactory, stage__playbook=factory.SelfAttribute("...enrolment.playbook")
    )
    channel = Channel.EMAIL
    owner_role = "sales"
    due_at = factory.LazyFunction(timezone.now)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    account = factory.SubFactory(AccountFactory)
    channel = Channel.EMAIL
    kind = ActivityKind.EMAIL_CLICK
    direction = Direction.INBOUND
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    source = ActivitySource.IMPORT
    external_id = factory.Sequence(lambda n: f"ext-{n}")


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    name = factory.Sequence(lambda n: f"Goal {n}")
    team = GoalTeam.MARKETING
    metric = GoalMetric.PIPELINE_CREATED
    target = Decimal("1000000")
    start_date = dt.date(2026, 1, 1)
    end_date = dt.date(2026, 3, 31)
