"""Three starter playbooks to clone from, one per tier, kept in the database by post_migrate.

`ensure_starter_playbooks` is idempotent by name among starters: it creates only the missing ones and
never touches an existing starter, so an admin's edits survive migrations and a deleted starter
comes back on the next `migrate`.
"""

from decimal import Decimal

from django.apps import apps as global_apps
from django.conf import settings

SIGN_OFF = "\n\n{{ owner.first_name }} {{ owner.last_name }}\n{{ owner.email }}"


def _step(channel, day, role, subject, body, *, buying_role="", seniority="", cost="0"):
    return {
        "channel": channel,
        "day_offset": day,
        "owner_role": role,
        "subject": subject,
        "body": body.strip(),
        "target_buying_role": buying_role,
        "target_seniority": seniority,
        "unit_cost": Decimal(cost),
    }


# Convert exits when the deal is won: an open opportunity is still being converted, and only a
# customer enters Retain (its steps welcome customers).
STAGES = (("Find", "aware"), ("Nurture", "mqa"), ("Convert", "customer"), ("Retain", ""))

STARTER_PLAYBOOKS = (
    {
        "name": "Tier 1 · Executive one-to-one programme",
        "objective": (
            "Open executive conversations at our strategic accounts with tailored, high-touch "
            "plays, and turn them into qualified pipeline within two quarters."
        ),
        "tiers": [1],
        "budget": Decimal("180000"),
        "stages": (
            (
                _step(
                    "web_personalisation",
                    0,
                    "marketing",
                    "{{ account.name }} landing page",
                    """
Headline: How {{ account.industry }} leaders like {{ account.name }} align sales and marketing on the accounts that matter.
Show the {{ account.industry }} customer stories first and put {{ owner.first_name }}'s calendar link on the page.
""",
                ),
                _step(
                    "direct_mail",
                    2,
                    "marketing",
                    "A field guide for {{ contact.first_name }}",
                    """
Dear {{ contact.first_name }},

Leaders in {{ account.industry }} keep telling us the hard part is not the strategy but getting every team to move on the same accounts at once. We wrote a short field guide on how peers do it, and thought it might be useful at {{ account.name }}.

{{ owner.first_name }} looks after our relationship with {{ account.name }} and would be glad to compare notes whenever it suits you.

With best regards,
"""
                    + SIGN_OFF,
                    buying_role="decision_maker",
                    seniority="c_level",
                    cost="85",
                ),
                _step(
                    "linkedin",
                    5,
                    "sales",
                    "Connect with {{ contact.first_name }}",
                    """
Hi {{ contact.first_name }}, I work with several {{ account.industry }} teams on account-based programmes and look after {{ account.name }} at Keystone. I sent over our field guide last week; happy to share what your peers found most useful. {{ owner.first_name }}
""",
                    buying_role="decision_maker",
                ),
                _step(
                    "phone",
                    9,
                    "sales",
                    "Call {{ contact.first_name }} about the field guide",
                    """
Goal: a 30-minute conversation with {{ contact.first_name }} ({{ contact.title }}).
Open with the field guide, ask how {{ account.name }} plans its top accounts today, and offer the peer benchmark for {{ account.industry }}.
""",
                    buying_role="decision_maker",
                ),
            ),
            (
                _step(
                    "event",
                    0,
                    "marketing",
                    "Invitation: {{ account.industry }} leadership dinner",
                    """
Dear {{ contact.first_name }},

We are hosting a small dinner for {{ account.industry }} leaders next month: twelve people, no slides, one honest conversation about growing the accounts that matter most. It would be a pleasure to have you there on behalf of {{ account.name }}.

Kind regards,
"""
                    + SIGN_OFF,
                    seniority="c_level",
                    cost="450",
                ),
                _step(
                    "email",
                    7,
                    "sales",
                    "Three ideas for {{ account.name }}",
                    """
Hi {{ contact.first_name }},

Following our conversations, I sketched three ideas for how {{ account.name }} could focus its go-to-market on fewer, bigger accounts. Each one is something a {{ account.industry }} peer has already tried, with the numbers they saw.

Would a 20-minute walk-through next week be useful?

Best,
"""
                    + SIGN_OFF,
                    buying_role="champion",
                ),
                _step(
                    "content",
                    14,
                    "marketing",
                    "A business case template for {{ account.name }}",
                    """
Hi {{ contact.first_name }},

Here is the business case template {{ account.industry }} teams use to size an account-based programme, pre-filled with public figures for {{ account.name }}. Adjust the assumptions and the totals update.

Best regards,
"""
                    + SIGN_OFF,
                    buying_role="champion",
                ),
            ),
            (
                _step(
                    "phone",
                    0,
                    "sales",
                    "Book discovery with {{ contact.first_name }}",
                    """
{{ account.name }} is now highly engaged. Call {{ contact.first_name }} to agree the problem, the people involved and a date for a discovery workshop.
""",
                    buying_role="decision_maker",
                ),
                _step(
                    "email",
                    3,
                    "sales",
                    "Agenda for our workshop with {{ account.name }}",
                    """
Hi {{ contact.first_name }},

Thank you for your time. As promised, here is a proposed agenda for the workshop: where {{ account.name }} is today, what good looks like in a year, and the smallest first step that proves it.

Please add anyone who should be in the room.

Best,
"""
                    + SIGN_OFF,
                    buying_role="decision_maker",
                ),
            ),
            (
                _step(
                    "email",
                    0,
                    "sales",
                    "Welcome aboard, {{ account.name }}",
                    """
Hi {{ contact.first_name }},

Welcome to Keystone. I will stay your point of contact, and our customer team will be in touch this week to plan the first 90 days with you.

Thank you for your trust,
"""
                    + SIGN_OFF,
                    buying_role="decision_maker",
                ),
                _step(
                    "event",
                    60,
                    "marketing",
                    "Invitation: customer advisory board",
                    """
Dear {{ contact.first_name }},

We would value {{ account.name }}'s voice on our customer advisory board: two sessions a year where a handful of {{ account.industry }} leaders shape what we build next.

Kind regards,
"""
                    + SIGN_OFF,
                    seniority="c_level",
                    cost="300",
                ),
            ),
        ),
    },
    {
        "name": "Tier 2 · Industry cluster one-to-few",
        "objective": (
            "Warm up clusters of similar accounts with industry-specific stories and hand the "
            "engaged ones to sales quickly."
        ),
        "tiers": [2],
        "budget": Decimal("90000"),
        "stages": (
            (
                _step(
                    "paid_social",
                    0,
                    "marketing",
                    "{{ account.industry }} benchmark campaign",
                    """
Audience: {{ account.name }} employees, director level and above.
Ad copy: How does your {{ account.industry }} team compare? See the benchmark.
""",
                    cost="3.50",
                ),
                _step(
                    "email",
                    3,
                    "marketing",
                    "The {{ account.industry }} benchmark, with {{ account.name }} in mind",
                    """
Hi {{ contact.first_name }},

We surveyed 200 {{ account.industry }} teams on how they find and grow their best accounts. The short version: the leaders spend less, on fewer accounts, with sales and marketing working from one list.

The full benchmark is yours here. I would be curious where {{ account.name }} sits.

Best,
"""
                    + SIGN_OFF,
                    buying_role="champion",
                ),
                _step(
                    "linkedin",
                    7,
                    "sales",
                    "Connect with {{ contact.first_name }}",
                    """
Hi {{ contact.first_name }}, I look after {{ account.industry }} accounts like {{ account.name }} at Keystone and share what we learn from the benchmark. Would be glad to connect. {{ owner.first_name }}
""",
                    buying_role="champion",
                ),
            ),
            (
                _step(
                    "webinar",
                    0,
                    "marketing",
                    "Invitation: {{ account.industry }} round-table",
                    """
Hi {{ contact.first_name }},

Join three {{ account.industry }} revenue leaders for a 40-minute round-table on building an account-based programme that sales trusts. Bring your questions; we keep it practical.

See you there,
"""
                    + SIGN_OFF,
                    buying_role="influencer",
                    cost="15",
                ),
                _step(
                    "email",
                    7,
                    "marketing",
                    "Recording: the {{ account.industry }} round-table",
                    """
Hi {{ contact.first_name }},

Here is the recording of the round-table, with the three slides everyone asked for. The second speaker's approach to account selection is the one most {{ account.industry }} teams start with.

Best,
"""
                    + SIGN_OFF,
                ),
                _step(
                    "sdr_outreach",
                    10,
                    "sales",
                    "{{ account.name }} and the round-table",
                    """
Hi {{ contact.first_name }},

I saw interest from {{ account.name }} in our {{ account.industry }} round-table. If it would help, I can share how a peer set up their first account-based pilot in six weeks.

Open to a short call on Thursday?

{{ owner.first_name }}
""",
                    buying_role="champion",
                ),
            ),
            (
                _step(
                    "phone",
                    0,
                    "sales",
                    "Discovery call with {{ contact.first_name }}",
                    """
{{ account.name }} reached MQA. Call {{ contact.first_name }} ({{ contact.title }}): confirm priorities, budget timing and who else decides.
""",
                    buying_role="decision_maker",
                ),
                _step(
                    "email",
                    3,
                    "sales",
                    "Next steps for {{ account.name }}",
                    """
Hi {{ contact.first_name }},

Thanks for the conversation. I have summarised what we heard from {{ account.name }} and proposed a short pilot with a clear success measure. Let me know what I got wrong.

Best,
"""
                    + SIGN_OFF,
                    buying_role="decision_maker",
                ),
            ),
            (
                _step(
                    "webinar",
                    30,
                    "marketing",
                    "Customer masterclass: {{ account.industry }} edition",
                    """
Hi {{ contact.first_name }},

As a customer, {{ account.name }} is invited to our quarterly masterclass, where {{ account.industry }} customers share what moved their numbers.

See you there,
"""
                    + SIGN_OFF,
                    cost="15",
                ),
            ),
        ),
    },
    {
        "name": "Tier 3 · Programmatic one-to-many",
        "objective": (
            "Build awareness across a broad set of fitting accounts at low cost per account, and "
            "surface the ones that show intent."
        ),
        "tiers": [3],
        "budget": Decimal("40000"),
        "stages": (
            (
                _step(
                    "display",
                    0,
                    "marketing",
                    "{{ account.industry }} awareness display",
                    """
Targeting: {{ account.domain }} and look-alike {{ account.industry }} companies.
Creative: the {{ account.industry }} benchmark, one message, three sizes.
""",
                    cost="0.90",
                ),
                _step(
                    "paid_social",
                    7,
                    "marketing",
                    "{{ account.industry }} benchmark retargeting",
                    """
Audience: visitors from {{ account.name }} who did not download the benchmark.
Ad copy: The {{ account.industry }} benchmark, in five minutes.
""",
                    cost="1.20",
                ),
            ),
            (
                _step(
                    "email",
                    0,
                    "marketing",
                    "{{ contact.first_name }}, the {{ account.industry }} benchmark",
                    """
Hi {{ contact.first_name }},

Teams at {{ account.name }} have been reading about account-based marketing. Our {{ account.industry }} benchmark shows what the top quarter of teams do differently, in five minutes.

Best,
"""
                    + SIGN_OFF,
                ),
                _step(
                    "content",
                    7,
                    "marketing",
                    "Checklist: a first account-based pilot",
                    """
Hi {{ contact.first_name }},

A one-page checklist for running a first account-based pilot, from picking 50 accounts to the report your CFO will ask for.

Best,
"""
                    + SIGN_OFF,
                ),
                _step(
                    "email",
                    14,
                    "marketing",
                    "How a {{ account.industry }} team doubled meetings",
                    """
Hi {{ contact.first_name }},

One short story: a {{ account.industry }} team much like {{ account.name }} doubled first meetings with its target accounts in a quarter. Here is what they changed.

Best,
"""
                    + SIGN_OFF,
                ),
            ),
            (
                _step(
                    "sdr_outreach",
                    0,
                    "sales",
                    "Quick question, {{ contact.first_name }}",
                    """
Hi {{ contact.first_name }},

Someone at {{ account.name }} has been reading our {{ account.industry }} material. Is growing your largest accounts a priority this year? If so, a 15-minute call could save you some trial and error.

{{ owner.first_name }}
""",
                ),
                _step(
                    "phone",
                    4,
                    "sales",
                    "Follow-up call to {{ contact.first_name }}",
                    """
Follow up the email to {{ contact.first_name }} at {{ account.name }}. Qualify: current approach, team size, timing.
""",
                ),
            ),
            (
                _step(
                    "email",
                    0,
                    "marketing",
                    "Getting started at {{ account.name }}",
                    """
Hi {{ contact.first_name }},

Welcome to Keystone. Here are the three guides new {{ account.industry }} customers find most useful in their first month.

Best,
"""
                    + SIGN_OFF,
                ),
            ),
        ),
    },
)


