"""The account list's filters and sorting: a GET form, so a filtered list is a URL to share.

AccountListFilterSet extends the API's AccountFilterSet with what the page means differently:
tier and stage offer "untiered" / "none", owner, industry and country offer the values present in
what the user may see, fit and engagement are ranges, and the dashboards' drill-downs add
"reached a stage in a period" and "enrolled in a playbook".

A bad parameter (fit_min=abc, tier=9, sort=password) is never an error page: it is dropped, the
page says it was ignored, and every link the page builds (sorting, pagination, export, "select
all matching") carries only the valid filters. Saved audience filters (playbooks/audience.py)
are these same parameters.
"""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import F, QuerySet
from django.http import QueryDict

from abm.api_resources import IdParam
from accounts.filtering import (
    ENROLLED_STATUSES,
    NO_STAGE,
    TARGETS,
    UNASSIGNED,
    UNTIERED,
    FilterChoices,
    filter_choices,
    priority_expression,
    reached_q,
)
from accounts.filtersets import AccountFilterSet
from accounts.list_filters import DayFilter, param_text
from accounts.models import Account, JourneyStage, Tier
from accounts.visibility import accounts_visible_to

DEFAULT_SORT = {True: "name", False: "-priority"}  # keyed by "sees every account"
TIER_CHOICES = [
    *((str(value), f"Tier {value}") for value in Tier.values),
    (TARGETS, "Any target tier"),
    (UNTIERED, "Untiered"),
]
# sort key -> order_by; every order ends in "id" so pages never overlap or skip rows.
SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "fit": ("fit_score", "name", "id"),
    "-fit": ("-fit_score", "name", "id"),
    "engagement": ("engagement_score", "name", "id"),
    "-engagement": ("-engagement_score", "name", "id"),
    "priority": (F("priority").asc(), "name", "id"),
    "-priority": (F("priority").desc(), "name", "id"),
    "tier": (F("tier").asc(nulls_last=True), "name", "id"),
    "-tier": (F("tier").desc(nulls_last=True), "name", "id"),
}
SORT_LABELS = {
    "name": "Name A–Z",
    "-name": "Name Z–A",
    "-priority": "Top priority",
    "priority": "Lowest priority",
    "-fit": "Best fit",
    "fit": "Weakest fit",
    "-engagement": "Most engaged",
    "engagement": "Least engaged",
    "tier": "Tier 1 first",
    "-tier": "Tier 3 first",
}
# Numbers read best biggest first; names and tiers in their natural order.
FIRST_CLICK = {
    "name": "name",
    "tier": "tier",
    "fit": "-fit",
    "engagement": "-engagement",
    "priority": "-priority",
}


# Drill-down parameters of the dashboards (kept as hidden fields on the page).
DRILL_DOWN = ("reached", "reached_from", "reached_to", "playbook")


class FloatFilter(filters.NumberFilter):
    field_class = forms.FloatField


class CheckboxFilter(filters.Filter):
    """A checkbox: on narrows, off (or absent) does not."""

    field_class = forms.BooleanField

    def filter(self, qs, value):
        return qs.filter(**{self.field_name: True}) if value else qs


def _later(queryset, name, value):
    return queryset  # applied together in filter_queryset


