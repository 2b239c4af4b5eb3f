"""What the drill-down lists (opportunities, activities) share: URL parameters read through a
Django form, UTC day ranges, tier and owner filters, removable chips and a paginator that is told
its count.

A dashboard links here with GET parameters; a bad one (created_from=abc, tier=9) is dropped and
reported, never an error page, and every link the page builds carries only the valid ones.
"""

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.http import QueryDict

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


class PlaybookParamField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in ("", NO_PLAYBOOK) or (value.isdigit() and 0 < int(value) < 2**31):
            return value
        raise forms.ValidationError(f"“{value[:30]}” is not a playbook id or “none”.")


class OwnerField(forms.CharField):
    """A user id, or "unassigned"; whether the user exists only matters to the result."""

    def clean(self, value):
        value = super().clean(value)
        if value in ("", UNASSIGNED) or (value.isdigit() and 0 < int(value) < 2**31):
            return value
        raise forms.ValidationError(f"“{value[:30]}” is not a user id or “unassigned”.")


def date_field(label: str) -> forms.DateField:
    # One format only: links are built by code, and 01/02/2026 means two different days.
    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "use a date as YYYY-MM-DD."},
    )


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def day_range_q(path: str, start: dt.date | None, end: dt.date | None) -> Q:
    """Inclusive UTC days: from `start` 00:00 up to, not including, the day after `end`."""
    q = Q()
    if start is not None:
        q &= Q(**{f"{path}__gte": day_start(start)})
    if end is not None:
        q &= Q(**{f"{path}__lt": day_start(end + dt.timedelta(days=1))})
    return q


def tier_q(tier: str, account_path: str = "account") -> Q:
    if tier == TARGETS:
        return Q(**{f"{account_path}__tier__isnull": False})
    if tier == NON_TARGET:
        return Q(**{f"{account_path}__tier__isnull": True})
    return Q(**{f"{account_path}__tier": int(tier)})


def owner_q(owner: str, account_path: str = "account") -> Q:
    if owner == UNASSIGNED:
        return Q(**{f"{account_path}__owner__isnull": True})
    return Q(**{f"{account_path}__owner_id": int(owner)})


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


def drop_reversed_range(form: forms.Form, cleaned: dict, low: str, high: str) -> None:
    """A range whose start is after its end matches nothing by mistake: ignore both ends."""
    lo, hi = cleaned.get(low), cleaned.get(high)
    if lo is not None and hi is not None and lo > hi:
        form.add_error(
            None,
            f"“{form.fields[low].label}” ({lo:%Y-%m-%d}) is after "
            f"“{form.fields[high].label}” ({hi:%Y-%m-%d}): both were ignored.",
        )
        cleaned.pop(low, None)
        cleaned.pop(high, None)


@dataclass(frozen=True)
class Chip:
    label: str
    remove_query: str  # the page's query string without this filter


class Chips(list):
    """The chips of a list's active filters; the ones every list shares are built here."""

    def __init__(self, flt: "ListFilter", names: dict[str, str]):
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


@dataclass
class ListFilter:
    """The valid part of a request's parameters, as cleaned values and as canonical strings."""

    values: dict
    params: dict[str, str]
    sort: str
    default_sort: str
    problems: list[str] = field(default_factory=list)

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


def sort_link(flt: ListFilter, ascending: str | None, descending: str | None) -> dict:
    """Where a column header points and which way the list is sorted by it now."""
    if flt.sort == ascending:
        target, direction = descending or ascending, "ascending"
    elif flt.sort == descending:
        target, direction = ascending or descending, "descending"
    else:
        target, direction = descending or ascending, None
    sort = None if target == flt.default_sort else target
    return {"query": flt.query(sort=sort, page=None).urlencode(), "direction": direction}


def read_filter(form: forms.Form, *, sorts, default_sort: str) -> ListFilter:
    """Validate `form` (bound to the GET parameters); keep what is valid, describe the rest."""
    form.is_valid()
    cleaned = form.cleaned_data
    values = {
        name: cleaned[name]
        for name in form.fields
        if name != "sort" and name in cleaned and cleaned[name] not in (None, "", False)
    }
    problems = [
        f"“{form.fields[name].label}” was ignored: {' '.join(errors)}"
        if name in form.fields
        else " ".join(errors)
        for name, errors in form.errors.items()
    ]
    sort = cleaned.get("sort") or default_sort
    if sort not in sorts:
        sort = default_sort
    params = {name: _param(value) for name, value in values.items()}
    return ListFilter(
        values=values, params=params, sort=sort, default_sort=default_sort, problems=problems
    )


def _param(value) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is True:
        return "1"
    return str(value)


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
