from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from abm.lib.channels import Channel
from abm.lib.constraints import one_of


class JourneyStage(models.TextChoices):
    TARGETED = "targeted", "Targeted"
    AWARE = "aware", "Aware"
    ENGAGED = "engaged", "Engaged"
    MQA = "mqa", "MQA"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"


class Tier(models.IntegerChoices):
    STRATEGIC = 1, "Tier 1 (1:1)"
    CLUSTER = 2, "Tier 2 (1:few)"
    PROGRAMMATIC = 3, "Tier 3 (1:many)"


class Seniority(models.TextChoices):
    C_LEVEL = "c_level", "C-level"
    VP = "vp", "VP"
    DIRECTOR = "director", "Director"
    MANAGER = "manager", "Manager"
    OTHER = "other", "Other"


class BuyingRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", "Decision maker"
    CHAMPION = "champion", "Champion"
    INFLUENCER = "influencer", "Influencer"
    USER = "user", "User"
    BLOCKER = "blocker", "Blocker"
    UNKNOWN = "unknown", "Unknown"


# The buying committee whose coverage DOMAIN.md measures (accounts/committee.py).
COMMITTEE_ROLES = (BuyingRole.DECISION_MAKER, BuyingRole.CHAMPION, BuyingRole.INFLUENCER)


class OpportunityStage(models.TextChoices):
    QUALIFICATION = "qualification", "Qualification"
    DISCOVERY = "discovery", "Discovery"
    PROPOSAL = "proposal", "Proposal"
    NEGOTIATION = "negotiation", "Negotiation"
    CLOSED_WON = "closed_won", "Closed won"
    CLOSED_LOST = "closed_lost", "Closed lost"


CLOSED_STAGES = (OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST)


class OpportunitySource(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"
    PARTNER = "partner", "Partner"
    OTHER = "other", "Other"


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    WORKING = "working", "Working"
    QUALIFIED = "qualified", "Qualified"
    DISQUALIFIED = "disqualified", "Disqualified"


class ICP(models.Model):
    """Weighted ideal-customer criteria; exactly one profile is active and scores every account."""

    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    industries = models.JSONField(default=list, blank=True)
    industries_weight = models.FloatField(default=0)
    employees_min = models.PositiveIntegerField(null=True, blank=True)
    employees_max = models.PositiveIntegerField(null=True, blank=True)
    employees_weight = models.FloatField(default=0)
    revenue_min = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    revenue_max = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    revenue_weight = models.FloatField(default=0)
    countries = models.JSONField(default=list, blank=True)
    countries_weight = models.FloatField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "ICP"
        verbose_name_plural = "ICPs"
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="icp_one_active"
            ),
            models.CheckConstraint(
                condition=Q(industries_weight__gte=0)
                & Q(employees_weight__gte=0)
                & Q(revenue_weight__gte=0)
                & Q(countries_weight__gte=0),
                name="icp_weights_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(employees_min__isnull=True)
                | Q(employees_max__isnull=True)
                | Q(employees_min__lte=models.F("employees_max")),
                name="icp_employees_range",
            ),
            models.CheckConstraint(
                condition=Q(revenue_min__isnull=True)
                | Q(revenue_max__isnull=True)
                | Q(revenue_min__lte=models.F("revenue_max")),
                name="icp_revenue_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, unique=True)
    industry = models.CharField(max_length=100, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    # In the reporting currency; an import in another currency keeps what the file said.
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    annual_revenue_original = models.DecimalField(
        max_digits=18, decimal_places=2, null=True, blank=True
    )
    # db_default: loaders writing raw SQL (the demo seeding) leave these columns out.
    annual_revenue_currency = models.CharField(max_length=3, blank=True, db_default="")
    country = models.CharField(max_length=64, blank=True)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
    )
    stage = models.CharField(max_length=16, choices=JourneyStage.choices, blank=True)
    fit_score = models.FloatField(default=0)
    fit_breakdown = models.JSONField(default=list, blank=True)
    # Copied from the latest EngagementScore so lists can filter and sort without a join.
    engagement_score = models.FloatField(default=0)
    spike = models.BooleanField(default=False)
    external_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="account_external_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(domain=Lower("domain")), name="account_domain_lower"
            ),
            models.CheckConstraint(
                condition=Q(tier__isnull=True) | one_of("tier", Tier), name="account_tier_valid"
            ),
            models.CheckConstraint(
                condition=Q(stage="") | one_of("stage", JourneyStage), name="account_stage_valid"
            ),
            models.CheckConstraint(
                condition=Q(fit_score__gte=0) & Q(fit_score__lte=100), name="account_fit_0_100"
            ),
            models.CheckConstraint(
                condition=Q(engagement_score__gte=0), name="account_engagement_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(annual_revenue__isnull=True) | Q(annual_revenue__gte=0),
                name="account_revenue_non_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "tier"]),
            models.Index(fields=["tier", "stage"]),
            # The target accounts' ids without reading the rows (an index-only scan): the
            # director's funnel joins them to the stage changes (a scan of every row: 22 ms).
            models.Index(fields=["tier"], include=["id"], name="account_tier_ids"),
            # The newest edit, cheaply: the director's kept figures change with it.
            models.Index(fields=["updated_at"]),
            models.Index(fields=["industry"]),
            models.Index(fields=["country"]),
            models.Index(fields=["-fit_score"]),
            models.Index(fields=["-engagement_score"]),
        ]

    def __str__(self) -> str:
        return self.name


