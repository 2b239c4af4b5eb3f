"""A believable, deterministic demo dataset (`manage.py seed_demo`), in DOMAIN.md's vocabulary.

Every number comes from one numpy Generator seeded by `seed`, relative to a fixed "now" (midnight
UTC of `today`), so the same arguments give the same accounts, amounts and timestamps. Columns are
generated with numpy and written in bulk - COPY on PostgreSQL, one executemany per table elsewhere -
with ids allocated here so that rows can point at each other without reading anything back.

The signal the dashboards need is built in on purpose: target accounts get far more touches,
enrolled accounts get the playbook's touches and so respond more than their holdout, and an
opportunity's chance of being created and won rises with the inbound activity of the 90 days before
it, so attribution, lift and holdout comparisons have something to find.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max

from abm.lib.channels import OUTBOUND_KINDS, ActivityKind, Channel, Direction
from abm.lib.db_stats import analyze
from abm.models import Role, User
from accounts.models import (
    ICP,
    Account,
    BuyingRole,
    Contact,
    Lead,
    LeadStatus,
    Opportunity,
    OpportunitySource,
    OpportunityStage,
    OpportunityStageChange,
    Seniority,
)
from accounts.scoring import IcpCriteria, fit_scores
from metrics.models import BudgetLine
from playbooks.models import (
    Activity,
    ActivitySource,
    Enrolment,
    EnrolmentStageChange,
    EnrolmentStatus,
    OwnerRole,
    Playbook,
    PlaybookStatus,
    Stage,
    Step,
)

DEMO_PASSWORD = "demo1234"
DOMAIN_APPS = ("accounts", "playbooks", "metrics")

DAY = 86_400
HOUR = 3_600
WINDOW_DAYS = 365
# Inbound activity counted before an opportunity (DOMAIN.md: "aware" and the engagement window).
ENGAGEMENT_DAYS = 90

# username, role, first name, last name, extra flags
DEMO_USERS: tuple[tuple[str, str, str, str, dict[str, bool]], ...] = (
    ("marketer", Role.MARKETER, "Maya", "Patel", {}),
    ("director", Role.DIRECTOR, "Daniel", "Okafor", {}),
    ("admin", Role.ADMIN, "Ada", "Morgan", {"is_staff": True, "is_superuser": True}),
    ("rep1", Role.SALES, "Ravi", "Shah", {}),
    ("rep2", Role.SALES, "Emma", "Rossi", {}),
    ("rep3", Role.SALES, "Lucas", "Meyer", {}),
    ("rep4", Role.SALES, "Sofia", "Lindqvist", {}),
)
DEMO_EMAIL_DOMAIN = "keystone.example"

INDUSTRIES = (
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Telecommunications",
    "Logistics",
    "Education",
)
INDUSTRY_SHARES = (0.2, 0.15, 0.13, 0.14, 0.11, 0.09, 0.1, 0.08)
REVENUE_PER_EMPLOYEE = (260_000, 420_000, 170_000, 230_000, 160_000, 360_000, 210_000, 90_000)
INDUSTRY_WORDS = (
    ("Labs", "Systems", "Software", "Cloud", "Digital", "Technologies"),
    ("Capital", "Bank", "Financial", "Partners", "Insurance", "Wealth"),
    ("Health", "Medical", "Care", "Clinics", "Biotech", "Diagnostics"),
    ("Industries", "Manufacturing", "Machines", "Components", "Engineering", "Works"),
    ("Retail", "Stores", "Brands", "Commerce", "Outfitters", "Market"),
    ("Telecom", "Networks", "Communications", "Mobile", "Connect", "Wireless"),
    ("Logistics", "Freight", "Shipping", "Transport", "Cargo", "Fleet"),
    ("Learning", "Education", "Academy", "Institute", "Schools", "Campus"),
)
NAME_PREFIXES = (
    "North", "Blue", "Silver", "Bright", "Iron", "Clear", "Red", "Green", "Summit", "Oak",
    "Pine", "Stone", "Swift", "True", "Prime", "Nova", "Apex", "Vertex", "Cedar", "Harbor",
    "River", "Lake", "Sky", "Sun", "Star", "Golden", "Crystal", "Quantum", "Atlas", "Orbit",
    "Zen", "Peak", "Bold", "Open", "Deep", "High", "Grand", "First", "Key", "Core",
    "Ever", "Fair", "West", "East", "South", "Maple", "Willow", "Falcon", "Eagle", "Lumen",
)  # fmt: skip
NAME_ROOTS = (
    "wind", "field", "stone", "bridge", "gate", "point", "wave", "line", "path", "way",
    "ridge", "brook", "light", "works", "forge", "crest", "view", "haven", "mark", "shore",
    "wood", "dale", "bay", "spark", "stream", "rock", "port", "vale", "grove", "hill",
    "land", "side", "water", "well", "ford", "top", "moor", "mont", "berg", "lane",
)  # fmt: skip
COUNTRIES = (
    "United States",
    "United Kingdom",
    "Germany",
    "France",
    "Canada",
    "Netherlands",
    "Australia",
    "Sweden",
)
COUNTRY_SHARES = (0.38, 0.14, 0.12, 0.08, 0.08, 0.07, 0.07, 0.06)
COUNTRY_TLDS = (".com", ".co.uk", ".de", ".fr", ".ca", ".nl", ".com.au", ".se")

FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark",
    "Sandra", "Steven", "Ashley", "Paul", "Emily", "Andrew", "Michelle", "Joshua", "Amanda",
    "Oliver", "Sophie", "Lukas", "Hannah", "Pierre", "Claire", "Lars", "Ingrid", "Pieter",
    "Anouk", "Noah", "Chloe", "Arjun", "Priya", "Kenji", "Yuki", "Mateo", "Lucia",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
    "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker",
    "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Evans", "Turner",
    "Schmidt", "Fischer", "Weber", "Dubois", "Laurent", "Johansson", "Berg", "Jansen", "Visser",
    "Bakker", "Tremblay", "Gagnon", "Kelly", "Murphy", "Patel", "Nguyen", "Tanaka", "Costa",
)  # fmt: skip

SENIORITIES = tuple(Seniority.values)  # c_level, vp, director, manager, other
BUYING_ROLES = tuple(BuyingRole.values)
TITLES = {
    Seniority.C_LEVEL: (
        "Chief Executive Officer", "Chief Financial Officer", "Chief Technology Officer",
        "Chief Marketing Officer", "Chief Operating Officer", "Chief Information Officer",
        "Chief Revenue Officer",
    ),
    Seniority.VP: (
        "VP Engineering", "VP Marketing", "VP Sales", "VP Operations", "VP Finance", "VP IT",
        "VP Product",
    ),
    Seniority.DIRECTOR: (
        "Director of Engineering", "Director of Marketing", "Director of IT",
        "Director of Operations", "Finance Director", "Director of Procurement", "Head of Data",
    ),
    Seniority.MANAGER: (
        "Engineering Manager", "Marketing Manager", "IT Manager", "Operations Manager",
        "Procurement Manager", "Product Manager", "Sales Operations Manager",
    ),
    Seniority.OTHER: (
        "Software Engineer", "Data Analyst", "Marketing Specialist", "Systems Administrator",
        "Financial Analyst", "Operations Coordinator", "Procurement Specialist",
    ),
}  # fmt: skip
# Seniority of a contact by its position in the account: the first three form a buying committee.
SENIORITY_BY_POSITION = (
    (0.6, 0.4, 0.0, 0.0, 0.0),
    (0.0, 0.3, 0.5, 0.2, 0.0),
    (0.0, 0.2, 0.4, 0.4, 0.0),
    (0.06, 0.14, 0.24, 0.31, 0.25),
)
# P(buying role | seniority) in BUYING_ROLES order, for contacts after the first three.
BUYING_ROLE_BY_SENIORITY = (
    (0.55, 0.10, 0.20, 0.00, 0.05, 0.10),
    (0.35, 0.20, 0.25, 0.00, 0.08, 0.12),
    (0.10, 0.35, 0.30, 0.05, 0.07, 0.13),
    (0.02, 0.30, 0.30, 0.20, 0.05, 0.13),
    (0.00, 0.10, 0.20, 0.45, 0.05, 0.20),
)
COMMITTEE_ROLES = (BuyingRole.DECISION_MAKER, BuyingRole.CHAMPION, BuyingRole.INFLUENCER)

CHANNELS = tuple(Channel.values)
KINDS = tuple(ActivityKind.values)
CH = {value: code for code, value in enumerate(CHANNELS)}
KD = {value: code for code, value in enumerate(KINDS)}
IS_OUTBOUND_KIND = np.array([kind in OUTBOUND_KINDS for kind in KINDS])

# Account groups index every per-group table below: 0 = not a target, then tiers 1, 2 and 3.
GROUPS = 4
# What we send: the kinds of an outbound touch per channel.
OUTBOUND_TOUCHES = {
    Channel.EMAIL: ((ActivityKind.EMAIL_SENT, 1.0),),
    Channel.LINKEDIN: ((ActivityKind.LINKEDIN_MESSAGE, 1.0),),
    Channel.PAID_SOCIAL: ((ActivityKind.AD_IMPRESSION, 1.0),),
    Channel.DISPLAY: ((ActivityKind.AD_IMPRESSION, 1.0),),
    Channel.DIRECT_MAIL: ((ActivityKind.DIRECT_MAIL_SENT, 1.0),),
    Channel.PHONE: ((ActivityKind.CALL_ATTEMPT, 1.0),),
    Channel.SDR_OUTREACH: ((ActivityKind.EMAIL_SENT, 0.6), (ActivityKind.CALL_ATTEMPT, 0.4)),
}
# How an account answers an outbound touch: base response rate (scaled by its interest) and kinds.
RESPONSES = {
    Channel.EMAIL: (
        0.30,
        (
            (ActivityKind.EMAIL_OPEN, 0.68),
            (ActivityKind.EMAIL_CLICK, 0.24),
            (ActivityKind.EMAIL_REPLY, 0.08),
        ),
    ),
    Channel.LINKEDIN: (0.12, ((ActivityKind.AD_CLICK, 1.0),)),
    Channel.PAID_SOCIAL: (0.06, ((ActivityKind.AD_CLICK, 1.0),)),
    Channel.DISPLAY: (0.05, ((ActivityKind.AD_CLICK, 0.6), (ActivityKind.INTENT_SIGNAL, 0.4))),
    Channel.PHONE: (0.30, ((ActivityKind.CALL_CONNECTED, 0.7), (ActivityKind.MEETING, 0.3))),
    Channel.SDR_OUTREACH: (0.10, ((ActivityKind.MEETING, 1.0),)),
}
# What an account does on its own (no outbound touch of ours before it).
INBOUND_TOUCHES = {
    Channel.CONTENT: (
        (ActivityKind.WEB_VISIT, 0.5),
        (ActivityKind.CONTENT_DOWNLOAD, 0.3),
        (ActivityKind.INTENT_SIGNAL, 0.2),
    ),
    Channel.WEB_PERSONALISATION: ((ActivityKind.WEB_VISIT, 0.8), (ActivityKind.FORM_FILL, 0.2)),
    Channel.EVENT: ((ActivityKind.EVENT_ATTENDED, 1.0),),
    Channel.WEBINAR: ((ActivityKind.WEBINAR_ATTENDED, 1.0),),
}
OUTBOUND_CHANNELS = tuple(OUTBOUND_TOUCHES)
INBOUND_CHANNELS = tuple(INBOUND_TOUCHES)
# Channel mix of background outbound touches per group, in OUTBOUND_CHANNELS order.
OUTBOUND_MIX = (
    (0.36, 0.05, 0.20, 0.29, 0.00, 0.05, 0.05),
    (0.20, 0.20, 0.10, 0.10, 0.10, 0.18, 0.12),
    (0.30, 0.12, 0.20, 0.15, 0.03, 0.10, 0.10),
    (0.30, 0.05, 0.25, 0.30, 0.00, 0.05, 0.05),
)
INBOUND_MIX = (
    (0.50, 0.40, 0.03, 0.07),
    (0.35, 0.35, 0.15, 0.15),
    (0.40, 0.38, 0.08, 0.14),
    (0.45, 0.40, 0.04, 0.11),
)
# Touches per account and year, per group: background outbound, inbound at interest 1, playbook.
OUTBOUND_PER_YEAR = (21.0, 170.0, 100.0, 56.0)
INBOUND_PER_YEAR = (6.5, 34.0, 22.0, 14.0)
PLAYBOOK_PER_YEAR = (0.0, 130.0, 65.0, 45.0)
# Playbook touches are targeted, so they are answered more often than background ones.
PLAYBOOK_RESPONSE_BOOST = 1.8
# Hours of day (UTC) and their weights: business hours for us, a longer day for them.
BUSINESS_HOURS = np.arange(8, 18)
BUSINESS_HOUR_WEIGHTS = np.array([4, 8, 9, 8, 5, 6, 8, 8, 6, 3], dtype=float)
OPEN_HOURS = np.arange(6, 23)
OPEN_HOUR_WEIGHTS = np.array([1, 2, 4, 7, 8, 8, 6, 6, 8, 8, 7, 5, 3, 3, 3, 2, 1], dtype=float)
# Median seconds from our touch to the answer, per answering kind.
RESPONSE_DELAY = {
    ActivityKind.EMAIL_OPEN: 3 * HOUR,
    ActivityKind.EMAIL_CLICK: 4 * HOUR,
    ActivityKind.EMAIL_REPLY: 20 * HOUR,
    ActivityKind.AD_CLICK: 2 * HOUR,
    ActivityKind.INTENT_SIGNAL: 3 * DAY,
    ActivityKind.CALL_CONNECTED: 60,
    ActivityKind.MEETING: 5 * DAY,
}

OPEN_STAGES = (
    OpportunityStage.QUALIFICATION,
    OpportunityStage.DISCOVERY,
    OpportunityStage.PROPOSAL,
    OpportunityStage.NEGOTIATION,
)
# Opportunities per account and year, per group, and the candidate moments they are drawn from.
OPPORTUNITIES_PER_ACCOUNT = (1.2, 4.4, 3.1, 2.4)
OPPORTUNITY_CANDIDATES = (4.0, 12.0, 9.0, 7.0)
# How strongly log(1 + inbound touches of the 90 days before) drives creation (logit scale).
CREATION_PULL = 1.5
WIN_RATE = 0.3
WIN_TIER_BONUS = (0.0, 0.3, 0.2, 0.1)
DEAL_SIZE_MEDIAN = (20_000.0, 150_000.0, 70_000.0, 35_000.0)
CYCLE_DAYS_MEDIAN = (45.0, 110.0, 80.0, 60.0)
PRODUCTS = (
    "Platform",
    "Expansion",
    "New business",
    "Pilot",
    "Enterprise licence",
    "Analytics add-on",
    "Renewal",
)
SALES_CHANNELS = (Channel.PHONE, Channel.SDR_OUTREACH)
LEAD_KINDS = (
    ActivityKind.FORM_FILL,
    ActivityKind.CONTENT_DOWNLOAD,
    ActivityKind.WEBINAR_ATTENDED,
    ActivityKind.EVENT_ATTENDED,
    ActivityKind.EMAIL_REPLY,
)
LEAD_SHARE = (0.12, 0.3, 0.25, 0.2)


def _step(
    channel: str,
    day: int,
    role: str,
    subject: str,
    *,
    buying_role: str = "",
    seniority: str = "",
    cost: float = 0.0,
    body: str = "",
) -> dict[str, Any]:
    """One playbook step's fields (a table row of PLAYBOOKS)."""
    return {
        "channel": channel,
        "day_offset": day,
        "owner_role": role,
        "subject": subject,
        "body": body or "Hi {{ contact.first_name }}, {{ owner.first_name }} here.",
        "target_buying_role": buying_role,
        "target_seniority": seniority,
        "unit_cost": cost,
    }


