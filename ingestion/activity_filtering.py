"""The activity drill-down list's filters: the touches behind a dashboard's spend or channel bar.

The table holds a million rows, so every filter maps onto an indexed column or a join to a small
table (accounts, steps, stages), and the default order is the (occurred_at) index read backwards.
"""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.db.models import Count, Q, QuerySet, Sum

from abm.lib.channels import ActivityKind, Channel, Direction
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
from playbooks.models import Activity

COSTED = "1"
SORTS = {
    "-occurred": ("-occurred_at", "-id"),
    "occurred": ("occurred_at", "id"),
    "-cost": ("-cost", "-occurred_at", "-id"),
}
SORT_LABELS = {"-occurred": "Newest first", "occurred": "Oldest first", "-cost": "Costliest first"}
DEFAULT_SORT = "-occurred"


class ActivityFilterForm(forms.Form):
    channel = forms.ChoiceField(label="Channel", required=False, choices=Channel.choices)
    kind = forms.ChoiceField(label="Kind", required=False, choices=ActivityKind.choices)
    direction = forms.ChoiceField(label="Direction", required=False, choices=Direction.choices)
    playbook = PlaybookParamField(label="Playbook", required=False, max_length=40)
    tier = forms.ChoiceField(label="Tier", required=False, choices=TIER_CHOICES)
    owner = OwnerField(label="Owner", required=False, max_length=40)
    account = forms.IntegerField(label="Account", required=False, min_value=1, max_value=2**31 - 1)
    costed = forms.ChoiceField(label="Costed", required=False, choices=[(COSTED, "Costed only")])
    sort = forms.ChoiceField(label="Sort", required=False, choices=SORT_LABELS.items())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword, so the date fields cannot be declared as class attributes.
        self.fields = {"from": date_field("From"), "to": date_field("To"), **self.fields}

    def clean(self):
        cleaned = super().clean()
        drop_reversed_range(self, cleaned, "from", "to")
        return cleaned


def activity_filter(data) -> ListFilter:
    return read_filter(ActivityFilterForm(data), sorts=SORTS, default_sort=DEFAULT_SORT)


def filter_activities(activities: QuerySet[Activity], flt: ListFilter) -> QuerySet[Activity]:
    """`activities` (already scoped) narrowed by `flt`, in the list's order."""
    v = flt.values
    q = day_range_q("occurred_at", v.get("from"), v.get("to"))
    for name in ("channel", "kind", "direction"):
        if name in v:
            q &= Q(**{name: v[name]})
    if playbook := v.get("playbook"):
        # An activity belongs to a playbook through the step it was logged for.
        q &= (
            Q(step__isnull=True)
            if playbook == NO_PLAYBOOK
            else Q(step__stage__playbook_id=int(playbook))
        )
    if tier := v.get("tier"):
        q &= tier_q(tier)
    if owner := v.get("owner"):
        q &= owner_q(owner)
    if account := v.get("account"):
        q &= Q(account_id=account)
    if v.get("costed"):
        q &= Q(cost__gt=0)
    return activities.filter(q).order_by(*SORTS[flt.sort])


@dataclass(frozen=True)
class Totals:
    count: int
    cost: Decimal


def activity_totals(activities: QuerySet[Activity]) -> Totals:
    """Count and cost of the whole filtered set: one query, the page's only COUNT."""
    row = activities.order_by().aggregate(n=Count("pk"), cost=Sum("cost"))
    return Totals(count=row["n"], cost=row["cost"] or Decimal(0))


def activity_chips(flt: ListFilter, names: dict[str, str]) -> list[Chip]:
    v, chips = flt.values, Chips(flt, names)
    chips.day_range("", "from", "to")
    if "channel" in v:
        chips.add(f"Channel: {Channel(v['channel']).label}", "channel")
    if "kind" in v:
        chips.add(f"Kind: {ActivityKind(v['kind']).label}", "kind")
    if "direction" in v:
        chips.add(Direction(v["direction"]).label, "direction")
    if "playbook" in v:
        playbook = v["playbook"]
        label = "none" if playbook == NO_PLAYBOOK else names.get("playbook", f"#{playbook}")
        chips.add(f"Playbook: {label}", "playbook")
    chips.tier()
    chips.owner()
    chips.account()
    if "costed" in v:
        chips.add("With a cost", "costed")
    return chips
