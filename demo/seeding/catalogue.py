"""The demo's vocabulary and dials: people, companies, channels, rates and the playbooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from abm.lib.channels import OUTBOUND_KINDS, ActivityKind, Channel
from abm.models import Role
from accounts.models import (
    BuyingRole,
    OpportunityStage,
    Seniority,
)
from playbooks.models import (
    OwnerRole,
)

DEMO_PASSWORD = "demo1234"
# The number of accounts the budgets and contracts below are sized for (`make run` seeds it).
DEFAULT_ACCOUNTS = 300
# The apps whose rows are the domain (every app above abm): flush_domain_data empties them.
DOMAIN_APPS = ("accounts", "playbooks", "ingestion", "metrics", "goals", "dashboards", "demo")

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
# Share of non-target accounts that marketing never reaches.
UNREACHED_SHARE = 0.5
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
OPPORTUNITIES_PER_ACCOUNT = (0.35, 1.3, 0.95, 0.7)
UNREACHED_OPPORTUNITIES_PER_ACCOUNT = 0.3
OPPORTUNITY_CANDIDATES = (4.0, 12.0, 9.0, 7.0)
# How strongly log(1 + inbound touches of the 90 days before) drives creation (logit scale).
CREATION_PULL = 1.0
WIN_RATE = 0.3
# How strongly the same engagement lifts the chance to win (logit scale).
WIN_PULL = 0.2
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


def _cadence(
    start: int,
    every: int,
    until: int,
    subjects: Sequence[str],
    *,
    buying_role: str = "",
    role: str = OwnerRole.SALES,
) -> tuple[dict[str, Any], ...]:
    """Recurring touches in a stage the account may stay in for months, from `start` every
    `every` days up to `until`: a rep's calls, emails and messages in turn, or marketing emails."""
    channels = (
        (Channel.PHONE, Channel.EMAIL, Channel.LINKEDIN)
        if role == OwnerRole.SALES
        else (Channel.EMAIL,)
    )
    return tuple(
        _step(
            channels[i % len(channels)],
            day,
            role,
            subjects[i % len(subjects)],
            buying_role=buying_role,
        )
        for i, day in enumerate(range(start, until + 1, every))
    )


CHECK_INS = ("Check-in call", "Useful read for {{ account.name }}", "Quick update")
DEAL_TOUCHES = ("Next steps call", "Proposal follow-up", "Questions on the proposal?")
CUSTOMER_TOUCHES = ("Account review", "What is new for {{ account.name }}", "Adoption check-in")

