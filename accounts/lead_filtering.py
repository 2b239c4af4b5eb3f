"""The lead drill-down list's filters: the hand-offs behind the dashboards' follow-up trend."""

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.db.models import Count, F, Q, QuerySet

from abm.lib.channels import Channel
from accounts.list_filters import (
    TIER_CHOICES,
    Chip,
    Chips,
    ListFilter,
    OwnerField,
    date_field,
    day_range_q,
    drop_reversed_range,
    owner_q,
    read_filter,
    tier_q,
)
from accounts.models import Lead, LeadStatus


def on_time_q(sla_hours: float) -> Q:
    """Leads followed up within the SLA (a lead not followed up is not on time): the rule of
    accounts/follow_up.py as a queryset filter."""
    return Q(first_follow_up_at__lte=F("handed_off_at") + dt.timedelta(hours=sla_hours))


FOLLOW_UP_CHOICES = [
    ("on_time", "Followed up within the SLA"),
    ("late", "Followed up late"),
    ("none", "Not followed up"),
]
SORTS = {"-handed_off": ("-handed_off_at", "-id"), "handed_off": ("handed_off_at", "id")}
SORT_LABELS = {"-handed_off": "Newest first", "handed_off": "Oldest first"}
DEFAULT_SORT = "-handed_off"


class LeadFilterForm(forms.Form):
    channel = forms.ChoiceField(label="Source channel", required=False, choices=Channel.choices)
    status = forms.ChoiceField(label="Status", required=False, choices=LeadStatus.choices)
    follow_up = forms.ChoiceField(label="Follow-up", required=False, choices=FOLLOW_UP_CHOICES)
    tier = forms.ChoiceField(label="Tier", required=False, choices=TIER_CHOICES)
    owner = OwnerField(label="Owner", required=False, max_length=40)
    account = forms.IntegerField(label="Account", required=False, min_value=1, max_value=2**31 - 1)
    sort = forms.ChoiceField(label="Sort", required=False, choices=SORT_LABELS.items())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword, so the date fields cannot be declared as class attributes.
        self.fields = {"from": date_field("From"), "to": date_field("To"), **self.fields}

    def clean(self):
        cleaned = super().clean()
        drop_reversed_range(self, cleaned, "from", "to")
        return cleaned


def lead_filter(data) -> ListFilter:
    return read_filter(LeadFilterForm(data), sorts=SORTS, default_sort=DEFAULT_SORT)


def filter_leads(leads: QuerySet[Lead], flt: ListFilter) -> QuerySet[Lead]:
    """`leads` (already scoped) narrowed by `flt`, in the list's order."""
    v = flt.values
    q = day_range_q("handed_off_at", v.get("from"), v.get("to"))
    if "channel" in v:
        q &= Q(source_channel=v["channel"])
    if "status" in v:
        q &= Q(status=v["status"])
    on_time = on_time_q(settings.ABM_FOLLOW_UP_SLA_HOURS)
    match v.get("follow_up"):
        case "on_time":
            q &= on_time
        case "late":
            q &= Q(first_follow_up_at__isnull=False) & ~on_time
        case "none":
            q &= Q(first_follow_up_at__isnull=True)
    if tier := v.get("tier"):
        q &= tier_q(tier)
    if owner := v.get("owner"):
        q &= owner_q(owner)
    if account := v.get("account"):
        q &= Q(account_id=account)
    return leads.filter(q).order_by(*SORTS[flt.sort])


@dataclass(frozen=True)
class Totals:
    count: int
    on_time: int
    followed: int


def lead_totals(leads: QuerySet[Lead]) -> Totals:
    """Counts over the whole filtered set in one query."""
    row = leads.order_by().aggregate(
        n=Count("pk"),
        on_time=Count("pk", filter=on_time_q(settings.ABM_FOLLOW_UP_SLA_HOURS)),
        followed=Count("pk", filter=Q(first_follow_up_at__isnull=False)),
    )
    return Totals(count=row["n"], on_time=row["on_time"], followed=row["followed"])


def lead_chips(flt: ListFilter, names: dict[str, str]) -> list[Chip]:
    v, chips = flt.values, Chips(flt, names)
    chips.day_range("Handed off", "from", "to")
    if "channel" in v:
        chips.add(f"Source: {Channel(v['channel']).label}", "channel")
    if "status" in v:
        chips.add(f"Status: {LeadStatus(v['status']).label}", "status")
    if "follow_up" in v:
        chips.add(dict(FOLLOW_UP_CHOICES)[v["follow_up"]], "follow_up")
    chips.tier()
    chips.owner()
    chips.account()
    return chips