MKT, SALES = OwnerRole.MARKETING, OwnerRole.SALES
DM, CHAMP = BuyingRole.DECISION_MAKER, BuyingRole.CHAMPION
# Stage name, exit journey stage, and how often the playbook's touches come from that stage.
STAGES = (("Find", "aware", 0.35), ("Nurture", "mqa", 0.35), ("Convert", "opportunity", 0.2))
STAGES += (("Retain", "", 0.1),)
PLAYBOOKS = (
    {
        "tier": 1,
        "name": "Strategic accounts: executive 1:1 programme",
        "objective": "Open executive conversations and create pipeline at our strategic accounts.",
        "budget": 240_000,
        "stages": (
            (
                _step(
                    Channel.DIRECT_MAIL,
                    0,
                    MKT,
                    "A gift for {{ account.name }}",
                    buying_role=DM,
                    seniority=Seniority.C_LEVEL,
                    cost=40,
                ),
                _step(
                    Channel.LINKEDIN, 5, SALES, "{{ account.industry }} priorities", buying_role=DM
                ),
                _step(Channel.PHONE, 10, SALES, "Follow-up call", buying_role=CHAMP),
            ),
            (
                _step(
                    Channel.EVENT, 0, MKT, "Executive dinner", seniority=Seniority.C_LEVEL, cost=300
                ),
                _step(
                    Channel.EMAIL,
                    7,
                    MKT,
                    "How peers in {{ account.industry }} do it",
                    buying_role=CHAMP,
                ),
                _step(Channel.WEB_PERSONALISATION, 14, MKT, "{{ account.name }} landing page"),
            ),
            (
                _step(
                    Channel.SDR_OUTREACH,
                    0,
                    SALES,
                    "Time with {{ owner.first_name }}?",
                    buying_role=DM,
                ),
                _step(Channel.PHONE, 3, SALES, "Business case call", buying_role=DM),
            ),
            (
                _step(Channel.WEBINAR, 0, MKT, "Customer round-table"),
                _step(Channel.CONTENT, 30, MKT, "Success plan for {{ account.name }}"),
            ),
        ),
    },
    {
        "tier": 2,
        "name": "Industry clusters: 1:few programme",
        "objective": "Reach target accounts with industry stories and hand engaged ones to sales.",
        "budget": 120_000,
        "stages": (
            (
                _step(Channel.PAID_SOCIAL, 0, MKT, "{{ account.industry }} benchmark", cost=1.5),
                _step(Channel.EMAIL, 3, MKT, "The {{ account.industry }} benchmark report"),
            ),
            (
                _step(Channel.WEBINAR, 0, MKT, "{{ account.industry }} webinar"),
                _step(Channel.CONTENT, 7, MKT, "{{ account.industry }} guide"),
                _step(
                    Channel.EMAIL,
                    14,
                    MKT,
                    "What {{ account.industry }} leaders do next",
                    buying_role=CHAMP,
                ),
            ),
            (
                _step(Channel.SDR_OUTREACH, 0, SALES, "A short call?", buying_role=CHAMP),
                _step(Channel.PHONE, 5, SALES, "Discovery call", buying_role=DM),
            ),
            (
                _step(Channel.EMAIL, 0, MKT, "Welcome aboard, {{ account.name }}"),
                _step(Channel.WEBINAR, 30, MKT, "Customer masterclass"),
            ),
        ),
    },
    {
        "tier": 3,
        "name": "Programmatic: 1:many programme",
        "objective": "Build awareness across tier-3 accounts at a low cost per account.",
        "budget": 60_000,
        "stages": (
            (
                _step(Channel.DISPLAY, 0, MKT, "Display awareness", cost=0.25),
                _step(Channel.PAID_SOCIAL, 0, MKT, "Social awareness", cost=1.5),
            ),
            (
                _step(Channel.EMAIL, 0, MKT, "Ideas for {{ account.name }}"),
                _step(Channel.CONTENT, 7, MKT, "Buyer's guide"),
                _step(Channel.WEB_PERSONALISATION, 7, MKT, "{{ account.industry }} landing page"),
            ),
            (
                _step(Channel.SDR_OUTREACH, 0, SALES, "Worth a conversation?"),
                _step(Channel.EMAIL, 3, MKT, "Customer stories from {{ account.industry }}"),
            ),
            (
                _step(Channel.EMAIL, 0, MKT, "Getting started"),
                _step(Channel.CONTENT, 30, MKT, "Best-practice library"),
            ),
        ),
    },
)


