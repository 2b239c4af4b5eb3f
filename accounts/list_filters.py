"""One filter definition per list, for its page, its CSV export and its API endpoint.

Each list is a django-filter FilterSet (a subclass of ListFilterSet). The API uses it strictly, as
any ``filterset_class``: a bad value is a 400. A page or an export reads it through ``for_page``:
a dashboard links there with GET parameters, and a bad one (created_from=abc, tier=9) is dropped
and reported, never an error page; every link the page builds carries only the valid ones.

The pieces the lists share live here: UTC day ranges, tier, owner, playbook id or "none", sorting,
removable chips and a paginator that is told its count.
"""

from __future__ import annotations

import datetime as dt
import keyword
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import django_filters as filters
from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field

from abm.api_resources import IdParam
from abm.models import User
from abm.scoping import visible_to
from accounts.filtering import display_name
from accounts.models import Account, Tier
from accounts.visibility import accounts_visible_to

UNASSIGNED = "unassigned"
NON_TARGET = "0"
TARGETS = "targets"
TIER_CHOICES = [
    *((str(value), f"Tier {value}") for value in Tier.values),
    (NON_TARGET, "Not a target"),
    (TARGETS, "Any target tier"),
]
PER_PAGE = 50
# A list narrowed to rows without a playbook (?playbook=none).
NO_PLAYBOOK = "none"
# The largest id a page link may carry (an integer column's range).
MAX_PAGE_ID = 2**31


# --- Query pieces ------------------------------------------------------------------------------


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def day_range_q(path: str, start: dt.date | None, end: dt.date | None) -> Q:
    """Inclusive UTC days: from `start` 00:00 up to, not including, the day after `end`."""
    q = Q()
    if start is not None:
        q &= Q(**{f"{path}__gte": day_start(start)})
    if end is not None and end < dt.date.max:  # the last day there is ends no range
        q &= Q(**{f"{path}__lt": day_start(end + dt.timedelta(days=1))})
    return q


def _path(prefix: str, name: str) -> str:
    return f"{prefix}__{name}" if prefix else name


def tier_q(tier: str, account_path: str = "account") -> Q:
    """`account_path` leads to the account ("" when the rows are accounts)."""
    if tier == TARGETS:
        return Q(**{_path(account_path, "tier__isnull"): False})
    if tier == NON_TARGET:
        return Q(**{_path(account_path, "tier__isnull"): True})
    return Q(**{_path(account_path, "tier"): int(tier)})


def owner_q(owner: str, account_path: str = "account") -> Q:
    if owner == UNASSIGNED:
        return Q(**{_path(account_path, "owner__isnull"): True})
    return Q(**{_path(account_path, "owner_id"): int(owner)})


# --- Reusable filters --------------------------------------------------------------------------


class _IdOrWordField(forms.CharField):
    word = ""
    noun = ""

    def clean(self, value):
        value = super().clean(value)
        if value in ("", self.word) or (value.isdigit() and 0 < int(value) < MAX_PAGE_ID):
            return value
        raise forms.ValidationError(f"“{value[:30]}” is not a {self.noun} id or “{self.word}”.")


class OwnerField(_IdOrWordField):
    """A user id, or "unassigned"; whether the user exists only matters to the result."""

    word, noun = UNASSIGNED, "user"


class PlaybookParamField(_IdOrWordField):
    word, noun = NO_PLAYBOOK, "playbook"


