"""The goal form, its milestones and the SMART rules that stop a goal from being saved.

Rates are typed as percentages (35 = 35 %) and stored as fractions (0.35), like every rate.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from abm.models import Role
from goals.access import goal_teams_for
from goals.choices import RATE_METRICS, GoalMetric, GoalTeam
from goals.models import Goal
from goals.progress import ADDITIVE_METRICS, CUMULATIVE_METRICS, Scope, format_value
from goals.smart import ERROR, WARNING, Check, smart_check
from goals.tracking import measure_record
from playbooks.visibility import playbooks_visible_to

TIER_CHOICES = [(1, "Tier 1 (1:1)"), (2, "Tier 2 (1:few)"), (3, "Tier 3 (1:many)")]
_HUNDRED = Decimal(100)


def unit_scale(metric: str | None) -> Decimal:
    """What a typed value is divided by to store it: 100 for rates typed as percentages."""
    return _HUNDRED if metric in RATE_METRICS else Decimal(1)


def _person(user) -> str:
    return user.get_full_name() or user.username


# A missing field says which SMART rule it breaks.
REQUIRED_MESSAGES = {
    "name": "Name the goal after the result it wants.",
    "metric": "Specific: say what will change: choose a metric.",
    "owner": "Specific: name the owner who is accountable for it.",
    "target": "Measurable: enter a numeric target.",
    "start_date": "Timely: set a start date.",
    "end_date": "Timely: set an end date.",
}


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{_person(obj)} ({obj.get_role_display()})"


class GoalForm(forms.ModelForm):
    owner = PersonChoiceField(
        queryset=get_user_model().objects.none(),
        empty_label="Choose the accountable owner",
        help_text="The one person accountable; they are emailed when it falls behind.",
    )
    scope_tiers = forms.TypedMultipleChoiceField(
        choices=TIER_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Tiers",
    )
    scope_owner = PersonChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Any rep",
        label="Rep's accounts",
    )
    target = forms.DecimalField(
        max_digits=16,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )

    class Meta:
        model = Goal
        fields = [
            "name",
            "team",
            "owner",
            "metric",
            "scope_tiers",
            "scope_playbook",
            "scope_owner",
            "start_date",
            "end_date",
            "target",
        ]
        labels = {"scope_playbook": "Playbook", "name": "Goal", "metric": "Outcome metric"}
        help_texts = {
            "name": "The result, e.g. “$2M pipeline from tier 1 in Q3”.",
            "metric": "Goals measure outcomes; the work to get there belongs in a playbook.",
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off"}),
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, user, parent: Goal | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.parent = parent if parent is not None else self.instance.parent
        users = get_user_model().objects.filter(is_active=True).order_by("first_name", "username")
        self.fields["owner"].queryset = users
        self.fields["scope_owner"].queryset = users.filter(role=Role.SALES)
        self.fields["scope_playbook"].queryset = (
            playbooks_visible_to(user).filter(is_starter=False).order_by("name")
        )
        self.fields["scope_playbook"].empty_label = "Any playbook"
        # The choices leave out starters and what the user may not see (the API refuses those
        # first, as no playbook they can see), so a refused choice here is a starter.
        self.fields["scope_playbook"].error_messages["invalid_choice"] = (
            "Starter playbooks are templates: choose a playbook you run."
        )
        teams = goal_teams_for(user)
        self.fields["team"].choices = [(v, label) for v, label in GoalTeam.choices if v in teams]
        # Which teams depend on who asks, so the refusal says who may set the others.
        self.fields["team"].error_messages["invalid_choice"] = (
            "You may not set %(value)s goals: directors and admins set any goal, marketers "
            "marketing goals."
        )
        self.fields["metric"].choices = [("", "Choose an outcome"), *GoalMetric.choices]
        for name, message in REQUIRED_MESSAGES.items():
            self.fields[name].error_messages["required"] = message
        if self.instance.pk and not self.is_bound:
            self.initial["target"] = self.instance.target * unit_scale(self.instance.metric)
            self.initial["scope_tiers"] = list(self.instance.scope_tiers or [])
        if self.parent is not None and not self.instance.pk and not self.is_bound:
            self.initial.update(_child_initial(self.parent))

    # The SMART checks of the last clean(); the page shows the warnings beside their fields.
    checks: list[Check] = []

    def clean(self):
        data = super().clean()
        metric = data.get("metric")
        if data.get("target") is not None:
            data["target"] = data["target"] / unit_scale(metric)
        playbook, scope_owner = data.get("scope_playbook"), data.get("scope_owner")
        tiers = tuple(data.get("scope_tiers") or ())
        start, end = data.get("start_date"), data.get("end_date")
        record = None
        if metric in GoalMetric.values and start and end and start < end:
            # Over every account, as goal_save measures the baseline it stores.
            record = measure_record(
                metric=metric,
                scope=Scope(
                    tiers=tiers,
                    playbook_id=playbook.pk if playbook else None,
                    owner_id=scope_owner.pk if scope_owner else None,
                ),
                start=start,
                end=end,
            )
        self.checks = smart_check(
            name=data.get("name") or "",
            metric=metric,
            target=None if data.get("target") is None else float(data["target"]),
            has_owner=data.get("owner") is not None,
            tiers=tiers,
            playbook=playbook.name if playbook else None,
            scope_owner=_person(scope_owner) if scope_owner else None,
            start=start,
            end=end,
            baseline=None if record is None else record.baseline,
            record=record,
            pace_limit=settings.ABM_GOAL_ATTAINABLE_PACE,
            today=None if self._dates_kept(start, end) else timezone.now().date(),
        )
        for check in self.checks:
            if check.level == ERROR and not self.has_error(check.field or "__all__"):
                self.add_error(check.field, f"{check.label}: {check.message}")
        if self.parent is not None:
            self._clean_against_parent(data)
        self._clean_against_parts(data)
        data["scope_tiers"] = sorted(set(data.get("scope_tiers") or []))
        return data

    def _dates_kept(self, start, end) -> bool:
        """An ended goal may still be renamed or handed over: Timely's "end after today" holds
        when a goal is set and when its dates change."""
        goal = self.instance
        return goal.pk is not None and (goal.start_date, goal.end_date) == (start, end)

    def warnings(self) -> list[Check]:
        return [check for check in self.checks if check.level == WARNING]

    def _clean_against_parent(self, data) -> None:
        parent = self.parent
        if data.get("metric") and data["metric"] != parent.metric:
            self.add_error("metric", f"A part of “{parent.name}” measures its metric too.")
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and (start < parent.start_date or end > parent.end_date):
            self.add_error(
                "end_date",
                f"A part must fit in its parent's period "
                f"({parent.start_date:%b %-d} – {parent.end_date:%b %-d, %Y}).",
            )
        tiers = set(data.get("scope_tiers") or [])
        if parent.scope_tiers and not (tiers and tiers <= set(parent.scope_tiers)):
            self.add_error("scope_tiers", "Choose among the parent's tiers.")
        if parent.scope_playbook_id and data.get("scope_playbook") != parent.scope_playbook:
            self.add_error("scope_playbook", "Keep the parent's playbook.")
        if parent.scope_owner_id and data.get("scope_owner") != parent.scope_owner:
            self.add_error("scope_owner", "Keep the parent's rep.")
        target = data.get("target")
        # Only parts measuring what the parent does add up to it (a plan's revenue goal has
        # opportunity and mqa children: leading indicators, in other units).
        if target is None or parent.metric not in ADDITIVE_METRICS:
            return
        if data.get("metric") != parent.metric:
            return
        siblings = parent.children.filter(metric=parent.metric).exclude(pk=self.instance.pk)
        siblings = siblings.values_list("target", flat=True)
        total = sum(siblings, Decimal(0)) + target
        if total > parent.target:
            self.add_error(
                "target",
                f"The parts would add up to {format_value(total, parent.metric)}, more than "
                f"the parent's {format_value(parent.target, parent.metric)}.",
            )

    def _clean_against_parts(self, data) -> None:
        target, metric = data.get("target"), data.get("metric")
        if not self.instance.pk or target is None or metric not in ADDITIVE_METRICS:
            return
        parts = self.instance.children.filter(metric=metric).values_list("target", flat=True)
        parts = sum(parts, Decimal(0))
        if parts > target:
            self.add_error(
                "target",
                f"Its parts add up to {format_value(parts, metric)}: lower their targets first.",
            )


def _child_initial(parent: Goal) -> dict:
    return {
        "team": parent.team,
        "owner": parent.owner_id,
        "metric": parent.metric,
        "scope_tiers": list(parent.scope_tiers or []),
        "scope_playbook": parent.scope_playbook_id,
        "scope_owner": parent.scope_owner_id,
        "start_date": parent.start_date,
        "end_date": parent.end_date,
    }


class MilestoneForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    value = forms.DecimalField(
        max_digits=16,
        decimal_places=4,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


class BaseMilestoneFormSet(forms.BaseFormSet):
    """Set ``goal_data`` (the goal form's cleaned data) before validating."""

    goal_data: dict | None = None

    def clean(self):
        if any(self.errors) or not self.goal_data:
            return
        metric = self.goal_data.get("metric")
        start, end = self.goal_data.get("start_date"), self.goal_data.get("end_date")
        target = self.goal_data.get("target")
        rows = sorted(self.milestones(), key=lambda row: row[0])
        dates = [day for day, _ in rows]
        if len(set(dates)) != len(dates):
            raise forms.ValidationError("Two milestones share a date; keep one per date.")
        for day, value in rows:
            if start and end and not start <= day < end:
                raise forms.ValidationError(
                    f"A milestone on {day:%b %-d, %Y} is outside the period; milestones fall "
                    "between the start and the day before the end (the end is the target)."
                )
            if metric in RATE_METRICS and value > 1:
                raise forms.ValidationError("A rate milestone can be at most 100%.")
        if metric in CUMULATIVE_METRICS:
            values = [value for _, value in rows]
            if values != sorted(values):
                raise forms.ValidationError(
                    "Milestones of a running total cannot go down from one date to the next."
                )
            if target is not None and values and values[-1] > target:
                raise forms.ValidationError("A milestone cannot be above the target.")

    def milestones(self) -> list[tuple[dt.date, Decimal]]:
        """(date, value in stored units) of the filled-in rows."""
        metric = (self.goal_data or {}).get("metric")
        return [
            (form.cleaned_data["date"], form.cleaned_data["value"] / unit_scale(metric))
            for form in self.forms
            if form.cleaned_data and form.cleaned_data.get("date")
        ]


MilestoneFormSet = forms.formset_factory(
    MilestoneForm, formset=BaseMilestoneFormSet, extra=1, max_num=24, validate_max=True
)


def milestone_initial(goal: Goal) -> list[dict]:
    scale = unit_scale(goal.metric)
    return [{"date": m.date, "value": m.value * scale} for m in goal.milestones.all()]