class SeedRefused(Exception):
    """The database already holds accounts and the caller did not ask to flush them."""


@dataclass(frozen=True)
class SeedResult:
    skipped: bool = False
    accounts: int = 0
    contacts: int = 0
    enrolments: int = 0
    activities: int = 0
    opportunities: int = 0
    leads: int = 0
    seconds: float = 0.0
    logins: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class _Clock:
    now: datetime
    now_s: int
    first_day: int  # epoch day of the window's first day
    last_day: int  # epoch day of yesterday: everything happens before now

    @classmethod
    def for_today(cls, today: date) -> _Clock:
        now = datetime(today.year, today.month, today.day, tzinfo=UTC)
        now_day = int(now.timestamp()) // DAY
        return cls(now, now_day * DAY, now_day - WINDOW_DAYS, now_day - 1)


@dataclass
class _Accounts:
    ids: np.ndarray
    names: list[str]
    domains: list[str]
    group: np.ndarray  # 0 untiered, else the tier
    interest: np.ndarray
    burst_day: np.ndarray
    employees: np.ndarray
    contact_first: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    contact_count: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass
class _Programme:
    playbook: Playbook
    stage_ids: list[int]
    step_ids: np.ndarray
    step_channels: np.ndarray
    step_weights: np.ndarray


@dataclass
class _Enrolments:
    ids: np.ndarray
    account: np.ndarray  # account index
    tier: np.ndarray
    enrolled_s: np.ndarray
    holdout: np.ndarray
    holdout_seed: np.ndarray