class AccountListFilterSet(AccountFilterSet):
    q = filters.CharFilter(label="Search", max_length=200, method="search")
    tier = filters.ChoiceFilter(
        label="Tier", choices=TIER_CHOICES, empty_label="Any tier", method="by_tier"
    )
    stage = filters.ChoiceFilter(
        label="Journey stage",
        choices=[*JourneyStage.choices, (NO_STAGE, "No stage")],
        empty_label="Any stage",
        method="by_stage",
    )
    owner = filters.ChoiceFilter(label="Owner", empty_label="Anyone", method="by_owner")
    industry = filters.ChoiceFilter(label="Industry", empty_label="Any industry")
    country = filters.ChoiceFilter(label="Country", empty_label="Any country")
    fit_min = FloatFilter(
        label="Fit from", field_name="fit_score", lookup_expr="gte", min_value=0, max_value=100
    )
    fit_max = FloatFilter(
        label="Fit to", field_name="fit_score", lookup_expr="lte", min_value=0, max_value=100
    )
    engagement_min = FloatFilter(
        label="Engagement from", field_name="engagement_score", lookup_expr="gte", min_value=0
    )
    engagement_max = FloatFilter(
        label="Engagement to", field_name="engagement_score", lookup_expr="lte", min_value=0
    )
    spike = CheckboxFilter(label="Spiking only")
    reached = filters.ChoiceFilter(
        label="Reached stage", choices=JourneyStage.choices, empty_label="Any", method=_later
    )
    reached_from = DayFilter("stage_changes__changed_at", label="Reached from", method=_later)
    reached_to = DayFilter("stage_changes__changed_at", label="Reached to", method=_later)
    playbook = IdParam(label="Enrolled in playbook", method=_later)

    sorts = SORTS
    sort_labels = SORT_LABELS
    param_order = (
        "q",
        "tier",
        "stage",
        "owner",
        "industry",
        "country",
        "fit_min",
        "fit_max",
        "engagement_min",
        "engagement_max",
        "spike",
        *DRILL_DOWN,
    )
    sort_label = "Sort by"

    def __init__(
        self,
        data=None,
        queryset=None,
        *,
        choices: FilterChoices,
        with_owner: bool,
        default_sort: str,
        **kwargs,
    ):
        super().__init__(data, queryset, **kwargs)
        self.choices, self.with_owner, self.default_sort = choices, with_owner, default_sort
        self.filters["industry"].extra["choices"] = [(i, i) for i in choices.industries]
        self.filters["country"].extra["choices"] = [(c, c) for c in choices.countries]
        if with_owner:
            self.filters["owner"].extra["choices"] = [(UNASSIGNED, "Unassigned")] + [
                (str(pk), name) for pk, name in choices.owners
            ]
        else:
            # A rep sees only their own accounts: an owner filter would mean nothing.
            del self.filters["owner"]

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            for name in ("fit_min", "fit_max", "engagement_min", "engagement_max"):
                form.fields[name].widget.attrs.update(
                    {"step": "any", "inputmode": "decimal", "placeholder": "—"}
                )
            form.fields["q"].widget.attrs.update(
                {"type": "search", "placeholder": "Name or domain", "autocomplete": "off"}
            )
        return self._form

    def check_page(self) -> None:
        form, cleaned = self.form, self.form.cleaned_data
        for low, high in (("fit_min", "fit_max"), ("engagement_min", "engagement_max")):
            lo, hi = cleaned.get(low), cleaned.get(high)
            if lo is not None and hi is not None and lo > hi:
                lo_label, hi_label = form.fields[low].label, form.fields[high].label
                form.add_error(
                    None,
                    f"“{lo_label}” ({param_text(lo)}) is above “{hi_label}” ({param_text(hi)}): "
                    "both were ignored.",
                )
                cleaned.pop(low, None)
                cleaned.pop(high, None)
        start, end = cleaned.get("reached_from"), cleaned.get("reached_to")
        if start is not None and end is not None and start > end:
            form.add_error(None, f"“Reached from” ({start}) is after “Reached to” ({end}).")
            cleaned.pop("reached_from", None)
            cleaned.pop("reached_to", None)
        if not cleaned.get("reached") and (start is not None or end is not None):
            form.add_error(None, "“Reached from” and “Reached to” need a reached stage.")
            cleaned.pop("reached_from", None)
            cleaned.pop("reached_to", None)

    # --- Narrowing ------------------------------------------------------------------------------

    def by_tier(self, queryset, name, value):
        if value == UNTIERED:
            return queryset.filter(tier__isnull=True)
        if value == TARGETS:
            return queryset.filter(tier__isnull=False)
        return queryset.filter(tier=int(value))

    def by_stage(self, queryset, name, value):
        return queryset.filter(stage="" if value == NO_STAGE else value)

    def by_owner(self, queryset, name, value):
        if value == UNASSIGNED:
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=int(value))

    def filter_queryset(self, queryset):
        # Annotated first: the priority sort orders by it.
        accounts = super().filter_queryset(queryset.annotate(priority=priority_expression()))
        v = self.values
        if stage := v.get("reached"):
            accounts = accounts.filter(reached_q(stage, v.get("reached_from"), v.get("reached_to")))
        if playbook := v.get("playbook"):
            enrolled = Account.objects.filter(
                enrolments__playbook_id=playbook, enrolments__status__in=ENROLLED_STATUSES
            )
            accounts = accounts.filter(pk__in=enrolled.values("pk"))
        return accounts

    def apply(self, accounts: QuerySet[Account]) -> QuerySet[Account]:
        """`accounts` narrowed and sorted by these (already validated) parameters."""
        return self.filter_queryset(accounts)

    # --- What the page shows --------------------------------------------------------------------

    @property
    def shown_form(self) -> forms.Form:
        """The form as the page shows it: only what was applied, so a bad value does not linger,
        and the order in force, default or not."""
        data = self.query()
        data["sort"] = self.sort
        shown = type(self)(
            data,
            self.queryset,
            choices=self.choices,
            with_owner=self.with_owner,
            default_sort=self.default_sort,
            page=True,
        )
        shown.form.is_valid()
        return shown.form

    @property
    def hidden(self) -> dict:
        """Drill-down parameters the form does not show, kept when it is submitted."""
        return {n: self.params[n] for n in DRILL_DOWN if n in self.params}

    def description(self, *, playbook_name: str = "") -> str:
        """What a drill-down list holds, in words: "Target accounts that reached MQA between
        1 Jan 2026 and 31 Dec 2026" (for the drill-down filters the form does not show)."""
        v = self.values
        if not v.get("reached") and not v.get("playbook"):
            return ""
        tier = v.get("tier")
        subject = {"": "Accounts", TARGETS: "Target accounts", UNTIERED: "Non-target accounts"}
        text = subject.get(tier or "", f"Tier {tier} accounts")
        if v.get("playbook"):
            text += f" enrolled in {playbook_name or 'playbook ' + str(v['playbook'])}"
        if not v.get("reached"):
            return text
        text += f" that reached {JourneyStage(v['reached']).label}"
        if v["reached"] != JourneyStage.values[-1]:
            text += " or a later stage"
        start, end = v.get("reached_from"), v.get("reached_to")
        if start and end:
            text += f" between {_day(start)} and {_day(end)}"
        elif start:
            text += f" on or after {_day(start)}"
        elif end:
            text += f" on or before {_day(end)}"
        return text

    def sort_link(self, column: str) -> dict:
        """Where a column header points and which way the list is sorted by it now."""
        if self.sort == column:
            target, direction = f"-{column}", "ascending"
        elif self.sort == f"-{column}":
            target, direction = column, "descending"
        else:
            target, direction = FIRST_CLICK[column], None
        sort = None if target == self.default_sort else target
        return {"query": self.query(sort=sort, page=None).urlencode(), "direction": direction}


def _day(day) -> str:
    return f"{day.day} {day:%b %Y}"


def account_list_filter(
    data: QueryDict, *, choices: FilterChoices, with_owner: bool, default_sort: str, queryset=None
) -> AccountListFilterSet:
    return AccountListFilterSet.for_page(
        data,
        queryset if queryset is not None else Account.objects.all(),
        choices=choices,
        with_owner=with_owner,
        default_sort=default_sort,
    )


def accounts_filtered(user, data: QueryDict):
    """The visible accounts narrowed and sorted by `data`: the list, its exports and export jobs."""
    visible = accounts_visible_to(user)
    sees_all = user.sees_everything
    choices = filter_choices(visible, with_owners=sees_all)
    flt = account_list_filter(
        data,
        choices=choices,
        with_owner=sees_all,
        default_sort=DEFAULT_SORT[sees_all],
        queryset=visible,
    )
    return flt, flt.qs, choices