class OwnershipChange(models.Model):
    """Who owned an account, and who moved it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="ownership_changes")
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    new_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["account", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.previous_owner_id} -> {self.new_owner_id}"


class Contact(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254)
    title = models.CharField(max_length=200, blank=True)
    seniority = models.CharField(max_length=16, choices=Seniority.choices, default=Seniority.OTHER)
    buying_role = models.CharField(
        max_length=16, choices=BuyingRole.choices, default=BuyingRole.UNKNOWN
    )
    external_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "email"], name="contact_email_per_account"),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="contact_external_id_unique",
            ),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="contact_email_lower"),
            models.CheckConstraint(
                condition=one_of("seniority", Seniority), name="contact_seniority_valid"
            ),
            models.CheckConstraint(
                condition=one_of("buying_role", BuyingRole), name="contact_buying_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Opportunity(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="opportunities")
    name = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=14, decimal_places=2)  # in the reporting currency
    amount_original = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    amount_currency = models.CharField(max_length=3, blank=True, db_default="")
    stage = models.CharField(
        max_length=16, choices=OpportunityStage.choices, default=OpportunityStage.QUALIFICATION
    )
    created_at = models.DateTimeField()
    close_date = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(
        max_length=16, choices=OpportunitySource.choices, default=OpportunitySource.SALES
    )
    external_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "opportunities"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="opportunity_external_id_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_gte_0"),
            models.CheckConstraint(
                condition=one_of("stage", OpportunityStage), name="opportunity_stage_valid"
            ),
            models.CheckConstraint(
                condition=one_of("source", OpportunitySource), name="opportunity_source_valid"
            ),
            # A closed opportunity knows when it closed; an open one has not closed.
            models.CheckConstraint(
                condition=(Q(stage__in=CLOSED_STAGES) & Q(closed_at__isnull=False))
                | (~Q(stage__in=CLOSED_STAGES) & Q(closed_at__isnull=True)),
                name="opportunity_closed_at_matches_stage",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=models.F("created_at")),
                name="opportunity_closes_after_creation",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "created_at"]),
            models.Index(fields=["stage", "created_at"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["closed_at"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.stage not in CLOSED_STAGES


class OpportunityStageChange(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(max_length=16, choices=OpportunityStage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=OpportunityStage.choices)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "to_stage", "changed_at"],
                name="opportunity_stage_change_once",
            ),
            models.CheckConstraint(
                condition=one_of("to_stage", OpportunityStage),
                name="opportunity_stage_change_valid",
            ),
        ]
        indexes = [models.Index(fields=["opportunity", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.from_stage or 'new'} -> {self.to_stage}"


class Lead(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="leads")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    source_channel = models.CharField(max_length=24, choices=Channel.choices)
    handed_off_at = models.DateTimeField()
    first_follow_up_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    external_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["-handed_off_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="lead_external_id_unique",
            ),
            models.CheckConstraint(
                condition=one_of("status", LeadStatus), name="lead_status_valid"
            ),
            models.CheckConstraint(
                condition=one_of("source_channel", Channel), name="lead_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(first_follow_up_at__isnull=True)
                | Q(first_follow_up_at__gte=models.F("handed_off_at")),
                name="lead_follow_up_after_hand_off",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "handed_off_at"]),
            models.Index(fields=["handed_off_at"]),
        ]

    def __str__(self) -> str:
        return f"Lead {self.pk} ({self.get_source_channel_display()})"


class ExchangeRate(models.Model):
    """What one unit of a currency was worth in US dollars from `date` on (DOMAIN.md "Money in
    imports"); an amount uses the latest rate on or before its own date."""

    currency = models.CharField(max_length=3, help_text="ISO 4217 code, such as EUR or SEK.")
    date = models.DateField(help_text="The rate holds from this day until the next rate.")
    usd_per_unit = models.DecimalField(
        "USD per unit",
        max_digits=20,
        decimal_places=10,
        help_text="What one unit of the currency is worth in US dollars (EUR: about 1.08).",
    )

    class Meta:
        ordering = ["currency", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "date"], name="exchange_rate_once_a_day"),
            models.CheckConstraint(condition=Q(usd_per_unit__gt=0), name="exchange_rate_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="exchange_rate_currency_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.date.isoformat()}: {self.usd_per_unit} USD"

    def clean(self) -> None:
        self.currency = (self.currency or "").strip().upper()
