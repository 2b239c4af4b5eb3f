"""A small but rich workspace for the reconciliation suite, built with the ORM and factories.

Everything happens at 12:00 UTC on whole days before ``now`` (so days between two events are
whole numbers and no figure depends on a time-of-day convention), over the 9 months up to
yesterday. Random choices use a fixed seed: the data are the same on every run, relative to
today's month.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass, field
from decimal import Decimal

from abm.lib.channels import ActivityKind as K
from abm.lib.channels import Channel as C
from abm.lib.channels import Direction
from abm.models import Role, User
from accounts.models import OpportunityStageChange
from metrics.models import BudgetLine, JourneyStageChange
from playbooks.models import Activity, ActivitySource, EnrolmentStatus, PlaybookStatus, TaskStatus
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    EnrolmentFactory,
    LeadFactory,
    OpportunityFactory,
    PlaybookFactory,
    StageFactory,
    StepFactory,
    TaskFactory,
)

STAGES = ["targeted", "aware", "engaged", "mqa", "opportunity", "customer"]
SENIORITIES = ["c_level", "vp", "director", "manager", "other"]
ROLES = ["decision_maker", "champion", "influencer", "user", "blocker", "unknown"]
# Inbound responses: (kind, channel, cost). Kinds whose points x the contact's multiplier could
# pass the daily cap of 20 (meeting, event) only ever happen with a manager or without a contact.
RESPONSES = [
    (K.EMAIL_OPEN, C.EMAIL, "0"),
    (K.EMAIL_CLICK, C.EMAIL, "0"),
    (K.EMAIL_REPLY, C.EMAIL, "0"),
    (K.WEB_VISIT, C.WEB_PERSONALISATION, "0"),
    (K.CONTENT_DOWNLOAD, C.CONTENT, "0"),
    (K.FORM_FILL, C.CONTENT, "0"),
    (K.AD_CLICK, C.PAID_SOCIAL, "0"),
    (K.WEBINAR_ATTENDED, C.WEBINAR, "45.50"),
    (K.CALL_CONNECTED, C.PHONE, "0"),
    (K.INTENT_SIGNAL, C.CONTENT, "0"),
]
CAPPED = [(K.EVENT_ATTENDED, C.EVENT, "310.25"), (K.MEETING, C.SDR_OUTREACH, "0")]


@dataclass
class Dataset:
    now: dt.datetime
    director: User
    marketer: User
    reps: list[User]
    playbooks: list = field(default_factory=list)


def at(now: dt.datetime, days_ago: int) -> dt.datetime:
    """12:00 UTC, ``days_ago`` days before today."""
    day = now.date() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def build(now: dt.datetime) -> Dataset:
    rng = random.Random(20261202)
    seq = iter(range(1, 100_000))

    def user(name, role):
        return User.objects.create(
            username=f"rec-{name}", first_name=name.capitalize(), role=role, email=f"{name}@x.io"
        )

    data = Dataset(
        now=now,
        director=user("dora", Role.DIRECTOR),
        marketer=user("mark", Role.MARKETER),
        reps=[user("rita", Role.SALES), user("sam", Role.SALES), user("tess", Role.SALES)],
    )
    tiers = [1] * 8 + [2] * 8 + [3] * 6 + [None] * 8
    accounts = []
    for index, tier in enumerate(tiers):
        owner = None if index in (5, 25) else data.reps[index % 3]
        accounts.append(
            AccountFactory(
                name=f"Rec {index:02d}",
                domain=f"rec{index:02d}.example",
                tier=tier,
                owner=owner,
                fit_score=round(rng.uniform(20, 95), 1),
            )
        )
    contacts = {}
    for account in accounts:
        contacts[account.pk] = [
            ContactFactory(
                account=account,
                email=f"c{next(seq)}@{account.domain}",
                seniority=rng.choice(SENIORITIES),
                buying_role=rng.choice(ROLES),
            )
            for _ in range(rng.randint(2, 4))
        ]
        contacts[account.pk].append(
            ContactFactory(
                account=account,
                email=f"m{next(seq)}@{account.domain}",
                seniority="manager",
                buying_role="user",
            )
        )

    # Playbooks: two stages each; marketing steps with and without unit costs, one sales step.
    specs = [
        (
            "Rec strategic",
            [1],
            [(C.DIRECT_MAIL, "marketing", "120.00"), (C.EMAIL, "marketing", "0")],
        ),
        ("Rec cluster", [2], [(C.LINKEDIN, "marketing", "7.25"), (C.EMAIL, "marketing", "0")]),
        ("Rec programmatic", [3], [(C.EMAIL, "marketing", "0.40"), (C.CONTENT, "marketing", "0")]),
    ]
    for name, audience, steps in specs:
        playbook = PlaybookFactory(
            name=name, audience_tiers=audience, owner=data.marketer, status=PlaybookStatus.ACTIVE
        )
        find = StageFactory(playbook=playbook, name="Find", order=0)
        nurture = StageFactory(playbook=playbook, name="Nurture", order=1, exit_stage="mqa")
        made = [
            StepFactory(stage=find, order=i, channel=ch, owner_role=role, unit_cost=Decimal(cost))
            for i, (ch, role, cost) in enumerate(steps)
        ]
        made.append(StepFactory(stage=nurture, order=0, channel=C.SDR_OUTREACH, owner_role="sales"))
        data.playbooks.append((playbook, [find, nurture], made))

    step_kind = {
        C.DIRECT_MAIL: K.DIRECT_MAIL_SENT,
        C.EMAIL: K.EMAIL_SENT,
        C.LINKEDIN: K.LINKEDIN_MESSAGE,
        C.CONTENT: K.EMAIL_SENT,
        C.SDR_OUTREACH: K.CALL_ATTEMPT,
    }

    def activity(account, kind, channel, days_ago, cost="0", *, contact=None, step=None, out=False):
        return ActivityFactory(
            account=account,
            contact=contact,
            kind=kind,
            channel=channel,
            direction=Direction.OUTBOUND if out else Direction.INBOUND,
            occurred_at=at(now, days_ago),
            cost=Decimal(cost),
            step=step,
            source=ActivitySource.TASK if step is not None else ActivitySource.IMPORT,
            external_id=f"rec-{next(seq)}",
        )

    # Enrolments with tasks; done tasks record their step's touch.
    sales_due = itertools.cycle([-9, -3, 0, 2, 5, 30, 70])  # days ago: < 1 is not yet due
    for playbook, (find, nurture), steps in data.playbooks:
        members = [a for a in accounts if a.tier in playbook.audience_tiers]
        for position, account in enumerate(members):
            holdout = position in (1, 4)
            status = (
                EnrolmentStatus.HOLDOUT
                if holdout
                else [EnrolmentStatus.ACTIVE] * 3
                + [EnrolmentStatus.COMPLETED, EnrolmentStatus.EXITED]
            )
            if not holdout:
                status = status[position % 5]
            enrolled = 240 - 7 * position
            enrolment = EnrolmentFactory(
                account=account,
                playbook=playbook,
                status=status,
                current_stage=(find if position % 2 else nurture)
                if status == EnrolmentStatus.ACTIVE
                else None,
                entered_stage_at=at(now, enrolled),
                enrolled_at=at(now, enrolled),
            )
            if holdout:
                continue
            for index, step in enumerate(steps):
                sales = step.owner_role == "sales"
                due = enrolled - 30 * index - rng.randint(0, 20)
                if sales:  # the reps' queues: overdue, due this week, due later
                    due = next(sales_due)
                state = rng.choice([TaskStatus.DONE] * 3 + [TaskStatus.SKIPPED, TaskStatus.OPEN])
                if due < 1 or (sales and due < 7):
                    state = TaskStatus.OPEN  # not due yet, due today, or a rep's overdue work
                TaskFactory(
                    enrolment=enrolment,
                    account=account,
                    step=step,
                    channel=step.channel,
                    owner_role=step.owner_role,
                    assignee=account.owner if sales else data.marketer,
                    due_at=at(now, due),
                    status=state,
                    completed_at=at(now, max(due, 1)) if state == TaskStatus.DONE else None,
                )
                if state == TaskStatus.DONE:
                    activity(
                        account,
                        step_kind[step.channel],
                        step.channel,
                        max(due, 1),
                        str(step.unit_cost),
                        step=step,
                        out=True,
                    )
                    if step.channel == C.EMAIL and rng.random() < 0.7:
                        # A response to the playbook's email: an inbound touch of the playbook.
                        activity(
                            account,
                            rng.choice([K.EMAIL_CLICK, K.EMAIL_REPLY]),
                            C.EMAIL,
                            max(due - rng.randint(0, 3), 1),
                            contact=rng.choice(contacts[account.pk]),
                            step=step,
                        )

    # Responses outside playbooks, ad impressions with cost, events and meetings.
    for account in accounts:
        if account.name == "Rec 24":
            continue  # no activity at all: its deal has an empty journey
        people = contacts[account.pk]
        for _ in range(rng.randint(4, 14)):
            kind, channel, cost = rng.choice(RESPONSES)
            activity(account, kind, channel, rng.randint(1, 270), cost, contact=rng.choice(people))
        for _ in range(rng.randint(0, 2)):
            kind, channel, cost = rng.choice(CAPPED)
            manager = people[-1] if rng.random() < 0.5 else None
            activity(account, kind, channel, rng.randint(1, 270), cost, contact=manager)
        for _ in range(rng.randint(1, 5)):
            activity(
                account,
                K.AD_IMPRESSION,
                rng.choice([C.DISPLAY, C.PAID_SOCIAL]),
                rng.randint(1, 270),
                f"{rng.randint(1, 900) / 100:.2f}",
                out=True,
            )
        if rng.random() < 0.4:
            activity(account, K.CALL_ATTEMPT, C.PHONE, rng.randint(1, 270), out=True)

    # Opportunities: created over the months, won, lost or open, with their stage history.
    for index, account in enumerate(accounts):
        if index % 4 == 3:
            continue  # accounts without deals
        for _ in range(1 if index % 4 else 2):
            created_ago = rng.randint(15, 250)
            outcome = rng.choice(["closed_won", "closed_won", "closed_lost", "open"])
            amount = Decimal(rng.randint(500_000, 9_000_000)) / 100
            closed_ago = created_ago - rng.randint(10, created_ago - 2)
            opp = OpportunityFactory(
                account=account,
                name=f"Rec deal {next(seq)}",
                amount=amount,
                created_at=at(now, created_ago),
                stage="proposal" if outcome == "open" else outcome,
                closed_at=None if outcome == "open" else at(now, closed_ago),
                source=rng.choice(["marketing", "marketing", "sales", "partner"]),
            )
            OpportunityStageChange.objects.create(
                opportunity=opp, from_stage="", to_stage="qualification", changed_at=opp.created_at
            )
            final = "proposal" if outcome == "open" else outcome
            OpportunityStageChange.objects.create(
                opportunity=opp,
                from_stage="qualification",
                to_stage=final,
                changed_at=opp.closed_at or at(now, created_ago - 5),
            )

    # Journey stage history: each target climbs (sometimes skipping a stage) over the months.
    for index, account in enumerate(accounts):
        if account.tier is None:
            continue
        top = rng.randint(1, 5)
        path = [s for s in STAGES[: top + 1] if not (s == "mqa" and index % 4 == 0)]
        day = rng.randint(200, 270)
        previous = ""
        for stage in path:
            JourneyStageChange.objects.create(
                account=account, from_stage=previous, to_stage=stage, changed_at=at(now, day)
            )
            previous, day = stage, max(day - rng.randint(15, 60), 2)
        account.stage = previous
        account.save(update_fields=["stage"])

    # Leads: handed off over the months, followed up on time, late, or not at all.
    for index, account in enumerate(accounts[:24]):
        handed = at(now, rng.randint(4, 260)) + dt.timedelta(hours=rng.randint(0, 6))
        follow = [None, 5, 30, 47, 60, 120][index % 6]
        people = contacts[account.pk]
        LeadFactory(
            account=account,
            contact=people[0],
            source_channel=rng.choice([C.WEBINAR, C.CONTENT, C.EVENT, C.PAID_SOCIAL]),
            handed_off_at=handed,
            first_follow_up_at=None if follow is None else handed + dt.timedelta(hours=follow),
            status=rng.choice(["new", "working", "qualified", "disqualified"]),
        )
    # Recent hand-offs (this month unless today is one of its first two days): one just past the
    # SLA and followed up on time, two still inside it without a follow-up (waiting: left out of
    # the month's shares).
    for account, hours_ago, follow in (
        (accounts[0], 50, 5),
        (accounts[1], 3, None),
        (accounts[2], 3, None),
    ):
        handed = now - dt.timedelta(hours=hours_ago)
        LeadFactory(
            account=account,
            contact=contacts[account.pk][0],
            source_channel=C.WEBINAR,
            handed_off_at=handed,
            first_follow_up_at=None if follow is None else handed + dt.timedelta(hours=follow),
            status="new",
        )

    # Budget lines: per playbook and per channel, each in the month of that work's latest costed
    # activity (so a filtered dashboard has a share of cost to allocate the line by).
    def latest_costed(**where):
        last = (
            Activity.objects.filter(cost__gt=0, **where)
            .order_by("-occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
        return last.date().replace(day=1)

    for playbook, _stages, _steps in data.playbooks:
        BudgetLine.objects.create(
            playbook=playbook,
            date=latest_costed(step__stage__playbook=playbook),
            amount=Decimal("2500.00"),
            description="agency",
        )
    for channel, amount in ((C.EVENT, "4100.10"), (C.PAID_SOCIAL, "1800.00")):
        BudgetLine.objects.create(
            channel=channel, date=latest_costed(channel=channel), amount=Decimal(amount)
        )
    # A content budget: content work carries no cost, so the line is shared by activity count.
    assert not Activity.objects.filter(channel=C.CONTENT, cost__gt=0).exists()
    last = (
        Activity.objects.filter(channel=C.CONTENT)
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    BudgetLine.objects.create(
        channel=C.CONTENT, date=last.date().replace(day=1), amount=Decimal("900.00")
    )
    return data
