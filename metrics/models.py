import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from abm.lib.channels import ActivityKind, Channel
from abm.lib.constraints import one_of
from accounts.models import JourneyStage


class AttributionModel(models.TextChoices):
    FIRST_TOUCH = "first_touch", "First touch"
    LAST_TOUCH = "last_touch", "Last touch"
    LINEAR = "linear", "Linear"
    TIME_DECAY = "time_decay", "Time decay"
    U_SHAPED = "u_shaped", "U-shaped"
    W_SHAPED = "w_shaped", "W-shaped"
    MARKOV = "markov", "Markov chain"
    SHAPLEY = "shapley", "Shapley"


class ConversionKind(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline (opportunity created)"
    REVENUE = "revenue", "Revenue (closed won)"


class BudgetLine(models.Model):
    """Spend not recorded on activities: agency fees, event sponsorships, ad budgets."""

    playbook = models.ForeignKey(
        "playbooks.Playbook",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="budget_lines",
    )
    channel = models.CharField(max_length=24, choices=Channel.choices, blank=True)
    date = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(playbook__isnull=False) | ~Q(channel=""),
                name="budget_line_has_playbook_or_channel",
            ),
            models.CheckConstraint(
                condition=Q(channel="") | one_of("channel", Channel), name="budget_channel_valid"
            ),
        ]
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.date}: {self.amount}"


class EngagementScore(models.Model):
    """The current engagement of an account, with what makes it up."""

    account = models.OneToOneField(
        "accounts.Account", primary_key=True, on_delete=models.CASCADE, related_name="engagement"
    )
    score = models.FloatField()
    by_channel = models.JSONField(default=dict)
    engaged_contacts = models.PositiveIntegerField(default=0)
    spike = models.BooleanField(default=False)
    top_activities = models.JSONField(default=list)
    # Engaged (daily score >= the engaged score) on a day of the lift period: the lift snapshot
    # classes accounts by it, across every slot of the engine.
    engaged_in_period = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0), name="engagement_score_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score:.1f}"


class EngagementHistory(models.Model):
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="engagement_history"
    )
    date = models.DateField()
    score = models.FloatField()

    class Meta:
        verbose_name_plural = "engagement history"
        ordering = ["account", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "date"], name="engagement_history_once_a_day"
            ),
            models.CheckConstraint(condition=Q(score__gte=0), name="engagement_history_gte_0"),
        ]
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.date}: {self.score:.1f}"


class JourneyStageChange(models.Model):
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(max_length=16, choices=JourneyStage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=JourneyStage.choices, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "changed_at"], name="journey_stage_change_once"
            ),
        ]
        indexes = [models.Index(fields=["changed_at"])]

    def __str__(self) -> str:
        return f"{self.from_stage or 'none'} -> {self.to_stage or 'none'}"


class AttributionCredit(models.Model):
    """Credit of one model for one conversion, summed per channel and playbook (not per touch).

    Derived and replaced wholesale by every recompute (1.5M rows for 20k deals), so it carries
    no database foreign-key constraints and one index besides the key: checking and indexing
    every row on each run cost more than the rest of the recompute together. The writer
    guarantees one row per (model, kind, opportunity, channel, playbook); a test checks it.
    Deleting an opportunity, account or playbook still deletes its credits (Django cascades).
    """

    model = models.CharField(max_length=16, choices=AttributionModel.choices)
    kind = models.CharField(max_length=16, choices=ConversionKind.choices)
    opportunity = models.ForeignKey(
        "accounts.Opportunity",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,  # the (account, opportunity) index serves it, given the account
        related_name="attribution_credits",
    )
    # Copied from the opportunity so pages scope and filter without a join.
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,  # the (account, opportunity) index serves it
        related_name="attribution_credits",
    )
    converted_at = models.DateTimeField()
    channel = models.CharField(max_length=24, choices=Channel.choices)
    playbook = models.ForeignKey(
        "playbooks.Playbook",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="attribution_credits",
    )
    weight = models.FloatField()
    credit = models.DecimalField(max_digits=16, decimal_places=4)
    touches = models.PositiveIntegerField(default=0)
    # A hash of the other fields (abm.lib.table_copy.row_digests): a slot's write keeps the
    # stored rows whose hash it computes again and writes only the others.
    digest = models.BigIntegerField(db_default=0, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=0) & Q(weight__lte=1.000001), name="credit_weight_0_1"
            ),
            models.CheckConstraint(condition=Q(credit__gte=0), name="credit_gte_0"),
            models.CheckConstraint(
                condition=one_of("model", AttributionModel), name="credit_model_valid"
            ),
            models.CheckConstraint(
                condition=one_of("kind", ConversionKind), name="credit_kind_valid"
            ),
        ]
        # An account's page, a rep's scope, and one deal's credits (filter by its account too).
        # Dashboards and their drill-downs read MetricRollup, then deals by created/closed date.
        indexes = [models.Index(fields=["account", "opportunity"])]

    def __str__(self) -> str:
        return f"{self.model}/{self.kind} {self.channel}: {self.credit}"


