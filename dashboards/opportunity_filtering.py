"""The opportunity drill-down list's filters: what a dashboard bar links to.

Credit filters (model, kind, channel, playbook) read the stored AttributionCredit rows, so the
list shows the deals behind a bar of "pipeline by channel under the linear model" and each row's
share of it. Where DOMAIN.md is silent:

- A credit filter without a model means the linear model and pipeline credit (the page says so).
- ``playbook=none`` means credit from touches outside any playbook.
- ``origin=influenced`` is the rule of ``metrics.leads.pipeline_origins`` evaluated in SQL (see
  ``influenced_q``), not a lookup of stored credits: a credit row keeps a touch's channel and
  playbook but not its step's owner role, which decides whether an email sent from a sales step is
  a marketing touch, so "has pipeline credit on a non-sales channel" would not be the same set.
- The "engaged / not engaged" segment of the lift table is not a filter here: it is decided per
  (account, month) from a daily score history recomputed in pandas; the stored EngagementHistory
  does not reach back as far, so a SQL version would disagree with the dashboard.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)

from abm.lib.channels import Channel
from accounts.list_filters import (
    NO_PLAYBOOK,
    TIER_CHOICES,
    Chip,
    Chips,
    ListFilter,
    OwnerField,
    PlaybookParamField,
    date_field,
    day_range_q,
    drop_reversed_range,
    owner_q,
    read_filter,
    tier_q,
)
from accounts.models import CLOSED_STAGES, Opportunity, OpportunitySource, OpportunityStage
from metrics.leads import SALES_CHANNELS
from metrics.models import AttributionModel, ConversionKind
from metrics.touch_rule_store import load_touch_rules, touch_rules_q
from playbooks.models import Activity, OwnerRole

OPEN, WON, LOST = "open", "won", "lost"
STAGE_CHOICES = [
    (OPEN, "Open"),
    (WON, "Won"),
    (LOST, "Lost"),
    *OpportunityStage.choices,
]
SOURCED, INFLUENCED = "sourced", "influenced"
ORIGIN_CHOICES = [(SOURCED, "Marketing-sourced"), (INFLUENCED, "Marketing-influenced")]
DEFAULT_MODEL = AttributionModel.LINEAR
DEFAULT_KIND = ConversionKind.PIPELINE
CREDIT_PARAMS = ("model", "kind", "channel", "playbook")

# sort key -> order_by; every order ends in "id" so pages never overlap or skip rows.
SORTS = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "-amount": ("-amount", "-id"),
    "amount": ("amount", "id"),
    "name": ("name", "id"),
}
SORT_LABELS = {
    "-created": "Newest first",
    "created": "Oldest first",
    "-amount": "Largest first",
    "amount": "Smallest first",
    "name": "Name A–Z",
}
DEFAULT_SORT = "-created"


class OpportunityFilterForm(forms.Form):
    created_from = date_field("Created from")
    created_to = date_field("Created to")
    closed_from = date_field("Closed from")
    closed_to = date_field("Closed to")
    tier = forms.ChoiceField(label="Tier", required=False, choices=TIER_CHOICES)
    owner = OwnerField(label="Owner", required=False, max_length=40)
    stage = forms.ChoiceField(label="Stage", required=False, choices=STAGE_CHOICES)
    source = forms.ChoiceField(label="Source", required=False, choices=OpportunitySource.choices)
    account = forms.IntegerField(label="Account", required=False, min_value=1, max_value=2**31 - 1)
    model = forms.ChoiceField(
        label="Attribution model", required=False, choices=AttributionModel.choices
    )
    kind = forms.ChoiceField(label="Credit kind", required=False, choices=ConversionKind.choices)
    channel = forms.ChoiceField(label="Channel", required=False, choices=Channel.choices)
    playbook = PlaybookParamField(label="Playbook", required=False, max_length=40)
    origin = forms.ChoiceField(label="Origin", required=False, choices=ORIGIN_CHOICES)
    sort = forms.ChoiceField(label="Sort", required=False, choices=SORT_LABELS.items())

    def clean(self):
        cleaned = super().clean()
        drop_reversed_range(self, cleaned, "created_from", "created_to")
        drop_reversed_range(self, cleaned, "closed_from", "closed_to")
        return cleaned


@dataclass(frozen=True)
class CreditFilter:
    """Which stored credit the list narrows to and sums; `defaulted` names what was filled in."""

    model: str
    kind: str
    channel: str | None
    playbook: str | None
    defaulted: tuple[str, ...]

    @property
    def model_label(self) -> str:
        return AttributionModel(self.model).label

    @property
    def kind_label(self) -> str:
        return "pipeline" if self.kind == ConversionKind.PIPELINE else "revenue"

    def lookups(self, prefix: str = "") -> dict:
        """Filter arguments selecting the matching AttributionCredit rows (through `prefix`)."""
        lookups = {"model": self.model, "kind": self.kind}
        if self.channel:
            lookups["channel"] = self.channel
        if self.playbook == NO_PLAYBOOK:
            lookups["playbook__isnull"] = True
        elif self.playbook:
            lookups["playbook_id"] = int(self.playbook)
        return {prefix + name: value for name, value in lookups.items()}


def opportunity_filter(data) -> ListFilter:
    return read_filter(OpportunityFilterForm(data), sorts=SORTS, default_sort=DEFAULT_SORT)


def credit_filter(flt: ListFilter) -> CreditFilter | None:
    v = flt.values
    if not any(name in v for name in CREDIT_PARAMS):
        return None
    defaulted = tuple(name for name in ("model", "kind") if name not in v)
    return CreditFilter(
        model=v.get("model", DEFAULT_MODEL),
        kind=v.get("kind", DEFAULT_KIND),
        channel=v.get("channel"),
        playbook=v.get("playbook"),
        defaulted=defaulted,
    )


def influenced_q(created_from: dt.date | None = None, created_to: dt.date | None = None) -> Q:
    """Deals with >= 1 marketing touch on their account in the attribution window before creation,
    exactly as ``metrics.leads.pipeline_origins`` decides it on the recompute's touches:

    - a touch is an activity the touch rules in force count (``metrics.touch_rules``);
    - it is a marketing touch when its step is owned by marketing, or, with no step, when its
      channel is not a sales channel (``is_marketing_touch``);
    - inside the window means ``created_at - window <= occurred_at <= created_at``.

    With a creation range the touches are also bounded by it (the window before its first day to
    its last day): redundant for the result, but it keeps PostgreSQL from hashing every touch.
    """
    window = dt.timedelta(days=settings.ABM_ATTRIBUTION_WINDOW_DAYS)
    touches = Activity.objects.filter(
        touch_rules_q(load_touch_rules()),
        Q(step__isnull=True, channel__in=[c for c in Channel.values if c not in SALES_CHANNELS])
        | Q(step__owner_role=OwnerRole.MARKETING),
        account_id=OuterRef("account_id"),
        occurred_at__lte=OuterRef("created_at"),
        occurred_at__gte=OuterRef("created_at") - window,
    )
    touches = touches.filter(
        day_range_q(
            "occurred_at",
            created_from - window if created_from else None,
            created_to,
        )
    )
    return Q(Exists(touches))


def filter_opportunities(opportunities: QuerySet[Opportunity], flt: ListFilter) -> QuerySet:
    """`opportunities` (already scoped) narrowed by `flt`, with `credited` when credit is asked
    for, in the list's order."""
    v = flt.values
    q = day_range_q("created_at", v.get("created_from"), v.get("created_to"))
    q &= day_range_q("closed_at", v.get("closed_from"), v.get("closed_to"))
    if tier := v.get("tier"):
        q &= tier_q(tier)
    if owner := v.get("owner"):
        q &= owner_q(owner)
    if stage := v.get("stage"):
        q &= {
            OPEN: ~Q(stage__in=CLOSED_STAGES),
            WON: Q(stage=OpportunityStage.CLOSED_WON),
            LOST: Q(stage=OpportunityStage.CLOSED_LOST),
        }.get(stage, Q(stage=stage))
    if source := v.get("source"):
        q &= Q(source=source)
    if account := v.get("account"):
        q &= Q(account_id=account)
    if origin := v.get("origin"):
        q &= (
            Q(source=OpportunitySource.MARKETING)
            if origin == SOURCED
            else influenced_q(v.get("created_from"), v.get("created_to"))
        )
    opportunities = opportunities.filter(q)
    if credit := credit_filter(flt):
        # One join, filtered then summed per deal: the annotation reuses the filter's join, so
        # only matching credit rows count. Matching the account too puts the credit table's
        # (account, opportunity) index in reach: joined on the deal alone, PostgreSQL with stale
        # statistics (the table is rewritten by every recompute) scanned that index whole once
        # per deal, 12 s for a year of won deals instead of 1 s.
        opportunities = opportunities.filter(
            attribution_credits__account_id=F("account_id"),
            **credit.lookups("attribution_credits__"),
        ).annotate(credited=Sum("attribution_credits__credit"))
    return opportunities.order_by(*SORTS[flt.sort])