class DayFilter(filters.DateFilter):
    """A UTC day, inclusive, from its start (``last=False``) or to its end (``last=True``)."""

    def __init__(self, field_name: str, *, last: bool = False, **kwargs):
        # One format only: links are built by code, and 01/02/2026 means two different days.
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        kwargs.setdefault("error_messages", {"invalid": "use a date as YYYY-MM-DD."})
        self.last = last
        super().__init__(field_name=field_name, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        bounds = (None, value) if self.last else (value, None)
        return qs.filter(day_range_q(self.field_name, *bounds))


# The values are text ("targets" among them); drf-spectacular would call them integers.
@extend_schema_field({"type": "string", "enum": [value for value, _ in TIER_CHOICES]})
class TierFilter(filters.ChoiceFilter):
    """A tier, "0" for non-targets or "targets"; `field_name` leads to the account."""

    def __init__(self, field_name: str = "account", **kwargs):
        kwargs.setdefault("label", "Tier")
        super().__init__(field_name=field_name, choices=TIER_CHOICES, **kwargs)

    def filter(self, qs, value):
        return qs.filter(tier_q(value, self.field_name)) if value else qs


# Ids up to 9 digits: the field takes up to MAX_PAGE_ID (2**31), which no pattern states exactly.
@extend_schema_field({"type": "string", "pattern": rf"^(?:[1-9]\d{{0,8}}|{UNASSIGNED})$"})
class OwnerFilter(filters.CharFilter):
    """The account owner's id, or "unassigned"; `field_name` leads to the account."""

    field_class = OwnerField

    def __init__(self, field_name: str = "account", **kwargs):
        kwargs.setdefault("label", "Owner")
        kwargs.setdefault("max_length", 40)
        super().__init__(field_name=field_name, **kwargs)

    def filter(self, qs, value):
        return qs.filter(owner_q(value, self.field_name)) if value else qs


class PlaybookIdFilter(filters.CharFilter):
    """A playbook id, or "none" for rows outside any playbook; `field_name` is the playbook."""

    field_class = PlaybookParamField

    def __init__(self, field_name: str = "playbook", *, none_path: str = "", **kwargs):
        """`none_path` is the nullable relation that puts a row outside any playbook, when it
        is not the playbook itself (an activity's step)."""
        kwargs.setdefault("label", "Playbook")
        kwargs.setdefault("max_length", 40)
        self.none_path = none_path or field_name
        super().__init__(field_name=field_name, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        if value == NO_PLAYBOOK:
            return qs.filter(**{f"{self.none_path}__isnull": True})
        return qs.filter(**{f"{self.field_name}_id": int(value)})


def account_filter(**kwargs) -> IdParam:
    kwargs.setdefault("label", "Account")
    return IdParam(field_name="account_id", **kwargs)


# --- The list filter set -----------------------------------------------------------------------


class ListFilterSet(filters.FilterSet):
    """A list's filters. Strict as the API's ``filterset_class``; lenient through ``for_page``,
    where it also sorts (``sort``) and exposes the valid part as values and canonical strings.

    A declared filter named after a Python keyword ends in "_" (``from_``): its parameter does not.
    """

    sorts: ClassVar[dict[str, tuple]] = {}
    sort_labels: ClassVar[dict[str, str]] = {}
    default_sort: ClassVar[str] = ""
    # (low, high) day filters: a page ignores both when the start is after the end.
    ranges: ClassVar[tuple[tuple[str, str], ...]] = ()
    sort_label: ClassVar[str] = "Sort"

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, page=False):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.page = page
        if page and self.sorts:
            self.filters["sort"] = filters.ChoiceFilter(
                label=self.sort_label,
                choices=list(self.sort_labels.items()),
                empty_label=None,
                method=_keep,
            )
            self.filters["sort"].parent = self

    # Parameters put first, in this order, in the page's links (the rest follow as declared).
    param_order: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def get_filters(cls):
        found = OrderedDict(
            (name[:-1] if name.endswith("_") and keyword.iskeyword(name[:-1]) else name, flt)
            for name, flt in super().get_filters().items()
        )
        first = [name for name in cls.param_order if name in found]
        return OrderedDict(
            [(name, found[name]) for name in first]
            + [(name, flt) for name, flt in found.items() if name not in first]
        )

    @classmethod
    def for_page(cls, data, queryset=None, **kwargs):
        """Bound to a page's (or an export's) GET parameters: invalid ones are dropped."""
        flt = cls(data if data is not None else QueryDict(), queryset, page=True, **kwargs)
        flt.form.is_valid()
        flt.check_page()
        return flt

    def check_page(self) -> None:
        """Checks across parameters, on pages only: what they find is dropped and reported."""
        for low, high in self.ranges:
            self._drop_reversed_range(low, high)

    def _drop_reversed_range(self, low: str, high: str) -> None:
        """A range whose start is after its end matches nothing by mistake: ignore both ends."""
        cleaned, fields = self.form.cleaned_data, self.form.fields
        lo, hi = cleaned.get(low), cleaned.get(high)
        if lo is not None and hi is not None and lo > hi:
            self.form.add_error(
                None,
                f"“{fields[low].label}” ({lo:%Y-%m-%d}) is after "
                f"“{fields[high].label}” ({hi:%Y-%m-%d}): both were ignored.",
            )
            cleaned.pop(low, None)
            cleaned.pop(high, None)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*self.sorts[self.sort]) if self.page and self.sorts else queryset

    # --- What a page shows and links to (valid parameters only) --------------------------------

    @cached_property
    def values(self) -> dict:
        cleaned = self.form.cleaned_data
        return {
            name: cleaned[name]
            for name in self.form.fields
            if name != "sort" and name in cleaned and cleaned[name] not in (None, "", False)
        }

    @cached_property
    def params(self) -> dict[str, str]:
        return {name: param_text(value) for name, value in self.values.items()}

    @cached_property
    def sort(self) -> str:
        sort = self.form.cleaned_data.get("sort") or self.default_sort
        return sort if sort in self.sorts else self.default_sort

    @cached_property
    def problems(self) -> list[str]:
        fields = self.form.fields
        return [
            f"“{fields[name].label}” was ignored: {' '.join(errors)}"
            if name in fields
            else " ".join(errors)
            for name, errors in self.form.errors.items()
        ]

    @property
    def active(self) -> bool:
        return bool(self.values)

    def query(self, **changes) -> QueryDict:
        """The canonical query string, with `changes` applied (None removes a key)."""
        query = QueryDict(mutable=True)
        for name, value in self.params.items():
            query[name] = value
        if self.sort != self.default_sort:
            query["sort"] = self.sort
        for name, value in changes.items():
            if value is None or value == "":
                query.pop(name, None)
            else:
                query[name] = str(value)
        return query

    def without(self, *names: str) -> str:
        return self.query(**dict.fromkeys(names)).urlencode()

    def chips(self, names: dict[str, str]) -> list[Chip]:
        """One removable chip per active filter; `names` labels ids (owner, account, playbook)."""
        return []


