"""The dashboards' filters: date range, tier, owner, playbook and model, kept in the URL.

The stored rollups are monthly (UTC), so a range is a run of whole months: presets count back
from the current month, and a custom range takes a first and a last month. A bad parameter is
never an error page: the form drops it, the page says it was ignored, and every link the page
builds carries only the valid filters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.utils import timezone

from accounts.filtering import display_name, sales_reps
from metrics.models import AttributionModel
from playbooks.visibility import playbooks_visible_to

DEFAULT_PRESET = "last_12_months"
DEFAULT_MODEL = AttributionModel.W_SHAPED.value  # plain text: the filters key kept figures
PRESETS = {
    "last_3_months": "Last 3 months",
    "last_6_months": "Last 6 months",
    "last_12_months": "Last 12 months",
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "this_year": "This year",
    "last_year": "Last year",
    "custom": "Custom months",
}
TARGETS = "targets"
NON_TARGET = "0"
TIER_CHOICES = [
    ("", "All accounts"),
    (TARGETS, "Target accounts"),
    ("1", "Tier 1"),
    ("2", "Tier 2"),
    ("3", "Tier 3"),
    (NON_TARGET, "Non-target"),
]
MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]
# A custom period's longest run of months: each chart has a point per month, and the rollups hold
# far fewer (ABM_ROLLUP_MONTHS); a range over centuries was only a slow page.
MAX_CUSTOM_MONTHS = 120
FIRST_YEAR = 1900
# A month as the API's schema states it: YYYY-MM from FIRST_YEAR on (the form also reads a day).
MONTH_PATTERN = r"^(?:19|[2-9]\d)\d\d-(?:0[1-9]|1[0-2])$"


def _not_before_first_year(value: dt.date) -> None:
    # Month arithmetic (the previous period) must stay within the calendar.
    if value.year < FIRST_YEAR:
        raise forms.ValidationError(f"use a month from {FIRST_YEAR} on.")


class DashboardFilterForm(forms.Form):
    preset = forms.ChoiceField(label="Period", required=False, choices=PRESETS.items())
    start = forms.DateField(
        label="From month",
        required=False,
        input_formats=MONTH_FORMATS,
        validators=[_not_before_first_year],
    )
    end = forms.DateField(
        label="To month",
        required=False,
        input_formats=MONTH_FORMATS,
        validators=[_not_before_first_year],
    )
    tier = forms.ChoiceField(label="Tier", required=False, choices=TIER_CHOICES)
    owner = forms.TypedChoiceField(label="Owner", required=False, coerce=int, empty_value=None)
    playbook = forms.TypedChoiceField(
        label="Playbook", required=False, coerce=int, empty_value=None
    )
    model = forms.ChoiceField(
        label="Attribution model", required=False, choices=AttributionModel.choices
    )

    def __init__(self, data=None, *, user, choices: dict | None = None, **kwargs):
        """``choices``: ``filter_choices(user)``, when the caller made them for another form."""
        super().__init__(data, **kwargs)
        for name in ("start", "end"):
            self.fields[name].widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
        choices = choices or filter_choices(user)
        if "owner" not in choices:
            # A rep's dashboards show only their own accounts: an owner filter would mean nothing.
            del self.fields["owner"]
        for name, values in choices.items():
            self.fields[name].choices = values


def filter_choices(user) -> dict[str, list[tuple[str, str]]]:
    """The owner (for those who see everyone) and playbook choices of ``user``'s filter bar."""
    choices = {}
    if user.sees_everything:
        choices["owner"] = [("", "Anyone")] + [(str(u.pk), display_name(u)) for u in sales_reps()]
    choices["playbook"] = [("", "Any playbook")] + [
        (str(pk), name)
        for pk, name in playbooks_visible_to(user).order_by("name").values_list("pk", "name")
    ]
    return choices


