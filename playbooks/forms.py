"""Builder forms: they turn posted text into service arguments and show the services' errors."""

from decimal import Decimal

from django import forms

from abm.models import User
from accounts.models import BuyingRole, JourneyStage, Seniority, Tier
from playbooks.audience import parse_saved_filter
from playbooks.building import STEP_FIELDS
from playbooks.lifecycle import OWNER_ROLES
from playbooks.models import Playbook, Stage, Step
from playbooks.readiness import step_gaps
from playbooks.templating import template_errors

HOLDOUT_MAX_PERCENT = 50


def playbook_owners():
    return User.objects.filter(is_active=True, role__in=OWNER_ROLES).order_by(
        "first_name", "last_name", "username"
    )


class _OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return user.get_full_name() or user.username


class PlaybookCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    objective = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The outcome the playbook is for, in a sentence.",
    )
    tiers = forms.TypedMultipleChoiceField(
        label="Audience tiers",
        required=False,
        coerce=int,
        choices=Tier.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Refine the audience (industries, a saved account filter) in the builder.",
    )


class PlaybookDetailsForm(forms.ModelForm):
    holdout_percent = forms.DecimalField(
        label="Holdout share (%)",
        min_value=0,
        max_value=HOLDOUT_MAX_PERCENT,
        decimal_places=1,
        help_text="Held out at random on enrolment as a control group: no tasks.",
    )

    class Meta:
        model = Playbook
        fields = ["name", "objective", "owner", "budget", "goal"]
        widgets = {"objective": forms.Textarea(attrs={"rows": 3})}
        labels = {"budget": "Budget ($)"}
        help_texts = {"owner": "Marketing steps become this person's tasks."}

    def __init__(self, *args, goals, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"] = _OwnerField(
            queryset=playbook_owners(),
            required=False,
            empty_label="Nobody yet",
            help_text=self.fields["owner"].help_text,
        )
        self.fields["goal"].queryset = goals
        self.fields["goal"].empty_label = "No goal"
        self.fields["goal"].help_text = "The SMART goal this playbook works towards."
        self.fields["budget"].widget.attrs.update({"step": "1000", "min": "0"})
        self.fields["holdout_percent"].widget.attrs.update({"step": "1"})
        if not self.is_bound and self.instance.budget == int(self.instance.budget):
            self.initial["budget"] = int(self.instance.budget)
        if self.instance.pk and "holdout_percent" not in self.initial:
            self.initial["holdout_percent"] = Decimal(
                str(round(self.instance.holdout_share * 100, 1))
            )

    def service_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["holdout_share"] = float(self.cleaned_data["holdout_percent"] / 100)
        return data


class AudienceForm(forms.Form):
    tiers = forms.TypedMultipleChoiceField(
        label="Tiers",
        required=False,
        coerce=int,
        choices=[(tier, f"Tier {tier}") for tier in Tier.values],
        widget=forms.CheckboxSelectMultiple,
    )
    industries = forms.MultipleChoiceField(
        label="Industries", required=False, widget=forms.CheckboxSelectMultiple
    )
    account_filter = forms.CharField(
        label="Saved account filter",
        required=False,
        max_length=2000,
        help_text="Paste the address of a filtered account list, e.g. …/accounts/?tier=1&fit_min=70",
        widget=forms.TextInput(attrs={"placeholder": "tier=1&industry=Software"}),
    )

    def __init__(self, *args, industries: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        # Keep industries the playbook already targets even when no account has them any more.
        chosen = list(self.initial.get("industries") or [])
        self.fields["industries"].choices = [(i, i) for i in sorted({*industries, *chosen})]

    def clean_account_filter(self) -> dict:
        params, problems = parse_saved_filter(self.cleaned_data["account_filter"])
        if problems:
            raise forms.ValidationError(problems)
        return params


class StageForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = ["name", "exit_stage"]
        labels = {"name": "Stage name", "exit_stage": "Exit when the account reaches"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exit_stage"].choices = [
            ("", "No exit rule (last stage)"),
            *JourneyStage.choices,
        ]


class StepForm(forms.ModelForm):
    class Meta:
        model = Step
        fields = list(STEP_FIELDS)
        labels = {
            "day_offset": "Day",
            "owner_role": "Done by",
            "target_buying_role": "Buying role",
            "target_seniority": "Seniority",
            "unit_cost": "Unit cost ($)",
        }
        help_texts = {"day_offset": "Days after the account enters the stage."}
        widgets = {"body": forms.Textarea(attrs={"rows": 7})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_buying_role"].choices = [("", "Any role"), *BuyingRole.choices]
        self.fields["target_seniority"].choices = [("", "Any seniority"), *Seniority.choices]
        self.fields["unit_cost"].widget.attrs.update({"step": "0.01", "min": "0"})
        self.fields["day_offset"].widget.attrs.update({"min": "0"})
        for name in ("subject", "body"):
            self.fields[name].widget.attrs.update({"data-merge-target": "", "spellcheck": "true"})

    def clean_subject(self) -> str:
        return _valid_template(self.cleaned_data["subject"])

    def clean_body(self) -> str:
        return _valid_template(self.cleaned_data["body"])

    def clean(self):
        cleaned = super().clean()
        gaps = step_gaps(
            channel=cleaned.get("channel", ""),
            subject=cleaned.get("subject", ""),
            body=cleaned.get("body", ""),
        )
        for field, gap in gaps.items():
            if field not in self.errors:
                self.add_error(field, gap[0].upper() + gap[1:] + ".")
        return cleaned

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


def _valid_template(text: str) -> str:
    if errors := template_errors(text):
        raise forms.ValidationError(errors)
    return text


class TaskCompleteForm(forms.Form):
    notes = forms.CharField(required=False, max_length=2000)