class RemovalEffect(models.Model):
    """The last run's Markov removal effect of a channel, per conversion kind (DOMAIN.md
    "Markov"): with the linear model's touch counts it gives every Markov credit, so a run that
    moves the effects rewrites these few rows, not a credit row per deal and channel."""

    kind = models.CharField(max_length=16, choices=ConversionKind.choices)
    channel = models.CharField(max_length=24, choices=Channel.choices)
    effect = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "channel"], name="removal_effect_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel}: {self.effect:.4f}"


class MarkovCredit(models.Model):
    """Markov's credits, derived where read: a database view (migration 0011) over the linear
    model's rows, whose ``touches`` count each (deal, channel, playbook)'s touches, and
    ``RemovalEffect``. A touch weighs its channel's effect over the sum of its journey's (the
    linear weights where every effect is 0), as ``compute.credits.markov_credits`` computes them
    for the rollups; the same columns as AttributionCredit, read only."""

    model = models.CharField(max_length=16, choices=AttributionModel.choices)
    kind = models.CharField(max_length=16, choices=ConversionKind.choices)
    opportunity = models.ForeignKey(
        "accounts.Opportunity",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="markov_credits",
    )
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="markov_credits",
    )
    converted_at = models.DateTimeField()
    channel = models.CharField(max_length=24, choices=Channel.choices)
    playbook = models.ForeignKey(
        "playbooks.Playbook",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="markov_credits",
    )
    weight = models.FloatField()
    credit = models.DecimalField(max_digits=16, decimal_places=4)
    touches = models.PositiveIntegerField()

    class Meta:
        managed = False
        db_table = "metrics_markovcredit"

    def __str__(self) -> str:
        return f"markov/{self.kind} {self.channel}: {self.credit}"


def credit_rows_of(model: str) -> models.QuerySet:
    """One attribution model's credit rows: stored, or for Markov derived (MarkovCredit)."""
    if model == AttributionModel.MARKOV:
        return MarkovCredit.objects.all()
    return AttributionCredit.objects.filter(model=model)


class RollupMetric(models.TextChoices):
    CREDIT = "credit", "Attributed credit"
    SPEND = "spend", "Spend"
    MQA = "mqa", "Accounts that became MQA"
    ENGAGED = "engaged", "Accounts that became engaged"
    OPPORTUNITIES = "opportunities", "Opportunities created"
    WON = "won", "Won opportunities"
    LOST = "lost", "Lost opportunities"
    OPEN = "open", "Open opportunities"
    CYCLE_DAYS = "cycle_days", "Sales cycle days (won)"
    SOURCED = "sourced", "Marketing-sourced pipeline"
    INFLUENCED = "influenced", "Marketing-influenced pipeline"
    ENGAGED_ACCOUNTS = "engaged_accounts", "Engaged accounts"
    ENGAGEMENT = "engagement", "Engagement of enrolled and holdout accounts"
    TASKS = "tasks", "Playbook tasks by due month and status"
    LEADS = "leads", "Leads handed off"
    FOLLOW_UP = "follow_up", "Leads followed up within the SLA"
    FOLLOW_UP_HOURS = "follow_up_hours", "Median hours to first follow-up"
    LEAD_CONVERSION = "lead_conversion", "Lead-to-opportunity conversion"
    ACCOUNTS = "accounts", "Accounts by journey stage"
    LIFT = "lift", "Target vs non-target"
    HOLDOUT = "holdout", "Holdout lift"


