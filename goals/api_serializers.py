"""API representation of goals with their milestones.

A goal is validated by the goal page's own form and milestone formset (goals/forms.py), so the API
and the page refuse the same goals with the same SMART messages. Values are in stored units
throughout the API: a rate is a fraction (0.35 = 35 %), where the page types percentages.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from abm.api_resources import ScopedRelatedField
from abm.models import Role
from accounts.models import Tier
from goals.access import can_edit_goal
from goals.choices import RATE_METRICS, GoalStatus
from goals.forms import REQUIRED_MESSAGES, GoalForm, MilestoneFormSet, unit_scale
from goals.models import Goal
from goals.tracking import goal_save
from goals.visibility import goal_as_seen_by, goals_visible_to
from playbooks.visibility import playbooks_visible_to

# The goal form's fields, which the API sends to it as they are (a rate's target scaled).
FORM_FIELDS = tuple(GoalForm.Meta.fields)
MILESTONE_PREFIX = "milestones"
MAX_MILESTONES = MilestoneFormSet.max_num


def _active_users():
    return get_user_model().objects.filter(is_active=True)


class MilestoneSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="On or after the start, before the end date.")
    value = serializers.DecimalField(
        max_digits=16,
        decimal_places=4,
        min_value=0,
        help_text="The value expected by that date, in the metric's unit (a rate as a fraction).",
    )


GOAL_EXAMPLE = {
    "id": 4,
    "name": "$2M pipeline from tier 1 in Q3",
    "team": "marketing",
    "owner": 3,
    "metric": "pipeline_created",
    "scope_tiers": [1],
    "scope_playbook": 12,
    "scope_owner": None,
    "parent": None,
    "baseline": "1250000.0000",
    "target": "2000000.0000",
    "start_date": "2026-07-01",
    "end_date": "2026-09-30",
    "milestones": [
        {"date": "2026-07-31", "value": "500000.0000"},
        {"date": "2026-08-31", "value": "1200000.0000"},
    ],
    "current_value": "1320000.0000",
    "expected_value": "1200000.0000",
    "status": "on_track",
    "computed_at": "2026-09-01T02:00:00Z",
    "created_by": 3,
    "created_at": "2026-06-20T10:00:00Z",
    "smart_warnings": [],
    "figures_hidden": False,
}


@extend_schema_serializer(
    examples=[OpenApiExample("Tier 1 pipeline for a quarter", value=GOAL_EXAMPLE)]
)
class GoalSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=_active_users(), help_text="The one person accountable for the goal."
    )
    scope_tiers = serializers.ListField(
        child=serializers.ChoiceField(choices=Tier.choices),
        required=False,
        help_text="Tiers the goal counts (1, 2, 3).",
    )
    scope_playbook = ScopedRelatedField(
        scope=playbooks_visible_to,
        noun="playbook",
        required=False,
        allow_null=True,
        help_text="Count only accounts enrolled (not held out) in this playbook.",
    )
    scope_owner = serializers.PrimaryKeyRelatedField(
        queryset=_active_users().filter(role=Role.SALES),
        required=False,
        allow_null=True,
        help_text="Count only this rep's accounts.",
    )
    parent = ScopedRelatedField(
        scope=goals_visible_to,
        noun="goal",
        required=False,
        allow_null=True,
        help_text="The goal this one is a part of: same metric, inside its period and scope.",
    )
    target = serializers.DecimalField(
        max_digits=16,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        error_messages={"min_value": "Measurable: The target must be above zero."},
        help_text="In the metric's unit, above zero; a rate (win_rate, follow_up_rate) as a "
        "fraction.",
    )
    status = serializers.ChoiceField(
        choices=GoalStatus.choices,
        allow_blank=True,
        read_only=True,
        help_text="As of the last recompute; blank until the goal is first measured.",
    )
    milestones = MilestoneSerializer(
        many=True,
        required=False,
        max_length=MAX_MILESTONES,
        help_text="Replaces every milestone when sent; left out, they stay as they are.",
    )
    smart_warnings = serializers.SerializerMethodField(
        help_text="On the answer to a create or update: the SMART warnings the goal was saved "
        "with (Attainable beyond 3x the baseline pace or the best equal period on record, "
        "Relevant without a playbook or tier scope), as the goal form shows them; [] on reads."
    )

    figures_hidden = serializers.SerializerMethodField(
        help_text="True when the goal counts accounts you may not see (a rep's goal over a "
        "tier, a playbook or another rep's accounts): baseline, current_value, expected_value, "
        "status and computed_at are then null or blank."
    )

    class Meta:
        model = Goal
        fields = list(GOAL_EXAMPLE)
        read_only_fields = [
            "figures_hidden",
            "smart_warnings",
            "baseline",
            "current_value",
            "expected_value",
            "status",
            "computed_at",
            "created_by",
            "created_at",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A missing field says which SMART rule it breaks, as on the goal page.
        for name, message in REQUIRED_MESSAGES.items():
            self.fields[name].error_messages["required"] = message

    def validate(self, attrs):
        user = self.context["request"].user
        goal = self.instance if self.instance is not None else Goal()
        parent = attrs.get("parent", goal.parent)
        if "parent" in attrs and parent is not None and parent.pk != goal.parent_id:
            self._check_parent(user, goal, parent)
        goal.parent = parent
        metric = attrs.get("metric", goal.metric)
        milestones = attrs.get("milestones")
        if milestones is None:
            kept = goal.milestones.all() if goal.pk is not None else []
            milestones = [{"date": m.date, "value": m.value} for m in kept]
        if metric in RATE_METRICS:
            _check_rates(attrs.get("target", goal.target), milestones)
        data = self._form_data(attrs, goal, scale=unit_scale(metric))
        form = GoalForm(data, instance=goal, user=user, parent=parent)
        formset = MilestoneFormSet(
            _formset_data(milestones, scale=unit_scale(metric)), prefix=MILESTONE_PREFIX
        )
        form_ok = form.is_valid()
        formset.goal_data = form.cleaned_data if form_ok else None
        formset_ok = formset.is_valid()
        if not (form_ok and formset_ok):
            raise serializers.ValidationError(_form_errors(form, formset))
        self._form, self._formset = form, formset
        return attrs

    def to_representation(self, instance):
        return super().to_representation(goal_as_seen_by(instance, self.context["request"].user))

    def get_figures_hidden(self, goal) -> bool:
        return bool(getattr(goal, "figures_hidden", False))

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_smart_warnings(self, goal) -> list[str]:
        form = getattr(self, "_form", None)
        if form is None:
            return []
        return [f"{check.label}: {check.message}" for check in form.warnings()]

    def _check_parent(self, user, goal: Goal, parent: Goal) -> None:
        if not can_edit_goal(user, parent):
            raise serializers.ValidationError(
                {
                    "parent": [
                        f"You may not change goal {parent.pk}, so you may not add parts to it."
                    ]
                }
            )
        # A goal cannot sit under itself or under one of its own parts.
        ancestor = parent
        while ancestor is not None:
            if goal.pk is not None and ancestor.pk == goal.pk:
                raise serializers.ValidationError(
                    {
                        "parent": [
                            f"Goal {parent.pk} is a part of this goal; it cannot be its parent."
                        ]
                    }
                )
            ancestor = ancestor.parent

    @staticmethod
    def _form_data(attrs: dict, goal: Goal, *, scale) -> dict:
        data = {}
        for name in FORM_FIELDS:
            if name in attrs:
                value = attrs[name]
            elif goal.pk is not None:
                value = getattr(goal, Goal._meta.get_field(name).attname)
            else:
                continue  # the form says which SMART rule the missing field breaks
            if hasattr(value, "pk"):
                value = value.pk
            if name == "target" and value is not None:
                value = value * scale  # the form reads a rate as a percentage
            data[name] = [] if value is None and name == "scope_tiers" else value
        return {name: "" if value is None else value for name, value in data.items()}

    def create(self, validated_data):
        return self._save()

    def update(self, instance, validated_data):
        return self._save()

    def _save(self) -> Goal:
        return goal_save(
            goal=self._form.save(commit=False),
            milestones=self._formset.milestones(),
            by=self.context["request"].user,
        )


def _check_rates(target, milestones: list[dict]) -> None:
    """A rate is at most 1 (100 %), as the form says; checked here too, since the form reads
    percentages and a larger fraction would overflow its digits before its own rule speaks."""
    errors = {}
    if target is not None and target > 1:
        errors["target"] = ["Measurable: A rate can be at most 100%."]
    if any(milestone["value"] > 1 for milestone in milestones):
        errors[MILESTONE_PREFIX] = ["A rate milestone can be at most 100%."]
    if errors:
        raise serializers.ValidationError(errors)


def _formset_data(milestones: list[dict], *, scale) -> dict:
    data = {
        f"{MILESTONE_PREFIX}-TOTAL_FORMS": str(len(milestones)),
        f"{MILESTONE_PREFIX}-INITIAL_FORMS": "0",
        f"{MILESTONE_PREFIX}-MIN_NUM_FORMS": "0",
        f"{MILESTONE_PREFIX}-MAX_NUM_FORMS": "1000",
    }
    for index, milestone in enumerate(milestones):
        data[f"{MILESTONE_PREFIX}-{index}-date"] = milestone["date"]
        data[f"{MILESTONE_PREFIX}-{index}-value"] = milestone["value"] * scale
    return data


def _form_errors(form, formset) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        errors.setdefault("non_field_errors" if name == "__all__" else name, []).extend(messages)
    problems = list(formset.non_form_errors())
    for index, form_errors in enumerate(formset.errors):
        for name, messages in form_errors.items():
            problems += [f"Milestone {index + 1}, {name}: {message}" for message in messages]
    if problems:
        errors[MILESTONE_PREFIX] = problems
    return errors