def _keep(queryset, name, value):
    return queryset  # the sort is applied once, after every filter


def param_text(value) -> str:
    if isinstance(value, dt.date):  # a datetime too
        return value.isoformat()
    if value is True:
        return "1"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def sort_link(flt: ListFilterSet, ascending: str | None, descending: str | None) -> dict:
    """Where a column header points and which way the list is sorted by it now."""
    if flt.sort == ascending:
        target, direction = descending or ascending, "ascending"
    elif flt.sort == descending:
        target, direction = ascending or descending, "descending"
    else:
        target, direction = descending or ascending, None
    sort = None if target == flt.default_sort else target
    return {"query": flt.query(sort=sort, page=None).urlencode(), "direction": direction}


# --- Chips -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chip:
    label: str
    remove_query: str  # the page's query string without this filter


class Chips(list):
    """The chips of a list's active filters; the ones every list shares are built here."""

    def __init__(self, flt: ListFilterSet, names: dict[str, str]):
        super().__init__()
        self.flt, self.values, self.names = flt, flt.values, names

    def add(self, label: str, *params: str) -> None:
        self.append(Chip(label=label, remove_query=self.flt.without(*params, "page")))

    def day_range(self, prefix: str, low: str, high: str) -> None:
        if low in self.values or high in self.values:
            self.add(range_label(prefix, self.values.get(low), self.values.get(high)), low, high)

    def tier(self) -> None:
        if "tier" in self.values:
            self.add(dict(TIER_CHOICES)[self.values["tier"]], "tier")

    def owner(self) -> None:
        if "owner" in self.values:
            owner = self.values["owner"]
            label = f"Owner: {self.names.get('owner', owner)}"
            self.add("Unassigned" if owner == UNASSIGNED else label, "owner")

    def account(self) -> None:
        if "account" in self.values:
            account = self.values["account"]
            self.add(f"Account: {self.names.get('account', '#' + str(account))}", "account")


def range_label(prefix: str, start: dt.date | None, end: dt.date | None) -> str:
    if start and end:
        text = f"{start:%Y-%m-%d} – {end:%Y-%m-%d}"
    elif start:
        text = f"from {start:%Y-%m-%d}"
    else:
        text = f"until {end:%Y-%m-%d}"
    return f"{prefix} {text}" if prefix else text[0].upper() + text[1:]


def filter_names(user, values: dict) -> dict[str, str]:
    """Names for the ids among the filters, from what `user` may see (else the chip shows the id).

    At most one small query per id given, whatever the number of rows.
    """
    names = {}
    owner = values.get("owner")
    if owner and owner != UNASSIGNED and (user.sees_everything or int(owner) == user.pk):
        if found := User.objects.filter(pk=int(owner)).first():
            names["owner"] = display_name(found)
    if account := values.get("account"):
        if found := accounts_visible_to(user).filter(pk=account).values_list("name").first():
            names["account"] = found[0]
    playbook = values.get("playbook")
    if playbook and str(playbook).isdigit():
        # Playbooks sit above accounts: reached through the enrolment relation, scoped by theirs.
        enrolment = Account._meta.get_field("enrolments").related_model
        playbooks = visible_to(enrolment._meta.get_field("playbook").related_model, user)
        found = playbooks.filter(pk=int(playbook)).values_list("name").first()
        if found:
            names["playbook"] = found[0]
    return names


# --- Pages -------------------------------------------------------------------------------------


class CountedPaginator(Paginator):
    """A paginator given the count the page's totals query already made, so the list costs one
    COUNT instead of two (the activities table holds a million rows)."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def page_of(paginator: Paginator, raw: str | None) -> tuple[Page, str | None]:
    """The requested page, or the first one with a note saying why."""
    if not raw:
        return paginator.page(1), None
    try:
        number = int(raw)
    except ValueError:
        return paginator.page(1), f"“Page” was ignored: “{raw[:20]}” is not a page number."
    if not 1 <= number <= paginator.num_pages:
        return paginator.page(1), (
            f"There is no page {number}; showing page 1 of {paginator.num_pages}."
        )
    return paginator.page(number), None


def list_context(
    user, flt: ListFilterSet, page: Page, page_problem: str | None, sorts: dict
) -> dict:
    """What every filtered list page shows around its rows: the filter, its chips (ids named
    from what ``user`` may see), the problems with its parameters, the page and its sort links.
    ``sorts`` maps a column to its (ascending, descending) sort keys."""
    query = flt.query()
    return {
        "page": page,
        "filter": flt,
        "chips": flt.chips(filter_names(user, flt.values)),
        "problems": flt.problems + ([page_problem] if page_problem else []),
        "query": query,
        "query_string": query.urlencode(),
        "sort_links": {name: sort_link(flt, *keys) for name, keys in sorts.items()},
    }
