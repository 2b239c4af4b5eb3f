"""The opportunity drill-down list's filters: what a dashboard bar links to. They extend the API's
OpportunityFilterSet (accounts/filtersets.py) with what needs the metrics layer.

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

import django_filters as filters
from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum

from abm.lib.channels import Channel
from accounts.filtersets import OpportunityFilterSet
from accounts.list_filters import NO_PLAYBOOK, PlaybookIdFilter, day_range_q
from accounts.models import OpportunitySource
from metrics.leads import SALES_CHANNELS
from metrics.models import AttributionModel, ConversionKind
from metrics.touch_rule_store import load_touch_rules, touch_rules_q
from playbooks.models import Activity, OwnerRole

SOURCED, INFLUENCED = "sourced", "influenced"
ORIGIN_CHOICES = [(SOURCED, "Marketing-sourced"), (INFLUENCED, "Marketing-influenced")]
DEFAULT_MODEL = AttributionModel.LINEAR
DEFAULT_KIND = ConversionKind.PIPELINE
CREDIT_PARAMS = ("model", "kind", "channel", "playbook")


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


def _later(queryset, name, value):
    return queryset  # credit and origin are applied together in filter_queryset


class OpportunityListFilterSet(OpportunityFilterSet):
    model = filters.ChoiceFilter(
        label="Attribution model", choices=AttributionModel.choices, method=_later
    )
    kind = filters.ChoiceFilter(label="Credit kind", choices=ConversionKind.choices, method=_later)
    channel = filters.ChoiceFilter(label="Channel", choices=Channel.choices, method=_later)
    playbook = PlaybookIdFilter(method=_later)
    origin = filters.ChoiceFilter(label="Origin", choices=ORIGIN_CHOICES, method=_later)

    @property
    def credit(self) -> CreditFilter | None:
        v = self.values
        if not any(name in v for name in CREDIT_PARAMS):
            return None
        return CreditFilter(
            model=v.get("model", DEFAULT_MODEL),
            kind=v.get("kind", DEFAULT_KIND),
            channel=v.get("channel"),
            playbook=v.get("playbook"),
            defaulted=tuple(name for name in ("model", "kind") if name not in v),
        )

    def filter_queryset(self, queryset):
        """Narrowed, with `credited` when credit is asked for."""
        opportunities = super().filter_queryset(queryset)
        v = self.values
        if origin := v.get("origin"):
            opportunities = opportunities.filter(
                Q(source=OpportunitySource.MARKETING)
                if origin == SOURCED
                else influenced_q(v.get("created_from"), v.get("created_to"))
            )
        if credit := self.credit:
            # One join, filtered then summed per deal: the annotation reuses the filter's join,
            # so only matching credit rows count. Matching the account too puts the credit
            # table's (account, opportunity) index in reach: joined on the deal alone,
            # PostgreSQL with stale statistics (the table is rewritten by every recompute)
            # scanned that index whole once per deal, 12 s for a year of won deals instead of 1 s.
            # Markov's credits are a view over the linear rows (metrics.models.MarkovCredit).
            rows = (
                "markov_credits"
                if credit.model == AttributionModel.MARKOV
                else "attribution_credits"
            )
            opportunities = opportunities.filter(
                **{f"{rows}__account_id": F("account_id")},
                **credit.lookups(f"{rows}__"),
            ).annotate(credited=Sum(f"{rows}__credit"))
        return opportunities

    def chips(self, names):
        v, chips = self.values, super().chips(names)
        if "channel" in v:
            chips.add(f"Credited to {Channel(v['channel']).label}", "channel")
        if "playbook" in v:
            playbook = v["playbook"]
            label = (
                "no playbook" if playbook == NO_PLAYBOOK else names.get("playbook", f"#{playbook}")
            )
            chips.add(f"Credited to playbook: {label}", "playbook")
        if "model" in v or "kind" in v:
            credit = self.credit
            chips.add(f"{credit.model_label} model, {credit.kind_label}", "model", "kind")
        if "origin" in v:
            chips.add(dict(ORIGIN_CHOICES)[v["origin"]], "origin")
        return chips


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
