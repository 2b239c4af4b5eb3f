"""The account list's filters and sorting: a GET form, so a filtered list is a URL to share.

A bad parameter (fit_min=abc, tier=9, sort=password) is never an error page: the form drops it,
the page says it was ignored, and every link the page builds (sorting, pagination, export,
"select all matching") carries only the valid filters.
"""

from dataclasses import dataclass, field

from django import forms
from django.db.models import F, FloatField, Q, QuerySet
from django.db.models.expressions import ExpressionWrapper
from django.http import QueryDict

from abm.models import Role, User
from accounts.models import Account, JourneyStage, Tier
from accounts.visibility import accounts_visible_to

UNTIERED = "untiered"
TARGETS = "targets"  # any tier: the target accounts a dashboard counts
UNASSIGNED = "unassigned"
NO_STAGE = "none"

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
_FIRST_CLICK = {
    "name": "name",
    "tier": "tier",
    "fit": "-fit",
    "engagement": "-engagement",
    "priority": "-priority",
}
DEFAULT_SORT = {True: "name", False: "-priority"}  # keyed by "sees every account"


def priority_expression() -> ExpressionWrapper:
    """Priority = fit x engagement, with fit as a 0-1 share so the value reads like engagement."""
    return ExpressionWrapper(
        F("fit_score") * F("engagement_score") / 100.0, output_field=FloatField()
    )


@dataclass(frozen=True)
class FilterChoices:
    """The options the select boxes offer: values present in the data the user may see."""

    industries: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    owners: list[tuple[int, str]] = field(default_factory=list)


def filter_choices(accounts: QuerySet[Account], *, with_owners: bool) -> FilterChoices:
    """Two queries (one with owners): the industry x country pairs, then the sales reps."""
    pairs = accounts.order_by().values_list("industry", "country").distinct()
    industries, countries = set(), set()
    for industry, country in pairs:
        industries.add(industry)
        countries.add(country)
    owners = []
    if with_owners:
        owners = [(u.pk, display_name(u)) for u in sales_reps()]
    return FilterChoices(
        industries=sorted(i for i in industries if i),
        countries=sorted(c for c in countries if c),
        owners=owners,
    )


def sales_reps() -> QuerySet[User]:
    """The users who may own accounts."""
    return User.objects.filter(role=Role.SALES, is_active=True, is_superuser=False).order_by(
        "first_name", "last_name", "username"
    )


def display_name(user) -> str:
    return user.get_full_name() or user.username


class AccountFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    tier = forms.ChoiceField(
        label="Tier",
        required=False,
        choices=[("", "Any tier"), (TARGETS, "Target accounts (tier 1-3)")]
        + [(str(value), f"Tier {value}") for value in Tier.values]
        + [(UNTIERED, "Untiered")],
    )
    stage = forms.ChoiceField(
        label="Journey stage",
        required=False,
        choices=[("", "Any stage"), *JourneyStage.choices, (NO_STAGE, "No stage")],
    )
    owner = forms.ChoiceField(label="Owner", required=False)
    industry = forms.ChoiceField(label="Industry", required=False)
    country = forms.ChoiceField(label="Country", required=False)
    fit_min = forms.FloatField(label="Fit from", required=False, min_value=0, max_value=100)
    fit_max = forms.FloatField(label="Fit to", required=False, min_value=0, max_value=100)
    engagement_min = forms.FloatField(label="Engagement from", required=False, min_value=0)
    engagement_max = forms.FloatField(label="Engagement to", required=False, min_value=0)
    spike = forms.BooleanField(label="Spiking only", required=False)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORT_LABELS.items())

    def __init__(self, data=None, *, choices: FilterChoices, with_owner: bool, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["industry"].choices = [("", "Any industry")] + [
            (i, i) for i in choices.industries
        ]
        self.fields["country"].choices = [("", "Any country")] + [(c, c) for c in choices.countries]
        if with_owner:
            self.fields["owner"].choices = [("", "Anyone"), (UNASSIGNED, "Unassigned")] + [
                (str(pk), name) for pk, name in choices.owners
            ]
        else:
            # A rep sees only their own accounts: an owner filter would mean nothing.
            del self.fields["owner"]
        for name in ("fit_min", "fit_max", "engagement_min", "engagement_max"):
            self.fields[name].widget.attrs.update(
                {"step": "any", "inputmode": "decimal", "placeholder": "—"}
            )
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": "Name or domain", "autocomplete": "off"}
        )

    def clean(self):
        cleaned = super().clean()
        for low, high in (("fit_min", "fit_max"), ("engagement_min", "engagement_max")):
            lo, hi = cleaned.get(low), cleaned.get(high)
            if lo is not None and hi is not None and lo > hi:
                lo_label, hi_label = self.fields[low].label, self.fields[high].label
                self.add_error(
                    None,
                    f"“{lo_label}” ({_param(lo)}) is above “{hi_label}” ({_param(hi)}): "
                    "both were ignored.",
                )
                cleaned.pop(low, None)
                cleaned.pop(high, None)
        return cleaned