class MetricRollup(models.Model):
    """Pre-aggregated numbers the dashboards read (metrics/rollups.py lists what each row holds).

    Rebuilt by every recompute in its transaction, so dashboards answer from a few rows instead
    of aggregating activities per request. Foreign keys carry no database constraint: the rows
    are derived and replaced wholesale, and checking them would cost the write for nothing.
    """

    metric = models.CharField(max_length=32, choices=RollupMetric.choices)
    # First day of a UTC month (a sampled day for "engagement"); null for a snapshot as of the run.
    period = models.DateField(null=True, blank=True)
    model = models.CharField(max_length=16, choices=AttributionModel.choices, blank=True)
    kind = models.CharField(max_length=16, choices=ConversionKind.choices, blank=True)
    channel = models.CharField(max_length=24, blank=True)
    playbook = models.ForeignKey(
        "playbooks.Playbook",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    # 0 = a non-target account; null = not tied to an account (budget lines).
    tier = models.PositiveSmallIntegerField(null=True, blank=True)
    # The account owner, so a rep's dashboard reads only their slice.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    segment = models.CharField(max_length=32, blank=True)
    value = models.FloatField(default=0)
    count = models.FloatField(default=0)
    data = models.JSONField(default=dict, blank=True)
    # A hash of the other fields (abm.lib.table_copy.row_digests): the engine's finish matches
    # its rows to the stored ones on it and rewrites only the rows that changed.
    digest = models.BigIntegerField(db_default=0, db_index=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=one_of("metric", RollupMetric), name="metric_rollup_metric_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["metric", "period"]),
            models.Index(fields=["owner", "metric", "period"]),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.period or 'now'}: {self.value}"


class TouchRule(models.Model):
    """Whether an activity kind counts as an attribution touch (DOMAIN.md "Touch rules").

    One row per kind, written when a marketer saves the rules page; a kind without a row follows
    the defaults in settings (metrics/touch_rule_store.py). ``counts_as_touch``: every activity of
    the kind counts. ``counts_as_step_with_cost``: it also counts when a playbook step did it for
    the account with a cost (a 1:1 outbound action such as direct mail).
    """

    kind = models.CharField(max_length=24, choices=ActivityKind.choices, unique=True)
    counts_as_touch = models.BooleanField()
    counts_as_step_with_cost = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(
                condition=one_of("kind", ActivityKind), name="touch_rule_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {'touch' if self.counts_as_touch else 'not a touch'}"


class EngineSlot(models.Model):
    """One slot of the engine: the accounts with ``id % slots == slot`` (metrics/engine/slots.py).

    A slot is the unit the engine computes, stores partial sums for, and recomputes when one of
    its accounts changes; ``slots`` is the slot count of the full run that laid them out.
    """

    slot = models.PositiveIntegerField(primary_key=True)
    slots = models.PositiveIntegerField()
    computed_at = models.DateTimeField()  # the as-of time of the slot's last computation
    # Its rows are counted in SlotRollupSum as they stand (cleared by every write of the slot).
    summed = models.BooleanField(default=False)
    # New with every write of the slot: frames a worker keeps from its rows are the slot's while
    # this is unchanged (metrics/engine/kept.py).
    version = models.UUIDField(default=uuid.uuid4, editable=False)

    def __str__(self) -> str:
        return f"slot {self.slot}/{self.slots} as of {self.computed_at:%Y-%m-%d %H:%M}"


class _SlotRollupKey(models.Model):
    """A rollup key (metrics/rollups.py KEY) and its two measures, as the slots store them."""

    metric = models.CharField(max_length=32, choices=RollupMetric.choices)
    period = models.DateField(null=True, blank=True)
    model = models.CharField(max_length=16, blank=True)
    kind = models.CharField(max_length=16, blank=True)
    channel = models.CharField(max_length=24, blank=True)
    playbook_id = models.BigIntegerField(null=True, blank=True)
    tier = models.PositiveSmallIntegerField(null=True, blank=True)
    owner_id = models.BigIntegerField(null=True, blank=True)
    segment = models.CharField(max_length=32, blank=True)
    value = models.FloatField(default=0)
    count = models.FloatField(default=0)

    class Meta:
        abstract = True


class SlotRollupPack(models.Model):
    """A slot's share of the additive rollups (metrics/rollups.py), its rows packed into one
    value (metrics/engine/compute/packs.py): ``MetricRollup`` is their sum plus the parts
    computed over every account at once (budget lines, leads, lift, holdout)."""

    slot = models.PositiveIntegerField(primary_key=True)
    rows = models.PositiveIntegerField()  # rollup rows in the pack
    data = models.BinaryField()

    def __str__(self) -> str:
        return f"slot {self.slot}: {self.rows} rollup rows"


class SlotRollupSum(_SlotRollupKey):
    """Every slot's rollup rows (``SlotRollupPack``) summed per key, as the last finish stored them
    (metrics/engine/slot_sums.py): an incremental run moves them by its slots' difference
    instead of summing every slot again. ``key`` joins the key columns; ``rows`` counts the
    slot rows summed into the row."""

    key = models.TextField(unique=True)
    rows = models.PositiveIntegerField(default=0)
    digest = models.BigIntegerField(db_default=0, editable=False)  # as MetricRollup's

    def __str__(self) -> str:
        return f"all slots {self.metric} {self.period or 'now'}: {self.value}"


class SlotMarkovCount(models.Model):
    """A slot's Markov transition counts per conversion kind: summed over the slots, they give
    the removal effects of every channel exactly (metrics/attribution.py)."""

    slot = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=ConversionKind.choices)
    from_state = models.CharField(max_length=32)
    to_state = models.CharField(max_length=32)
    count = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["slot"])]

    def __str__(self) -> str:
        return f"slot {self.slot} {self.kind} {self.from_state} -> {self.to_state}: {self.count}"
