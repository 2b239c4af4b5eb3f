"""Which accounts a playbook is for: its tiers, its industries and a saved account-list filter.

Every part that is set must hold (tier 1 *and* Software *and* the filter). A playbook with no audience
at all matches no account, so "enrol all matching" can never enrol the whole database by accident.
The saved filter is the account list's own query parameters, applied by the account list's own
filter code, so it means exactly what the list showed when it was saved.
"""

from urllib.parse import urlsplit

from django.db.models import QuerySet
from django.http import QueryDict

from accounts.account_filters import AccountListFilterSet, account_list_filter
from accounts.filtering import FilterChoices
from accounts.models import Account, Tier
from accounts.visibility import accounts_visible_to
from playbooks.models import Playbook

# Parameters of the account list that say how to show it, not which accounts.
_NOT_FILTERS = ("sort", "page")


def has_audience(playbook: Playbook) -> bool:
    return bool(playbook.audience_tiers or playbook.audience_industries or playbook.audience_filter)


def audience_accounts(playbook: Playbook, *, user) -> QuerySet[Account]:
    """The accounts of the audience that `user` may see (a rep: only their own)."""
    accounts = accounts_visible_to(user)
    if not has_audience(playbook):
        return accounts.none()
    if playbook.audience_tiers:
        accounts = accounts.filter(tier__in=playbook.audience_tiers)
    if playbook.audience_industries:
        accounts = accounts.filter(industry__in=playbook.audience_industries)
    if playbook.audience_filter:
        accounts = saved_filter(playbook.audience_filter).apply(accounts)
    return accounts.order_by("name", "id")


def saved_filter(params: dict) -> AccountListFilterSet:
    """The account list's filter for stored parameters, validated without reading the database.

    The list validates industry, country and owner against the values present; a saved filter
    names its own, so those are its choices (an industry with no accounts simply matches none).
    """
    data = QueryDict(mutable=True)
    for name, value in params.items():
        data[name] = str(value)
    owner = data.get("owner", "")
    choices = FilterChoices(
        industries=[data["industry"]] if data.get("industry") else [],
        countries=[data["country"]] if data.get("country") else [],
        owners=[(int(owner), "")] if owner.isdigit() else [],
    )
    return account_list_filter(data, choices=choices, with_owner=True, default_sort="name")


def parse_saved_filter(text: str) -> tuple[dict[str, str], list[str]]:
    """A pasted account-list URL or query string -> (the filter's parameters, what was ignored)."""
    text = (text or "").strip()
    if not text:
        return {}, []
    if "?" in text:
        text = urlsplit(text).query or text.split("?", 1)[1]
    data = QueryDict(text.lstrip("?"), mutable=True)
    for name in _NOT_FILTERS:
        data.pop(name, None)
    flt = saved_filter(data)
    known = set(flt.form.fields) - {"sort"}
    problems = list(flt.problems)
    problems += [
        f"“{name}” is not an account-list filter and was ignored."
        for name in data
        if name not in known
    ]
    params = {name: value for name, value in flt.query().items() if name not in _NOT_FILTERS}
    return params, problems


def describe_audience(playbook: Playbook) -> list[str]:
    """The audience in words, one part per line: ["Tier 1 (1:1)", "Software, Healthcare", ...]."""
    parts = []
    if playbook.audience_tiers:
        parts.append(", ".join(Tier(int(t)).label for t in playbook.audience_tiers))
    if playbook.audience_industries:
        parts.append(", ".join(playbook.audience_industries))
    if playbook.audience_filter:
        parts.append(
            "Account filter: "
            + " · ".join(f"{name} = {value}" for name, value in playbook.audience_filter.items())
        )
    return parts


def filter_query_string(playbook: Playbook) -> str:
    data = QueryDict(mutable=True)
    for name, value in playbook.audience_filter.items():
        data[name] = str(value)
    return data.urlencode()