@dataclass(frozen=True)
class DashboardFilters:
    """The valid filters of a request. ``start`` and ``end`` are the first days of the first and
    the last month of the range (both included)."""

    preset: str
    start: dt.date
    end: dt.date
    tier: str = ""
    owner: int | None = None
    playbook: int | None = None
    model: str = DEFAULT_MODEL
    problems: tuple[str, ...] = ()

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def previous(self) -> DashboardFilters:
        """The equal run of months just before, for "change against the previous period"."""
        end = add_months(self.start, -1)
        return replace(self, start=add_months(end, 1 - self.months), end=end, preset="custom")

    @property
    def first_day(self) -> dt.date:
        return self.start

    @property
    def last_day(self) -> dt.date:
        return add_months(self.end, 1) - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        span = f"{self.start:%b %Y} – {self.end:%b %Y}"
        if self.start == self.end:
            span = f"{self.start:%b %Y}"
        return span if self.preset == "custom" else f"{PRESETS[self.preset]} ({span})"

    def params(self, **overrides) -> dict:
        """The query parameters that reproduce these filters (blank ones left out)."""
        values = {
            "preset": self.preset,
            "start": f"{self.start:%Y-%m}" if self.preset == "custom" else "",
            "end": f"{self.end:%Y-%m}" if self.preset == "custom" else "",
            "tier": self.tier,
            "owner": self.owner,
            "playbook": self.playbook,
            "model": self.model,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in (None, "")}

    def query(self, **overrides) -> str:
        return urlencode(self.params(**overrides))


def parse_filters(
    data, *, user, today: dt.date | None = None, choices: dict | None = None
) -> DashboardFilters:
    """The filters of a GET QueryDict; anything invalid is dropped and named in ``problems``.
    ``choices``: as ``DashboardFilterForm`` takes them."""
    today = today or timezone.now().date()
    form = DashboardFilterForm(data, user=user, choices=choices)
    form.is_valid()
    problems = [
        f"“{form.fields[name].label}” ({_shown(data.get(name))}) was ignored: {errors[0]}"
        for name, errors in form.errors.items()
        if name in form.fields
    ]
    cleaned = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
    preset = cleaned.get("preset") or DEFAULT_PRESET
    if preset == "custom":
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None or end is None or start > end:
            if not any(name in form.errors for name in ("start", "end")):
                problems.append(
                    "A custom period needs a “From month” no later than its “To month”; "
                    "showing the last 12 months instead."
                )
            preset = DEFAULT_PRESET
        else:
            start, end = start.replace(day=1), end.replace(day=1)
            if end > today.replace(day=1):
                end = today.replace(day=1)
            start = min(start, end)
            earliest = add_months(end, 1 - MAX_CUSTOM_MONTHS)
            if start < earliest:
                problems.append(
                    f"“From month” ({start:%Y-%m}) was moved to {earliest:%Y-%m}: a custom period "
                    f"spans at most {MAX_CUSTOM_MONTHS // 12} years."
                )
                start = earliest
    if preset != "custom":
        start, end = preset_range(preset, today)
    return DashboardFilters(
        preset=preset,
        start=start,
        end=end,
        tier=cleaned.get("tier") or "",
        owner=cleaned.get("owner"),
        playbook=cleaned.get("playbook"),
        # Plain text either way: the kept figures' key holds the filters' repr (figure_cache.py).
        model=AttributionModel(cleaned.get("model") or DEFAULT_MODEL).value,
        problems=tuple(problems),
    )


def filter_form(
    filters: DashboardFilters, *, user, choices: dict | None = None
) -> DashboardFilterForm:
    """An unbound form showing ``filters``, for the filter bar."""
    initial = filters.params()
    initial.setdefault("start", f"{filters.start:%Y-%m}")
    initial.setdefault("end", f"{filters.end:%Y-%m}")
    return DashboardFilterForm(initial=initial, user=user, choices=choices)


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    month = today.replace(day=1)
    quarter = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    match preset:
        case "last_3_months":
            return add_months(month, -2), month
        case "last_6_months":
            return add_months(month, -5), month
        case "this_quarter":
            return quarter, month
        case "last_quarter":
            return add_months(quarter, -3), add_months(quarter, -1)
        case "this_year":
            return dt.date(today.year, 1, 1), month
        case "last_year":
            return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 1)
        case _:
            return add_months(month, -11), month


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def rollup_horizon(today: dt.date) -> dt.date:
    """The first month the rollups hold (settings.ABM_ROLLUP_MONTHS back from this one)."""
    return add_months(today.replace(day=1), 1 - settings.ABM_ROLLUP_MONTHS)


def _shown(value) -> str:
    text = str(value or "")
    return text if len(text) <= 40 else text[:39] + "…"