MKT, SALES = OwnerRole.MARKETING, OwnerRole.SALES
DM, CHAMP = BuyingRole.DECISION_MAKER, BuyingRole.CHAMPION
# Stage name, exit journey stage, and how often the playbook's touches come from that stage.
# Convert runs while the deal is open: it exits when the account becomes a customer.
STAGES = (("Find", "aware", 0.35), ("Nurture", "mqa", 0.35), ("Convert", "customer", 0.2))
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
                _step(Channel.LINKEDIN, 21, SALES, "The peer study for {{ account.name }}"),
                _step(Channel.PHONE, 45, SALES, "Check-in call", buying_role=CHAMP),
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
                _step(Channel.PHONE, 21, SALES, "Mutual close plan", buying_role=DM),
                _step(Channel.EMAIL, 45, SALES, "Proposal follow-up", buying_role=DM),
            ),
            (
                _step(Channel.WEBINAR, 0, MKT, "Customer round-table"),
                _step(Channel.CONTENT, 30, MKT, "Success plan for {{ account.name }}"),
                _step(Channel.PHONE, 60, SALES, "Quarterly business review", buying_role=DM),
                _step(Channel.PHONE, 150, SALES, "Renewal check-in", buying_role=DM),
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
                _step(Channel.LINKEDIN, 28, SALES, "Connect on LinkedIn", buying_role=CHAMP),
            ),
            (
                _step(Channel.SDR_OUTREACH, 0, SALES, "A short call?", buying_role=CHAMP),
                _step(Channel.PHONE, 5, SALES, "Discovery call", buying_role=DM),
                _step(Channel.PHONE, 21, SALES, "Proposal walkthrough", buying_role=DM),
                _step(Channel.PHONE, 50, SALES, "Decision call", buying_role=DM),
            ),
            (
                _step(Channel.EMAIL, 0, MKT, "Welcome aboard, {{ account.name }}"),
                _step(Channel.WEBINAR, 30, MKT, "Customer masterclass"),
                _step(Channel.PHONE, 90, SALES, "Quarterly check-in", buying_role=CHAMP),
            ),
        ),
    },
    {
        "tier": 3,
        "name": "Programmatic: 1:many programme",
        "objective": "Build awareness across tier-3 accounts at a low cost per account.",
        "budget": 60_000,
        # A large holdout: with about 90 tier-3 accounts at 300 accounts, both groups stay >= 30
        # and the playbook's lift can be measured (DOMAIN.md "Holdout lift").
        "holdout_share": 0.4,
        "stages": (
            (
                _step(Channel.DISPLAY, 0, MKT, "Display awareness", cost=0.25),
                _step(Channel.PAID_SOCIAL, 0, MKT, "Social awareness", cost=1.5),
            ),
            (
                _step(Channel.EMAIL, 0, MKT, "Ideas for {{ account.name }}"),
                _step(Channel.CONTENT, 7, MKT, "Buyer's guide"),
                _step(Channel.WEB_PERSONALISATION, 7, MKT, "{{ account.industry }} landing page"),
                _step(Channel.SDR_OUTREACH, 30, SALES, "Worth a quick look?"),
            ),
            (
                _step(Channel.SDR_OUTREACH, 0, SALES, "Worth a conversation?"),
                _step(Channel.EMAIL, 3, MKT, "Customer stories from {{ account.industry }}"),
                _step(Channel.PHONE, 14, SALES, "Discovery call"),
                _step(Channel.PHONE, 35, SALES, "Proposal follow-up"),
            ),
            (
                _step(Channel.EMAIL, 0, MKT, "Getting started"),
                _step(Channel.CONTENT, 30, MKT, "Best-practice library"),
                _step(Channel.PHONE, 120, SALES, "Adoption check-in"),
            ),
        ),
    },
)

# The reps' recurring touches per tier, for Nurture, Convert and Retain: (start, every, until) in
# days from stage entry. An account stays in these stages for months, so the work keeps coming.
REP_CADENCES = {
    1: ((14, 7, 182), (7, 7, 119), (21, 21, 336)),
    2: ((21, 10, 181), (10, 7, 115), (30, 30, 330)),
    3: ((28, 14, 182), (14, 10, 114), (45, 45, 315)),
}
# Marketing's monthly follow-ups in Nurture and Retain (the same for every tier).
MARKETING_CADENCE = (30, 30, 330)
NURTURE_MAILS = ("This month for {{ account.industry }} teams", "New: {{ account.industry }} brief")
CUSTOMER_MAILS = ("Product news for {{ account.name }}", "Tips from other customers")
PLAYBOOKS = tuple(
    {
        **spec,
        "stages": (
            spec["stages"][0],
            *(
                (
                    *steps,
                    *_cadence(*timing, subjects, buying_role=role),
                    *(_cadence(*MARKETING_CADENCE, mails, role=MKT) if mails else ()),
                )
                for steps, timing, subjects, role, mails in zip(
                    spec["stages"][1:],
                    REP_CADENCES[spec["tier"]],
                    (CHECK_INS, DEAL_TOUCHES, CUSTOMER_TOUCHES),
                    (CHAMP, DM, DM),
                    (NURTURE_MAILS, (), CUSTOMER_MAILS),
                    strict=True,
                )
            ),
        ),
    }
    for spec in PLAYBOOKS
)
