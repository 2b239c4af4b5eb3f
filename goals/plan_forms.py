"""The planner's form: what to plan (target, kind, period, scope, model) and the assumptions a
director types over the ones measured on the data. Rates and shares are typed as percentages."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from django import forms

from abm.lib.channels import Channel
from goals.forms import TIER_CHOICES
from goals.models import PlanKind
from metrics.models import AttributionModel
from metrics.planning_output import STEP_LABELS
from playbooks.visibility import playbooks_visible_to

STEPS = tuple(STEP_LABELS)
_MAX_MONEY = Decimal(10) ** 12


def channel_label(key: str) -> str:
    return Channel(key).label if key in Channel.values else key.replace("_", " ").capitalize()


def next_quarters(today: dt.date, count: int = 2) -> tuple[dt.date, dt.date]:
    """The first day of the next quarter and the last day ``count`` quarters later."""
    quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    start = _add_months(quarter_start, 3)
    last = _add_months(start, 3 * count - 1)
    return start, last.replace(day=calendar.monthrange(last.year, last.month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = _add_months(month, 1)
    return months


def scope_signature(data: dict) -> str:
    """What the measured assumptions depend on: typed ones are kept only while it holds."""
    playbook = data.get("playbook")
    return "|".join(
        [
            str(data.get("kind")),
            ",".join(str(t) for t in sorted(data.get("tiers") or [])),
            str(playbook.pk if playbook else ""),
            str(data.get("model")),
        ]
    )


class PlanForm(forms.Form):
    name = forms.CharField(
        max_length=200,
        required=False,
        label="Plan name",
        help_text="Needed to save, e.g. “H1 2027 tier 1-2 revenue”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    target = forms.DecimalField(
        max_digits=16,
        decimal_places=2,
        label="Target ($)",
        error_messages={"required": "Enter the target in dollars, e.g. 2000000."},
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "min": "1"}),
    )
    kind = forms.ChoiceField(choices=PlanKind.choices, label="Target is")
    start = forms.DateField(
        label="Start date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label="End date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    tiers = forms.TypedMultipleChoiceField(
        choices=TIER_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Tiers",
        help_text="None ticked: every target account.",
    )
    playbook = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Any playbook", label="Playbook"
    )
    model = forms.ChoiceField(
        choices=AttributionModel.choices,
        initial=AttributionModel.LINEAR,
        label="Attribution model",
        help_text="Splits spend's results over channels for the budget.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["playbook"].queryset = (
            playbooks_visible_to(user).filter(is_starter=False).order_by("name")
        )

    def clean_target(self):
        target = self.cleaned_data["target"]
        if target <= 0:
            raise forms.ValidationError("The target must be above $0.")
        if target >= _MAX_MONEY:
            raise forms.ValidationError("The target must be below $1,000,000,000,000.")
        return target

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start >= end:
            self.add_error("end", "The end date must be after the start date.")
        elif start and end and len(period_months(start, end)) > 24:
            self.add_error("end", "Plan at most 24 months at a time.")
        data["tiers"] = sorted(set(data.get("tiers") or []))
        return data


def _percent(raw: str, label: str, *, allow_zero: bool = False) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise forms.ValidationError(f"{label}: enter a percentage, e.g. 25.") from None
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 100):
        bound = "0" if allow_zero else "above 0"
        raise forms.ValidationError(f"{label}: enter a percentage from {bound} to 100.")
    return value / 100


def assumption_inputs(query, *, channels: list[str]) -> tuple[dict, dict[str, str]]:
    """Overrides the user typed (a value that differs from the measured one shown beside it, in
    the hidden ``d_`` field) and the errors by field name, in the user's words."""
    overrides: dict = {}
    errors: dict[str, str] = {}

    def typed(name: str) -> str | None:
        raw = (query.get(name) or "").strip()
        default = (query.get(f"d_{name}") or "").strip()
        return raw if raw and raw != default else None

    conversion = {}
    for index, step in enumerate(STEPS):
        name = f"conv_{index}"
        if (raw := typed(name)) is not None:
            try:
                conversion[step] = _percent(raw, STEP_LABELS[step])
            except forms.ValidationError as error:
                errors[name] = error.messages[0]
    if conversion:
        overrides["conversion"] = conversion
    lags = {}
    for index, step in enumerate(STEPS):
        name = f"lag_{index}"
        if (raw := typed(name)) is not None:
            try:
                days = float(raw)
                if not 0 <= days <= 3650:
                    raise ValueError
                lags[step] = days
            except ValueError:
                errors[name] = f"{STEP_LABELS[step]} lag: enter days from 0 to 3650, e.g. 30."
    if lags:
        overrides["lag_days"] = lags
    if (raw := typed("deal_size")) is not None:
        try:
            deal = float(raw)
            if not 0 < deal < 1e12:
                raise ValueError
            overrides["deal_size"] = deal
        except ValueError:
            errors["deal_size"] = "Average deal size: enter an amount above $0, e.g. 250000."
    if any(typed(f"mix_{channel}") is not None for channel in channels):
        mix = {}
        for channel in channels:
            raw = (query.get(f"mix_{channel}") or "0").strip() or "0"
            try:
                mix[channel] = _percent(raw, f"{channel_label(channel)} share", allow_zero=True)
            except forms.ValidationError as error:
                errors[f"mix_{channel}"] = error.messages[0]
        total = sum(mix.values())
        if len(mix) == len(channels) and abs(total - 1) > 0.005:
            errors["channel_mix"] = (
                f"The channel mix adds up to {total * 100:.1f}%; make the shares add up to 100%."
            )
        elif len(mix) == len(channels):
            overrides["channel_mix"] = mix
    return overrides, errors