@dataclass
class _Touches:
    """Activities as parallel columns; -1 means none for contact, step and duration."""

    account: np.ndarray
    at: np.ndarray
    channel: np.ndarray
    kind: np.ndarray
    contact: np.ndarray
    step: np.ndarray
    cost: np.ndarray
    duration: np.ndarray

    @classmethod
    def concat(cls, parts: Sequence[_Touches]) -> _Touches:
        return cls(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__)
        )

    def take(self, index: np.ndarray) -> _Touches:
        return _Touches(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    def __len__(self) -> int:
        return len(self.account)


@dataclass
class _Opportunities:
    account: np.ndarray
    created_s: np.ndarray


def seed_demo(
    *,
    accounts: int = 300,
    seed: int = 42,
    today: date | None = None,
    flush: bool = False,
    if_empty: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> SeedResult:
    """Create the demo users and a year of ABM data for `accounts` accounts, all in one transaction.

    Refuses (SeedRefused) when accounts exist, unless `flush` (delete all domain data, keep users)
    or `if_empty` (then do nothing).
    """
    if accounts < 1:
        raise ValueError("--accounts must be at least 1")
    started = time.perf_counter()
    clock = _Clock.for_today(today or datetime.now(UTC).date())
    rng = np.random.default_rng(seed)

    def phase(name: str, count: int | None = None) -> None:
        amount = "" if count is None else f"{count:>12,}"
        progress(f"  {name:<28}{amount:>12}  {time.perf_counter() - started:7.1f} s")

    with _bulk_load_settings(), transaction.atomic():
        exists = Account.objects.exists()
        if exists and if_empty:
            return SeedResult(skipped=True)
        if exists and not flush:
            raise SeedRefused(
                "Accounts already exist; use --flush to replace the domain data "
                "(users are kept) or --if-empty to skip quietly."
            )
        progress(f"seeding {accounts:,} accounts, seed {seed}, up to {clock.now:%Y-%m-%d} ...")
        if exists:
            flush_domain_data()
            phase("flushed domain data")

        users, created = _demo_users()
        reps = np.array([users[name].pk for name, role, *_ in DEMO_USERS if role == Role.SALES])
        marketer = users["marketer"]
        phase("users", len(users))

        criteria = IcpCriteria.from_icp(_active_icp(by=users["director"]))
        acc = _accounts(rng=rng, size=accounts, criteria=criteria, reps=reps, clock=clock)
        phase("accounts", len(acc.ids))
        contacts = _contacts(rng=rng, acc=acc, clock=clock)
        phase("contacts", contacts)

        programmes = _playbooks(marketer=marketer)
        enrol = _enrolments(rng=rng, acc=acc, programmes=programmes, clock=clock)
        phase("playbooks and enrolments", len(enrol.ids))

        touches = _activities(rng=rng, acc=acc, enrol=enrol, programmes=programmes, clock=clock)
        phase("activities generated", len(touches))
        opps = _opportunities(rng=rng, acc=acc, touches=touches, clock=clock)
        phase("opportunities", len(opps.account))
        follow_ups, leads = _leads(rng=rng, acc=acc, touches=touches, opps=opps, clock=clock)
        phase("leads", leads)
        _write_enrolments(
            enrol=enrol,
            acc=acc,
            touches=touches,
            opps=opps,
            programmes=programmes,
            marketer=marketer,
            clock=clock,
        )
        everything = _Touches.concat([touches, follow_ups])
        activities = _write_activities(touches=everything, acc=acc, clock=clock)
        phase("activities written", activities)
        lines = _budget_lines(rng=rng, programmes=programmes, clock=clock)
        phase("budget lines", lines)
        _reset_sequences()
    # After the commit: a million fresh rows the planner has not counted yet.
    analyze()

    return SeedResult(
        accounts=len(acc.ids),
        contacts=contacts,
        enrolments=len(enrol.ids),
        activities=activities,
        opportunities=len(opps.account),
        leads=leads,
        seconds=time.perf_counter() - started,
        logins=tuple(
            (
                name,
                DEMO_PASSWORD if name in created else f"{DEMO_PASSWORD} unless changed",
                users[name].role,
            )
            for name, *_ in DEMO_USERS
        ),
    )


def flush_domain_data() -> None:
    """Delete every row of the domain apps (accounts, playbooks, metrics); users stay.

    That is everything those apps hold, not only what seed_demo wrote: ICPs, goals, import jobs
    and metric runs go too.
    """
    domain = [m for label in DOMAIN_APPS for m in apps.get_app_config(label).get_models()]
    # Django declares foreign keys DEFERRABLE INITIALLY DEFERRED (SQLite and PostgreSQL), so the
    # order does not matter inside the transaction (Playbook.goal and Goal.scope_playbook form a
    # cycle anyway); models later in an app mostly point at earlier ones, hence reversed.
    tables = [connection.ops.quote_name(m._meta.db_table) for m in reversed(domain)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Pending deferred checks (earlier writes in an enclosing transaction) block TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            # Row by row (foreign keys rule out SQLite's truncate), so the big table goes first
            # and without its indexes.
            with _indexes_rebuilt(Activity):
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(Activity._meta.db_table)}")
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    # The starter playbooks are product content, not demo data: put them back.
    from playbooks.starters import ensure_starter_playbooks

    ensure_starter_playbooks()


# --- users, ICP, playbooks (a handful of rows: the ORM) ---------------------------------------


def _demo_users() -> tuple[dict[str, User], set[str]]:
    """The demo users by username, and which of them were created now (others are kept as is)."""
    password_hash = None
    users, created = {}, set()
    for username, role, first, last, flags in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            password_hash = password_hash or make_password(DEMO_PASSWORD)
            user = User.objects.create(
                username=username,
                password=password_hash,
                role=role,
                first_name=first,
                last_name=last,
                email=f"{username}@{DEMO_EMAIL_DOMAIN}",
                **flags,
            )
            created.add(username)
        users[username] = user
    return users, created


def _active_icp(*, by: User) -> ICP:
    """The active ICP if someone set one, else the demo profile."""
    icp = ICP.objects.filter(is_active=True).first()
    if icp is not None:
        return icp
    return ICP.objects.create(
        name="Mid-market and enterprise in our core industries",
        is_active=True,
        industries=["Software", "Financial Services", "Healthcare"],
        industries_weight=3,
        employees_min=200,
        employees_max=5000,
        employees_weight=2,
        revenue_min=20_000_000,
        revenue_max=1_000_000_000,
        revenue_weight=2,
        countries=["United States", "United Kingdom", "Germany"],
        countries_weight=1,
        updated_by=by,
    )


def _playbooks(*, marketer: User) -> dict[int, _Programme]:
    programmes = {}
    for spec in PLAYBOOKS:
        playbook = Playbook.objects.create(
            name=spec["name"],
            objective=spec["objective"],
            audience_tiers=[spec["tier"]],
            owner=marketer,
            status=PlaybookStatus.ACTIVE,
            budget=spec["budget"],
        )
        stage_ids, step_ids, channels, weights = [], [], [], []
        for order, ((name, exit_stage, share), steps) in enumerate(
            zip(STAGES, spec["stages"], strict=True)
        ):
            stage = Stage.objects.create(
                playbook=playbook, order=order, name=name, exit_stage=exit_stage
            )
            stage_ids.append(stage.pk)
            created = Step.objects.bulk_create(
                Step(stage=stage, order=i, **step) for i, step in enumerate(steps)
            )
            step_ids += [s.pk for s in created]
            channels += [CH[s.channel] for s in created]
            weights += [share / len(created)] * len(created)
        programmes[spec["tier"]] = _Programme(
            playbook=playbook,
            stage_ids=stage_ids,
            step_ids=np.array(step_ids, dtype=np.int64),
            step_channels=np.array(channels, dtype=np.int64),
            step_weights=np.array(weights) / sum(weights),
        )
    return programmes


# --- accounts and contacts ---------------------------------------------------------------------


def _accounts(
    *, rng: np.random.Generator, size: int, criteria: IcpCriteria, reps: np.ndarray, clock: _Clock
) -> _Accounts:
    industry = rng.choice(len(INDUSTRIES), size=size, p=INDUSTRY_SHARES)
    country = rng.choice(len(COUNTRIES), size=size, p=COUNTRY_SHARES)
    employees = np.clip(np.round(rng.lognormal(np.log(700), 1.3, size)), 5, 250_000)
    employees = employees.astype(np.int64)
    per_employee = np.asarray(REVENUE_PER_EMPLOYEE)[industry] * rng.lognormal(0, 0.45, size)
    revenue = np.maximum(np.round(employees * per_employee, -3), 100_000.0)

    names, stems = _company_names(rng=rng, industry=industry)
    local_tld = rng.random(size) < 0.7
    domains = [
        f"{stem}{COUNTRY_TLDS[c] if local else '.com'}"
        for stem, c, local in zip(stems, country.tolist(), local_tld.tolist(), strict=True)
    ]
    domains = _deduplicate(domains)

    frame = pd.DataFrame(
        {
            "industry": np.asarray(INDUSTRIES, dtype=object)[industry],
            "employees": employees,
            "annual_revenue": revenue,
            "country": np.asarray(COUNTRIES, dtype=object)[country],
        }
    )
    fit = fit_scores(frame, criteria)
    # Two decimals, as the ICP re-score job (accounts/rescoring.py) writes them.
    fit_score = np.round(fit["fit_score"].to_numpy(), 2)

    # Targets are mostly the best-fitting accounts, with judgement (noise) on top.
    order = np.argsort(-(fit_score + rng.normal(0, 12, size)), kind="stable")
    group = np.zeros(size, dtype=np.int64)
    bounds = np.round(np.cumsum([0.05, 0.15, 0.30]) * size).astype(int)
    group[order[: bounds[0]]] = 1
    group[order[bounds[0] : bounds[1]]] = 2
    group[order[bounds[1] : bounds[2]]] = 3

    owned = (group > 0) | (rng.random(size) < 0.6)
    owner = np.where(owned, rng.choice(reps, size=size), -1)
    # Interest drives how much an account answers; better-fitting accounts care a little more.
    interest = rng.lognormal(-0.28, 0.75, size) * (0.6 + 0.8 * fit_score / 100)
    burst_day = rng.integers(clock.first_day, clock.last_day + 1, size)

    ids = _next_id(Account) + np.arange(size, dtype=np.int64)
    _insert(
        model=Account,
        columns={
            "id": ids,
            "name": names,
            "domain": domains,
            "industry": frame["industry"].to_numpy(),
            "employees": employees,
            "annual_revenue": revenue,
            "country": frame["country"].to_numpy(),
            "tier": np.where(group > 0, group, -1),
            "owner": owner,
            "stage": "",
            "fit_score": fit_score,
            "fit_breakdown": fit["fit_breakdown"].tolist(),
            "engagement_score": 0.0,
            "spike": False,
            "external_id": [f"ACC-{i + 1:06d}" for i in range(size)],
            "created_at": clock.now_s,
            "updated_at": clock.now_s,
        },
    )
    return _Accounts(
        ids=ids,
        names=names,
        domains=domains,
        group=group,
        interest=interest,
        burst_day=burst_day,
        employees=employees,
    )


def _company_names(*, rng: np.random.Generator, industry: np.ndarray) -> tuple[list[str], list]:
    """Unique names such as "Northwind Labs"; the industry picks the last word."""
    size = len(industry)
    word = rng.integers(0, len(INDUSTRY_WORDS[0]), size)
    prefix = rng.integers(0, len(NAME_PREFIXES), size)
    root = rng.integers(0, len(NAME_ROOTS), size)
    for _ in range(50):
        code = pd.Series(((industry * 10 + word) * 100 + prefix) * 100 + root)
        clash = code.duplicated().to_numpy()
        if not clash.any():
            break
        prefix[clash] = rng.integers(0, len(NAME_PREFIXES), clash.sum())
        root[clash] = rng.integers(0, len(NAME_ROOTS), clash.sum())
    names, stems = [], []
    for i, w, p, r in zip(
        industry.tolist(), word.tolist(), prefix.tolist(), root.tolist(), strict=True
    ):
        head = NAME_PREFIXES[p] + NAME_ROOTS[r]
        names.append(f"{head} {INDUSTRY_WORDS[i][w]}")
        stems.append(f"{head}{INDUSTRY_WORDS[i][w]}".lower())
    return _deduplicate(names, sep=" "), stems


def _deduplicate(values: list[str], *, sep: str = "") -> list[str]:
    """Number repeats ("x", "x2", ...) so a list that is mostly unique becomes unique."""
    seen: dict[str, int] = {}
    result = []
    for value in values:
        count = seen.get(value, 0) + 1
        seen[value] = count
        if count == 1:
            result.append(value)
        elif "." in value and not sep:
            stem, dot, tld = value.partition(".")
            result.append(f"{stem}{count}{dot}{tld}")
        else:
            result.append(f"{value}{sep}{count}")
    return result


def _contacts(*, rng: np.random.Generator, acc: _Accounts, clock: _Clock) -> int:
    low = np.array([3, 6, 5, 4])[acc.group]
    count = rng.integers(low, 9)
    size = int(count.sum())
    first_id = _next_id(Contact)
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    acc.contact_first = first_id + starts
    acc.contact_count = count
    account = np.repeat(np.arange(len(acc.ids)), count)
    position = np.arange(size) - np.repeat(starts, count)

    seniority = np.empty(size, dtype=np.int64)
    role = np.empty(size, dtype=np.int64)
    for pos, shares in enumerate(SENIORITY_BY_POSITION):
        mask = position == pos if pos < 3 else position >= pos
        seniority[mask] = rng.choice(len(SENIORITIES), size=mask.sum(), p=shares)
        if pos < 3:
            role[mask] = BUYING_ROLES.index(COMMITTEE_ROLES[pos])
    for level, shares in enumerate(BUYING_ROLE_BY_SENIORITY):
        mask = (position >= 3) & (seniority == level)
        role[mask] = rng.choice(len(BUYING_ROLES), size=mask.sum(), p=shares)
    title_pick = rng.integers(0, 7, size)
    first = rng.integers(0, len(FIRST_NAMES), size)
    last = rng.integers(0, len(LAST_NAMES), size)

    domain = [acc.domains[a] for a in account.tolist()]
    firsts = [FIRST_NAMES[i] for i in first.tolist()]
    lasts = [LAST_NAMES[i] for i in last.tolist()]
    local = pd.Series([f"{f}.{s}".lower() for f, s in zip(firsts, lasts, strict=True)])
    repeat = local.groupby([account, local]).cumcount().to_numpy()  # a namesake in the account
    emails = [
        f"{name}{n + 1 if n else ''}@{d}"
        for name, n, d in zip(local.tolist(), repeat.tolist(), domain, strict=True)
    ]
    titles = [
        TITLES[SENIORITIES[s]][t]
        for s, t in zip(seniority.tolist(), title_pick.tolist(), strict=True)
    ]
    _insert(
        model=Contact,
        columns={
            "id": first_id + np.arange(size, dtype=np.int64),
            "account": acc.ids[account],
            "first_name": firsts,
            "last_name": lasts,
            "email": emails,
            "title": titles,
            "seniority": np.asarray(SENIORITIES, dtype=object)[seniority],
            "buying_role": np.asarray(BUYING_ROLES, dtype=object)[role],
            "created_at": clock.now_s,
        },
    )
    return size


# --- enrolments --------------------------------------------------------------------------------


def _enrolments(
    *,
    rng: np.random.Generator,
    acc: _Accounts,
    programmes: dict[int, _Programme],
    clock: _Clock,
) -> _Enrolments:
    account = np.flatnonzero(acc.group > 0)
    size = len(account)
    # Most accounts were enrolled when the programmes started, the rest along the year.
    early = rng.random(size) < 0.6
    day = np.where(
        early,
        rng.integers(clock.first_day, clock.first_day + 30, size),
        rng.integers(clock.first_day + 30, clock.last_day - 60, size),
    )
    enrolled_s = _to_weekday(rng=rng, days=day, low=clock.first_day, high=clock.last_day) * DAY
    enrolled_s += _time_of_day(rng=rng, size=size, business=True)

    tier = acc.group[account]
    holdout = np.zeros(size, dtype=bool)
    holdout_seed = np.zeros(size, dtype=np.int64)
    for number, programme in sorted(programmes.items()):
        members = np.flatnonzero(tier == number)  # in account-id order
        draw_seed = int(rng.integers(0, 2**31))
        share = programme.playbook.holdout_share
        chosen = np.random.default_rng(draw_seed).permutation(len(members))
        holdout[members[chosen[: round(share * len(members))]]] = True
        holdout_seed[members] = draw_seed
    return _Enrolments(
        ids=_next_id(Enrolment) + np.arange(size, dtype=np.int64),
        account=account,
        tier=tier,
        enrolled_s=enrolled_s,
        holdout=holdout,
        holdout_seed=holdout_seed,
    )


def _write_enrolments(
    *,
    enrol: _Enrolments,
    acc: _Accounts,
    touches: _Touches,
    opps: _Opportunities,
    programmes: dict[int, _Programme],
    marketer: User,
    clock: _Clock,
) -> None:
    """Place each enrolment in the stage its account's history leads to (exit rules of STAGES).

    Find exits when the account is aware (first answer after enrolment), Nurture at mqa
    (approximated by the eighth answer), Convert at its first opportunity. Holdout accounts get no
    playbook work, so they stay in Find.
    """
    inbound = ~IS_OUTBOUND_KIND[touches.kind]
    answers = _Keyed(touches.account[inbound], touches.at[inbound])
    created = _Keyed(opps.account, opps.created_s)
    never = np.iinfo(np.int64).max
    entered = np.full((len(enrol.ids), len(STAGES)), never, dtype=np.int64)
    entered[:, 0] = enrol.enrolled_s
    entered[:, 1] = answers.nth_after(enrol.account, enrol.enrolled_s, nth=1, missing=never)
    entered[:, 2] = answers.nth_after(enrol.account, enrol.enrolled_s, nth=8, missing=never)
    entered[:, 3] = created.nth_after(enrol.account, enrol.enrolled_s, nth=1, missing=never)
    entered[enrol.holdout, 1:] = never
    # A later stage reached means the earlier ones were passed, at the latest then.
    entered = np.minimum.accumulate(entered[:, ::-1], axis=1)[:, ::-1]
    reached = entered < never
    current = reached.sum(axis=1) - 1

    stage_ids = np.array([programmes[t].stage_ids for t in sorted(programmes)])
    playbook_ids = np.array([programmes[t].playbook.pk for t in sorted(programmes)])
    row = enrol.tier - 1
    _insert(
        model=Enrolment,
        columns={
            "id": enrol.ids,
            "account": acc.ids[enrol.account],
            "playbook": playbook_ids[row],
            "current_stage": stage_ids[row, current],
            "entered_stage_at": entered[np.arange(len(current)), current],
            "status": np.where(enrol.holdout, EnrolmentStatus.HOLDOUT, EnrolmentStatus.ACTIVE),
            "holdout_seed": enrol.holdout_seed,
            "enrolled_at": enrol.enrolled_s,
            "enrolled_by": marketer.pk,
        },
    )
    which, stage = np.nonzero(reached)
    _insert(
        model=EnrolmentStageChange,
        columns={
            "id": _next_id(EnrolmentStageChange) + np.arange(len(which), dtype=np.int64),
            "enrolment": enrol.ids[which],
            "stage": stage_ids[row[which], stage],
            "entered_at": entered[which, stage],
        },
    )


# --- activities --------------------------------------------------------------------------------


def _activities(
    *,
    rng: np.random.Generator,
    acc: _Accounts,
    enrol: _Enrolments,
    programmes: dict[int, _Programme],
    clock: _Clock,
) -> _Touches:
    parts = []
    first, last = clock.first_day, clock.last_day

    # Always-on outbound (newsletters, ads, prospecting), over the whole year.
    count = rng.poisson(np.asarray(OUTBOUND_PER_YEAR)[acc.group])
    account = np.repeat(np.arange(len(acc.ids)), count)
    channel = _pick_per_group(
        rng=rng, group=acc.group[account], choices=OUTBOUND_CHANNELS, mix=OUTBOUND_MIX
    )
    day = rng.integers(first, last + 1, len(account))
    background = _outbound(
        rng=rng,
        acc=acc,
        account=account,
        channel=channel,
        day=day,
        step=np.full(len(account), -1),
        clock=clock,
    )
    parts += [background, _responses(rng=rng, acc=acc, touches=background, boost=1.0, clock=clock)]

    # What accounts do unprompted: visits, downloads, events; partly in a burst of research.
    count = rng.poisson(np.asarray(INBOUND_PER_YEAR)[acc.group] * acc.interest)
    account = np.repeat(np.arange(len(acc.ids)), count)
    channel = _pick_per_group(
        rng=rng, group=acc.group[account], choices=INBOUND_CHANNELS, mix=INBOUND_MIX
    )
    in_burst = rng.random(len(account)) < 0.45
    burst = np.round(acc.burst_day[account] + rng.normal(0, 18, len(account))).astype(np.int64)
    day = np.where(
        in_burst, np.clip(burst, first, last), rng.integers(first, last + 1, len(account))
    )
    parts.append(
        _inbound(
            rng=rng,
            acc=acc,
            account=account,
            channel=channel,
            day=day,
            step=np.full(len(account), -1),
            clock=clock,
        )
    )

    # Playbook touches for enrolled accounts outside the holdout, after enrolment.
    treated = np.flatnonzero(~enrol.holdout)
    enrolled_day = enrol.enrolled_s[treated] // DAY
    share_of_year = (last - enrolled_day) / WINDOW_DAYS
    count = rng.poisson(np.asarray(PLAYBOOK_PER_YEAR)[enrol.tier[treated]] * share_of_year)
    which = np.repeat(treated, count)
    account = enrol.account[which]
    step = np.full(len(which), -1, dtype=np.int64)
    channel = np.empty(len(which), dtype=np.int64)
    for number, programme in programmes.items():
        mask = enrol.tier[which] == number
        pick = rng.choice(len(programme.step_ids), size=mask.sum(), p=programme.step_weights)
        step[mask] = programme.step_ids[pick]
        channel[mask] = programme.step_channels[pick]
    start = enrol.enrolled_s[which] // DAY + 1
    day = start + (rng.random(len(which)) * (last + 1 - start)).astype(np.int64)
    is_outbound = np.isin(channel, [CH[c] for c in OUTBOUND_CHANNELS])
    sent = _outbound(
        rng=rng,
        acc=acc,
        account=account[is_outbound],
        channel=channel[is_outbound],
        day=day[is_outbound],
        step=step[is_outbound],
        clock=clock,
    )
    # An invitation to an event or a landing page only shows when the account takes it up.
    taken = ~is_outbound & (rng.random(len(which)) < np.minimum(0.9, 0.5 * acc.interest[account]))
    parts += [
        sent,
        _responses(rng=rng, acc=acc, touches=sent, boost=PLAYBOOK_RESPONSE_BOOST, clock=clock),
        _inbound(
            rng=rng,
            acc=acc,
            account=account[taken],
            channel=channel[taken],
            day=day[taken],
            step=step[taken],
            clock=clock,
        ),
    ]
    return _Touches.concat(parts)


def _outbound(
    *,
    rng: np.random.Generator,
    acc: _Accounts,
    account: np.ndarray,
    channel: np.ndarray,
    day: np.ndarray,
    step: np.ndarray,
    clock: _Clock,
) -> _Touches:
    size = len(account)
    kind = _pick_per_channel(rng=rng, channel=channel, table=OUTBOUND_TOUCHES)
    day = _to_weekday(rng=rng, days=day, low=clock.first_day, high=clock.last_day)
    at = day * DAY + _time_of_day(rng=rng, size=size, business=True)
    personal = kind != KD[ActivityKind.AD_IMPRESSION]
    return _Touches(
        account=account,
        at=at,
        channel=channel,
        kind=kind,
        contact=_pick_contacts(rng=rng, acc=acc, account=account, mask=personal),
        step=step,
        cost=_costs(rng=rng, channel=channel, kind=kind),
        duration=np.full(size, -1, dtype=np.int64),
    )


def _inbound(
    *,
    rng: np.random.Generator,
    acc: _Accounts,
    account: np.ndarray,
    channel: np.ndarray,
    day: np.ndarray,
    step: np.ndarray,
    clock: _Clock,
) -> _Touches:
    size = len(account)
    kind = _pick_per_channel(rng=rng, channel=channel, table=INBOUND_TOUCHES)
    # Events and webinars happen on weekdays; people browse at weekends too.
    weekday_share = np.where(np.isin(channel, [CH[Channel.EVENT], CH[Channel.WEBINAR]]), 1.0, 0.7)
    day = _to_weekday(
        rng=rng, days=day, low=clock.first_day, high=clock.last_day, share=weekday_share
    )
    at = day * DAY + _time_of_day(rng=rng, size=size, business=False)
    anonymous = np.isin(kind, [KD[ActivityKind.WEB_VISIT], KD[ActivityKind.INTENT_SIGNAL]])
    known = ~anonymous | ((kind == KD[ActivityKind.WEB_VISIT]) & (rng.random(size) < 0.35))
    return _Touches(
        account=account,
        at=at,
        channel=channel,
        kind=kind,
        contact=_pick_contacts(rng=rng, acc=acc, account=account, mask=known),
        step=step,
        cost=_costs(rng=rng, channel=channel, kind=kind),
        duration=np.full(size, -1, dtype=np.int64),
    )


def _responses(
    *, rng: np.random.Generator, acc: _Accounts, touches: _Touches, boost: float, clock: _Clock
) -> _Touches:
    rate = np.zeros(len(CHANNELS))
    for channel, (base, _) in RESPONSES.items():
        rate[CH[channel]] = base
    chance = np.minimum(0.95, rate[touches.channel] * acc.interest[touches.account] * boost)
    answered = touches.take(np.flatnonzero(rng.random(len(touches)) < chance))
    size = len(answered)
    kind = _pick_per_channel(
        rng=rng, channel=answered.channel, table={c: kinds for c, (_, kinds) in RESPONSES.items()}
    )
    median = np.ones(len(KINDS))
    for response_kind, seconds in RESPONSE_DELAY.items():
        median[KD[response_kind]] = seconds
    delay = np.round(median[kind] * rng.lognormal(0, 0.8, size)).astype(np.int64)
    at = answered.at + np.maximum(delay, 1)
    # Someone clicked an ad: sometimes we know who. Intent is about the account, not a person.
    contact = np.where(
        answered.contact >= 0,
        answered.contact,
        _pick_contacts(rng=rng, acc=acc, account=answered.account, mask=rng.random(size) < 0.3),
    )
    contact[kind == KD[ActivityKind.INTENT_SIGNAL]] = -1
    duration = np.full(size, -1, dtype=np.int64)
    meeting = kind == KD[ActivityKind.MEETING]
    duration[meeting] = rng.choice([30, 45, 60], size=meeting.sum(), p=[0.5, 0.2, 0.3])
    call = kind == KD[ActivityKind.CALL_CONNECTED]
    duration[call] = rng.integers(3, 25, call.sum())
    result = _Touches(
        account=answered.account,
        at=at,
        channel=answered.channel,
        kind=kind,
        contact=contact,
        step=answered.step,
        cost=np.zeros(size),
        duration=duration,
    )
    return result.take(np.flatnonzero(at < clock.now_s))


def _write_activities(*, touches: _Touches, acc: _Accounts, clock: _Clock) -> int:
    order = np.lexsort((touches.kind, touches.account, touches.at))
    t = touches.take(order)
    size = len(t)
    direction = np.where(IS_OUTBOUND_KIND[t.kind], Direction.OUTBOUND, Direction.INBOUND)
    kinds = np.asarray(KINDS, dtype=object)
    with _indexes_rebuilt(Activity):
        _insert(
            model=Activity,
            columns={
                "id": _next_id(Activity) + np.arange(size, dtype=np.int64),
                "account": acc.ids[t.account],
                "contact": t.contact,
                "channel": np.asarray(CHANNELS, dtype=object)[t.channel],
                "kind": kinds[t.kind],
                "direction": direction.astype(object),
                "occurred_at": t.at,
                "cost": t.cost,
                "step": t.step,
                "source": ActivitySource.IMPORT,
                # Zero-padded so that text order is creation order.
                "external_id": [f"demo-{n:07d}" for n in range(1, size + 1)],
                "duration_minutes": t.duration,
                "notes": "",
                "created_at": clock.now_s,
            },
        )
    return size


# --- opportunities and leads -------------------------------------------------------------------


def _opportunities(
    *, rng: np.random.Generator, acc: _Accounts, touches: _Touches, clock: _Clock
) -> _Opportunities:
    first, last = clock.first_day, clock.last_day
    inbound = ~IS_OUTBOUND_KIND[touches.kind]
    answers = _Keyed(touches.account[inbound], touches.at[inbound])
    marketing = inbound & ~np.isin(touches.channel, [CH[c] for c in SALES_CHANNELS])
    marketing_answers = _Keyed(touches.account[marketing], touches.at[marketing])

    # Candidate moments, half of them just after the account's research burst; the engagement of
    # the 90 days before each decides whether it becomes an opportunity.
    group = acc.group
    count = rng.poisson(np.asarray(OPPORTUNITY_CANDIDATES)[group])
    account = np.repeat(np.arange(len(acc.ids)), count)
    size = len(account)
    after_burst = acc.burst_day[account] + rng.integers(0, 40, size)
    day = np.where(
        rng.random(size) < 0.5, np.minimum(after_burst, last), rng.integers(first, last + 1, size)
    )
    day = _to_weekday(rng=rng, days=day, low=first, high=last)
    created = day * DAY + _time_of_day(rng=rng, size=size, business=True)
    engagement = np.log1p(answers.count_before(account, created, seconds=ENGAGEMENT_DAYS * DAY))
    pull = CREATION_PULL * engagement
    chance = np.zeros(size)
    for g in range(GROUPS):
        mask = group[account] == g
        offset = _calibrate(pull[mask], OPPORTUNITIES_PER_ACCOUNT[g] * (group == g).sum())
        chance[mask] = _sigmoid(offset + pull[mask])
    keep = np.flatnonzero(rng.random(size) < chance)
    account, created, engagement = account[keep], created[keep], engagement[keep]
    order = np.lexsort((account, created))
    account, created, engagement = account[order], created[order], engagement[order]
    size = len(account)
    tier_group = group[account]

    bonus = np.asarray(WIN_TIER_BONUS)[tier_group] + engagement
    wins = rng.random(size) < _sigmoid(_calibrate(bonus, WIN_RATE * size) + bonus)
    # Lost deals drop out after qualification .. negotiation; won ones pass all four.
    lost_after = rng.choice(4, size=size, p=[0.35, 0.3, 0.2, 0.15])
    last_open = np.where(wins, 3, lost_after)
    cycle = np.asarray(CYCLE_DAYS_MEDIAN)[tier_group] * rng.lognormal(0, 0.45, size)
    cycle_s = np.clip(cycle, 10, 400) * DAY
    shares = np.cumsum(rng.dirichlet([2, 3, 3, 2], size), axis=1)
    moments = created[:, None] + np.round(
        np.hstack([np.zeros((size, 1)), shares]) * cycle_s[:, None]
    ).astype(np.int64)
    # At least an hour between two stage changes, so the history is strictly ordered.
    hours = np.arange(5) * HOUR
    moments = np.maximum.accumulate(moments - hours, axis=1) + hours
    end = moments[np.arange(size), last_open + 1]
    closed = end < clock.now_s
    reached = np.where(closed, last_open, np.sum(moments[:, :4] < clock.now_s, axis=1) - 1)
    reached = np.minimum(reached, last_open)
    stage_values = np.asarray(
        [*OPEN_STAGES, OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST], dtype=object
    )
    final = np.where(wins, 4, 5)
    stage = np.where(closed, final, reached)
    closed_at = np.where(closed, end, -1)
    expected = np.where(closed, end, created + cycle_s.astype(np.int64))

    amount = np.asarray(DEAL_SIZE_MEDIAN)[tier_group] * rng.lognormal(0, 0.6, size)
    amount *= (np.maximum(acc.employees[account], 50) / 1000) ** 0.15
    amount = np.maximum(np.round(amount, -2), 1_000.0)
    touched = marketing_answers.count_before(account, created, seconds=ENGAGEMENT_DAYS * DAY) > 0
    source = np.where(
        touched,
        rng.choice(4, size=size, p=[0.55, 0.33, 0.08, 0.04]),
        rng.choice(4, size=size, p=[0.0, 0.78, 0.14, 0.08]),
    )
    sources = np.asarray(
        [
            OpportunitySource.MARKETING,
            OpportunitySource.SALES,
            OpportunitySource.PARTNER,
            OpportunitySource.OTHER,
        ],
        dtype=object,
    )
    product = rng.integers(0, len(PRODUCTS), size)
    ids = _next_id(Opportunity) + np.arange(size, dtype=np.int64)
    _insert(
        model=Opportunity,
        columns={
            "id": ids,
            "account": acc.ids[account],
            "name": [
                f"{acc.names[a]} - {PRODUCTS[p]}"
                for a, p in zip(account.tolist(), product.tolist(), strict=True)
            ],
            "amount": amount,
            "stage": stage_values[stage],
            "created_at": created,
            "close_date": expected // DAY,
            "closed_at": closed_at,
            "source": sources[source],
            "external_id": [f"OPP-{n:06d}" for n in range(1, size + 1)],
            "updated_at": clock.now_s,
        },
    )

    # Stage history: one row per open stage entered, then the close.
    rows = np.arange(5)[None, :] <= np.where(closed, last_open + 1, reached)[:, None]
    which, position = np.nonzero(rows)
    is_close = position > last_open[which]
    to_stage = np.where(is_close, final[which], position)
    from_stage = np.where(position == 0, -1, np.where(is_close, last_open[which], position - 1))
    _insert(
        model=OpportunityStageChange,
        columns={
            "id": _next_id(OpportunityStageChange) + np.arange(len(which), dtype=np.int64),
            "opportunity": ids[which],
            "from_stage": np.where(from_stage < 0, "", stage_values[from_stage]).astype(object),
            "to_stage": stage_values[to_stage],
            "changed_at": moments[which, position],
        },
    )
    return _Opportunities(account=account, created_s=created)


def _leads(
    *,
    rng: np.random.Generator,
    acc: _Accounts,
    touches: _Touches,
    opps: _Opportunities,
    clock: _Clock,
) -> tuple[_Touches, int]:
    """Hand-offs of hand-raisers to sales, and the sales touches that followed them up."""
    hand_raise = np.isin(touches.kind, [KD[k] for k in LEAD_KINDS]) & (touches.contact >= 0)
    candidate = np.flatnonzero(hand_raise)
    share = np.asarray(LEAD_SHARE)[acc.group[touches.account[candidate]]]
    candidate = candidate[rng.random(len(candidate)) < share]
    # One hand-off per contact (the first), at most three per account.
    frame = pd.DataFrame(
        {
            "i": candidate,
            "at": touches.at[candidate],
            "contact": touches.contact[candidate],
            "account": touches.account[candidate],
        }
    ).sort_values(["at", "i"], kind="stable")
    frame = frame.drop_duplicates("contact")
    frame = frame[frame.groupby("account").cumcount() < 3]
    source = touches.take(frame["i"].to_numpy())
    handed = source.at + rng.integers(HOUR // 2, 6 * HOUR, len(source))
    source = source.take(np.flatnonzero(handed < clock.now_s))
    handed = handed[handed < clock.now_s]
    size = len(source)

    u = rng.random(size)
    fast = np.minimum(np.round(8 * HOUR * rng.lognormal(0, 0.9, size)), 47 * HOUR)
    slow = 48 * HOUR + np.round(5 * DAY * rng.lognormal(0, 0.8, size))
    delay = np.where(u < 0.45, fast, slow).astype(np.int64)
    follow_up = handed + np.maximum(delay, 10 * 60)
    followed = (u < 0.7) & (follow_up < clock.now_s)
    follow_up = np.where(followed, follow_up, -1)

    created = _Keyed(opps.account, opps.created_s)
    converted = created.count_before(source.account, handed + 60 * DAY, seconds=60 * DAY) > 0
    status = np.where(
        ~followed,
        LeadStatus.NEW,
        np.where(
            converted,
            LeadStatus.QUALIFIED,
            np.where(rng.random(size) < 0.55, LeadStatus.WORKING, LeadStatus.DISQUALIFIED),
        ),
    ).astype(object)
    _insert(
        model=Lead,
        columns={
            "id": _next_id(Lead) + np.arange(size, dtype=np.int64),
            "account": acc.ids[source.account],
            "contact": source.contact,
            "source_channel": np.asarray(CHANNELS, dtype=object)[source.channel],
            "handed_off_at": handed,
            "first_follow_up_at": follow_up,
            "status": status,
            "external_id": [f"LEAD-{n:06d}" for n in range(1, size + 1)],
        },
    )

    # The first sales touch on the contact, at the recorded follow-up moment.
    done = np.flatnonzero(followed)
    channel = np.where(rng.random(len(done)) < 0.65, CH[Channel.SDR_OUTREACH], CH[Channel.PHONE])
    kind = _pick_per_channel(
        rng=rng,
        channel=channel,
        table={c: OUTBOUND_TOUCHES[c] for c in SALES_CHANNELS},
    )
    follow_ups = _Touches(
        account=source.account[done],
        at=follow_up[done],
        channel=channel,
        kind=kind,
        contact=source.contact[done],
        step=np.full(len(done), -1, dtype=np.int64),
        cost=np.zeros(len(done)),
        duration=np.full(len(done), -1, dtype=np.int64),
    )
    return follow_ups, size


def _budget_lines(
    *, rng: np.random.Generator, programmes: dict[int, _Programme], clock: _Clock
) -> int:
    """Spend beyond activity costs: monthly programme fees, and a few per-channel contracts."""
    start = (clock.now - timedelta(days=WINDOW_DAYS)).date()
    months = []
    month = date(start.year, start.month, 1)
    while month < clock.now.date():
        if month >= start:
            months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    lines = []
    for _, programme in sorted(programmes.items()):
        monthly = float(programme.playbook.budget) * 0.45 / 12
        for month in months:
            amount = round(monthly * float(rng.lognormal(0, 0.15)), 2)
            lines.append(
                BudgetLine(
                    playbook=programme.playbook,
                    date=month,
                    amount=amount,
                    description="Agency, creative and media fees",
                )
            )
    per_channel = (
        (Channel.EVENT, 3, 18_000.0, "Trade-show sponsorship"),
        (Channel.CONTENT, 1, 4_000.0, "Content agency retainer"),
        (Channel.DISPLAY, 1, 2_500.0, "Intent data and programmatic platform"),
        (Channel.WEBINAR, 3, 1_500.0, "Webinar platform licence"),
    )
    for channel, every, typical, description in per_channel:
        for month in months[::every]:
            amount = round(typical * float(rng.lognormal(0, 0.2)), 2)
            lines.append(
                BudgetLine(channel=channel, date=month, amount=amount, description=description)
            )
    BudgetLine.objects.bulk_create(lines)
    return len(lines)


# --- vectorised helpers ------------------------------------------------------------------------


class _Keyed:
    """Moments per account, sorted, for "how many before t" and "the n-th after t" in bulk."""

    SPAN = 1 << 40  # seconds per account in the key, far beyond any epoch second we use

    def __init__(self, account: np.ndarray, at: np.ndarray) -> None:
        self.keys = np.sort(account.astype(np.int64) * self.SPAN + at)

    def count_before(self, account: np.ndarray, at: np.ndarray, *, seconds: int) -> np.ndarray:
        """Moments in (at - seconds, at] per query."""
        base = account.astype(np.int64) * self.SPAN
        upper = np.searchsorted(self.keys, base + at, side="right")
        lower = np.searchsorted(self.keys, base + at - seconds, side="right")
        return upper - lower

    def nth_after(
        self, account: np.ndarray, at: np.ndarray, *, nth: int, missing: int
    ) -> np.ndarray:
        """The n-th moment of the account strictly after `at`, or `missing`."""
        base = account.astype(np.int64) * self.SPAN
        index = np.searchsorted(self.keys, base + at, side="right") + nth - 1
        end = np.searchsorted(self.keys, base + self.SPAN, side="left")
        found = index < end
        value = self.keys[np.minimum(index, len(self.keys) - 1)] - base if len(self.keys) else 0
        return np.where(found, value, missing)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _calibrate(score: np.ndarray, target: float) -> float:
    """The offset a with sum(sigmoid(a + score)) = target (bisection; clamped when unreachable)."""
    low, high = -40.0, 40.0
    for _ in range(60):
        middle = (low + high) / 2
        if _sigmoid(middle + score).sum() < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _pick_per_group(
    *, rng: np.random.Generator, group: np.ndarray, choices: Sequence[str], mix: Sequence
) -> np.ndarray:
    codes = np.array([CH[c] for c in choices])
    result = np.empty(len(group), dtype=np.int64)
    for g, shares in enumerate(mix):
        mask = group == g
        result[mask] = codes[rng.choice(len(codes), size=mask.sum(), p=shares)]
    return result


def _pick_per_channel(*, rng: np.random.Generator, channel: np.ndarray, table: dict) -> np.ndarray:
    result = np.full(len(channel), -1, dtype=np.int64)
    for ch, options in table.items():
        mask = channel == CH[ch]
        kinds = np.array([KD[kind] for kind, _ in options])
        shares = np.array([share for _, share in options])
        result[mask] = kinds[rng.choice(len(kinds), size=mask.sum(), p=shares / shares.sum())]
    if (result < 0).any():
        raise ValueError("a channel without kinds")
    return result


def _pick_contacts(
    *, rng: np.random.Generator, acc: _Accounts, account: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    # Skewed to the first contacts of an account: its buying committee.
    offset = (rng.random(len(account)) ** 1.6 * acc.contact_count[account]).astype(np.int64)
    return np.where(mask, acc.contact_first[account] + offset, -1)


def _costs(*, rng: np.random.Generator, channel: np.ndarray, kind: np.ndarray) -> np.ndarray:
    cost = np.zeros(len(kind))
    impression = kind == KD[ActivityKind.AD_IMPRESSION]
    rules = (
        (impression & (channel == CH[Channel.PAID_SOCIAL]), np.log(1.2), 0.6, 0.01, 6.0),
        (impression & (channel == CH[Channel.DISPLAY]), np.log(0.25), 0.8, 0.01, 4.0),
        (kind == KD[ActivityKind.DIRECT_MAIL_SENT], np.log(40), 0.15, 20.0, 80.0),
        (kind == KD[ActivityKind.EVENT_ATTENDED], np.log(300), 0.2, 120.0, 650.0),
    )
    for mask, mu, sigma, low, high in rules:
        cost[mask] = np.clip(rng.lognormal(mu, sigma, mask.sum()), low, high)
    return np.round(cost, 2)


def _time_of_day(*, rng: np.random.Generator, size: int, business: bool) -> np.ndarray:
    hours, weights = (
        (BUSINESS_HOURS, BUSINESS_HOUR_WEIGHTS) if business else (OPEN_HOURS, OPEN_HOUR_WEIGHTS)
    )
    hour = rng.choice(hours, size=size, p=weights / weights.sum())
    return hour * HOUR + rng.integers(0, HOUR, size)


def _to_weekday(
    *,
    rng: np.random.Generator,
    days: np.ndarray,
    low: int,
    high: int,
    share: float | np.ndarray = 1.0,
) -> np.ndarray:
    """Move (a share of) weekend days to the Friday before, or the Monday after at the start."""
    weekday = (days + 3) % 7  # 1970-01-01, epoch day 0, was a Thursday
    weekend = (weekday >= 5) & (rng.random(len(days)) < share)
    friday = days - (weekday - 4)
    monday = days + (7 - weekday)
    moved = np.where(friday >= low, friday, np.where(monday <= high, monday, days))
    return np.where(weekend, moved, days)


# --- writing -----------------------------------------------------------------------------------


@contextmanager
def _indexes_rebuilt(model: type[models.Model]) -> Iterator[None]:
    """Drop the table's secondary indexes (and on PostgreSQL its unique and foreign-key
    constraints), let the caller load it, then recreate them from their saved definitions.

    Building an index once over a million rows is several times faster than updating it row by
    row, and adding a foreign key validates it with one join instead of a trigger per row (PostgreSQL
    manual, "Populating a Database"). DDL is transactional on both backends, so a failure
    rolls the drop back with everything else.
    """
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Run the checks deferred so far: a table with pending trigger events cannot be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY conname",
                [table],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid) ORDER BY 1",
                [table],
            )
            indexes = cursor.fetchall()
            for name, _ in constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL ORDER BY name",
                [table],
            )
            constraints, indexes = [], cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")
        else:
            constraints, indexes = [], []
    yield
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextmanager
def _bulk_load_settings() -> Iterator[None]:
    """On SQLite, a page cache big enough for the activity indexes (else they thrash the disk)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def _reset_sequences() -> None:
    written = [Account, Contact, Enrolment, EnrolmentStageChange, Opportunity]
    written += [OpportunityStageChange, Lead, Activity]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), written):
            cursor.execute(sql)


def _insert(*, model: type[models.Model], columns: dict[str, Any]) -> None:
    """Write columns of equal length (scalars are repeated) as rows of `model`, in bulk.

    Values by field type: integers and foreign keys as int arrays where -1 is NULL, datetimes as
    epoch seconds, dates as epoch days, decimals as floats, JSON as Python objects.
    """
    size = next(len(v) for v in columns.values() if isinstance(v, list | np.ndarray))
    if size == 0:
        return
    fields = [model._meta.get_field(name) for name in columns]
    prepared = {
        f.column: _db_values(db_field=f, values=values, size=size)
        for f, values in zip(fields, columns.values(), strict=True)
    }
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in prepared)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_sql = f"COPY {table} ({names}) FROM STDIN"
            _copy(raw_cursor=cursor.cursor, copy_sql=copy_sql, prepared=prepared, size=size)
        else:
            sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(prepared))})"
            lists = [_python_list(v) for v in prepared.values()]
            # Lists, not a generator: Django's executemany peeks with itertools.tee, which makes a
            # lazily zipped million rows about twice as slow.
            for start in range(0, size, INSERT_CHUNK):
                rows = list(zip(*(c[start : start + INSERT_CHUNK] for c in lists), strict=True))
                cursor.cursor.executemany(sql, rows)


COPY_CHUNK = INSERT_CHUNK = 200_000
SQLITE_CACHE_KIB = 512 * 1024


def _copy(*, raw_cursor: Any, copy_sql: str, prepared: dict[str, Any], size: int) -> None:
    frame = pd.DataFrame(prepared, copy=False)
    sql = f"{copy_sql} WITH (FORMAT csv, NULL '\\N')"
    for start in range(0, size, COPY_CHUNK):
        buffer = io.StringIO()
        frame.iloc[start : start + COPY_CHUNK].to_csv(
            buffer, header=False, index=False, na_rep="\\N"
        )
        buffer.seek(0)
        raw_cursor.copy_expert(sql, buffer)


def _db_values(*, db_field: models.Field, values: Any, size: int) -> Any:
    if isinstance(values, str):
        return [str(values)] * size  # str() turns a choices member into its plain value
    if isinstance(values, bool | float):
        return np.full(size, values)
    if isinstance(values, int):
        values = np.full(size, values, dtype=np.int64)
    if isinstance(db_field, models.DateTimeField):
        return _datetime_text(np.asarray(values, dtype=np.int64))
    if isinstance(db_field, models.DateField):
        days = np.asarray(values, dtype=np.int64)
        return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)
    if isinstance(db_field, models.JSONField):
        return [json.dumps(v) for v in values]
    if isinstance(db_field, models.DecimalField):
        return np.round(np.asarray(values, dtype=float), db_field.decimal_places)
    if isinstance(values, np.ndarray) and values.dtype.kind == "i" and db_field.null:
        values = values.astype(np.int64)
        return pd.arrays.IntegerArray(values, values < 0)
    return values


def _datetime_text(seconds: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS' in UTC (how Django stores datetimes on SQLite); None for -1."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    text.view(np.uint32).reshape(len(text), -1)[:, 10] = ord(" ")
    if connection.vendor == "postgresql":
        text = np.char.add(text, "+00")
    text = text.astype(object)
    text[seconds < 0] = None
    return text


def _python_list(values: Any) -> list:
    if isinstance(values, pd.arrays.IntegerArray):
        return values.to_numpy(dtype=object, na_value=None).tolist()
    if isinstance(values, np.ndarray):
        return values.tolist()
    return list(values)