@dataclass
class AccountFilter:
    """The valid part of a request's filters, ready to apply and to put back in links."""

    values: dict
    sort: str
    default_sort: str
    problems: list[str]
    form: AccountFilterForm

    @property
    def active(self) -> bool:
        """True when something narrows the list (sorting does not)."""
        return bool(self.values)

    def apply(self, accounts: QuerySet[Account]) -> QuerySet[Account]:
        v = self.values
        if q := v.get("q"):
            accounts = accounts.filter(Q(name__icontains=q) | Q(domain__icontains=q))
        if tier := v.get("tier"):
            if tier in (UNTIERED, TARGETS):
                accounts = accounts.filter(tier__isnull=tier == UNTIERED)
            else:
                accounts = accounts.filter(tier=int(tier))
        if stage := v.get("stage"):
            accounts = accounts.filter(stage="" if stage == NO_STAGE else stage)
        if owner := v.get("owner"):
            accounts = (
                accounts.filter(owner__isnull=True)
                if owner == UNASSIGNED
                else accounts.filter(owner_id=int(owner))
            )
        if industry := v.get("industry"):
            accounts = accounts.filter(industry=industry)
        if country := v.get("country"):
            accounts = accounts.filter(country=country)
        for name, lookup in (
            ("fit_min", "fit_score__gte"),
            ("fit_max", "fit_score__lte"),
            ("engagement_min", "engagement_score__gte"),
            ("engagement_max", "engagement_score__lte"),
        ):
            if v.get(name) is not None:
                accounts = accounts.filter(**{lookup: v[name]})
        if v.get("spike"):
            accounts = accounts.filter(spike=True)
        return accounts.annotate(priority=priority_expression()).order_by(*SORTS[self.sort])

    def query(self, **changes) -> QueryDict:
        """The canonical query string of this filter, with `changes` (None removes a key)."""
        params = QueryDict(mutable=True)
        for name, value in self.values.items():
            params[name] = _param(value)
        if self.sort != self.default_sort:
            params["sort"] = self.sort
        for name, value in changes.items():
            if value is None or value == "":
                params.pop(name, None)
            else:
                params[name] = str(value)
        return params

    def sort_link(self, column: str) -> dict:
        """Where a column header points and which way the list is sorted by it now."""
        if self.sort == column:
            target, direction = f"-{column}", "ascending"
        elif self.sort == f"-{column}":
            target, direction = column, "descending"
        else:
            target, direction = _FIRST_CLICK[column], None
        sort = None if target == self.default_sort else target
        return {"query": self.query(sort=sort, page=None).urlencode(), "direction": direction}


def account_filter(
    data: QueryDict, *, choices: FilterChoices, with_owner: bool, default_sort: str
) -> AccountFilter:
    form = AccountFilterForm(data, choices=choices, with_owner=with_owner)
    form.is_valid()
    cleaned = form.cleaned_data
    values = {
        name: cleaned[name]
        for name in form.fields
        if name != "sort" and name in cleaned and cleaned[name] not in (None, "", False)
    }
    if "q" in values:
        values["q"] = values["q"].strip()
        if not values["q"]:
            del values["q"]
    problems = [
        f"“{form.fields[name].label}” was ignored: {' '.join(errors)}"
        if name in form.fields
        else " ".join(errors)
        for name, errors in form.errors.items()
    ]
    sort = cleaned.get("sort") or default_sort
    # The form shown on the page holds only what was applied, so a bad value does not linger.
    shown_data = _as_querydict(values, sort, default_sort)
    shown_data["sort"] = sort  # the select shows the order in force, default or not
    shown = AccountFilterForm(shown_data, choices=choices, with_owner=with_owner)
    shown.is_valid()
    return AccountFilter(
        values=values, sort=sort, default_sort=default_sort, problems=problems, form=shown
    )


def accounts_filtered(user, data: QueryDict):
    """The visible accounts narrowed and sorted by `data`: the list, its exports and export jobs."""
    visible = accounts_visible_to(user)
    sees_all = user.sees_everything
    choices = filter_choices(visible, with_owners=sees_all)
    flt = account_filter(
        data, choices=choices, with_owner=sees_all, default_sort=DEFAULT_SORT[sees_all]
    )
    return flt, flt.apply(visible), choices


def _param(value) -> str:
    if value is True:
        return "1"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _as_querydict(values: dict, sort: str, default_sort: str) -> QueryDict:
    params = QueryDict(mutable=True)
    for name, value in values.items():
        params[name] = _param(value)
    if sort != default_sort:
        params["sort"] = sort
    return params