@dataclass(frozen=True)
class Totals:
    count: int
    amount: Decimal
    credited: Decimal | None


def opportunity_totals(opportunities: QuerySet, *, credit: CreditFilter | None) -> Totals:
    """Count, amount and credit of the whole filtered set, in one query."""
    # Aliases differ from the columns: aggregate(credited=Sum("credited")) would refer to itself.
    sums = {"n": Count("pk"), "total_amount": Sum("amount")}
    if credit is not None:
        sums["total_credited"] = Sum("credited")  # over the per-deal sums: Django nests the query
    row = opportunities.order_by().aggregate(**sums)
    return Totals(
        count=row["n"],
        amount=row["total_amount"] or Decimal(0),
        credited=(row["total_credited"] or Decimal(0)) if credit is not None else None,
    )


def opportunity_chips(flt: ListFilter, names: dict[str, str]) -> list[Chip]:
    """One removable chip per active filter; `names` labels ids (owner, account, playbook)."""
    v, chips = flt.values, Chips(flt, names)
    chips.day_range("Created", "created_from", "created_to")
    chips.day_range("Closed", "closed_from", "closed_to")
    chips.tier()
    chips.owner()
    if "stage" in v:
        chips.add(f"Stage: {dict(STAGE_CHOICES)[v['stage']]}", "stage")
    if "source" in v:
        chips.add(f"Source: {OpportunitySource(v['source']).label}", "source")
    chips.account()
    if "channel" in v:
        chips.add(f"Credited to {Channel(v['channel']).label}", "channel")
    if "playbook" in v:
        playbook = v["playbook"]
        label = "no playbook" if playbook == NO_PLAYBOOK else names.get("playbook", f"#{playbook}")
        chips.add(f"Credited to playbook: {label}", "playbook")
    if "model" in v or "kind" in v:
        credit = credit_filter(flt)
        chips.add(f"{credit.model_label} model, {credit.kind_label}", "model", "kind")
    if "origin" in v:
        chips.add(dict(ORIGIN_CHOICES)[v["origin"]], "origin")
    return chips