def ensure_starter_playbooks(*, apps=global_apps, using: str = "default") -> int:
    """Create the starter playbooks that are missing; returns how many were created.

    `apps` is the app registry of a migration state when called from post_migrate, so this works
    before and after later changes to the models.
    """
    Playbook = apps.get_model("playbooks", "Playbook")
    Stage = apps.get_model("playbooks", "Stage")
    Step = apps.get_model("playbooks", "Step")
    existing = set(
        Playbook.objects.using(using).filter(is_starter=True).values_list("name", flat=True)
    )
    created = 0
    for spec in STARTER_PLAYBOOKS:
        if spec["name"] in existing:
            continue
        playbook = Playbook.objects.using(using).create(
            name=spec["name"],
            objective=spec["objective"],
            audience_tiers=spec["tiers"],
            status="draft",
            budget=spec["budget"],
            holdout_share=settings.ABM_HOLDOUT_SHARE,
            is_starter=True,
        )
        for order, ((stage_name, exit_stage), steps) in enumerate(
            zip(STAGES, spec["stages"], strict=True)
        ):
            stage = Stage.objects.using(using).create(
                playbook=playbook, order=order, name=stage_name, exit_stage=exit_stage
            )
            Step.objects.using(using).bulk_create(
                Step(stage=stage, order=i, **step) for i, step in enumerate(steps)
            )
        created += 1
    return created
