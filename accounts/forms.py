"""Forms of the account pages. They parse and label input; the services own the rules."""

import re

from django import forms
from django.utils import timezone

from abm.models import User
from accounts.filtering import UNASSIGNED, FilterChoices, display_name
from accounts.models import Contact, Tier
from accounts.scoring import IcpCriteria
from ingestion.logging_activity import LOGGABLE_KINDS
from playbooks.models import Playbook, PlaybookStatus

NOT_A_TARGET = "none"
ENROLLABLE = (PlaybookStatus.ACTIVE, PlaybookStatus.DRAFT)
_SPLIT = re.compile(r"[,;\n]+")
_WEIGHT_ERRORS = {"min_value": "Weights cannot be negative.", "invalid": "Enter a number."}


def enrollable_playbooks():
    """Playbooks accounts can join: running or being prepared, never a starter template."""
    return Playbook.objects.filter(status__in=ENROLLABLE, is_starter=False).order_by("name")


def owner_options(reps) -> list[tuple[str, str]]:
    return [("", "Choose a rep…"), (NOT_A_TARGET, "Nobody (unassign)")] + [
        (str(u.pk), display_name(u)) for u in reps
    ]


def _owner_from(value: str):
    """ "none" -> None; a user id -> that user, whatever their role (the service checks it)."""
    if value == NOT_A_TARGET or value == UNASSIGNED:
        return None
    if not value.isdigit():
        raise forms.ValidationError("Choose a sales rep.")
    user = User.objects.filter(pk=int(value)).first()
    if user is None:
        raise forms.ValidationError("That user does not exist.")
    return user


class IdListField(forms.Field):
    """Repeated ?ids=1&ids=2 values as a list of positive ints."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        ids = []
        for item in value:
            if not str(item).isdigit():
                raise forms.ValidationError("The selection holds an invalid account id.")
            ids.append(int(item))
        return ids


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("set_tier", "Set tier"), ("assign", "Assign owner"), ("enrol", "Enrol")]
    )
    scope = forms.ChoiceField(
        label="Apply to",
        choices=[("selected", "Selected accounts"), ("matching", "All matching accounts")],
        initial="selected",
    )
    ids = IdListField(required=False)
    query = forms.CharField(required=False, max_length=2000)
    tier = forms.ChoiceField(
        label="Tier",
        required=False,
        choices=[("", "Choose a tier…")]
        + [(str(value), f"Tier {value}") for value in Tier.values]
        + [(NOT_A_TARGET, "Not a target")],
    )
    owner = forms.CharField(label="Owner", required=False)
    playbook = forms.CharField(label="Playbook", required=False)
    next = forms.CharField(required=False, max_length=2000)

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if cleaned.get("scope") == "selected" and not cleaned.get("ids"):
            raise forms.ValidationError(
                "Select at least one account, or apply the action to all matching accounts."
            )
        if action == "set_tier" and not cleaned.get("tier"):
            self.add_error("tier", "Choose the tier to set.")
        if action == "assign":
            if not cleaned.get("owner"):
                self.add_error("owner", "Choose who should own the accounts.")
            else:
                try:
                    cleaned["owner_user"] = _owner_from(cleaned["owner"])
                except forms.ValidationError as error:
                    self.add_error("owner", error)
        if action == "enrol":
            value = cleaned.get("playbook") or ""
            playbook = (
                enrollable_playbooks().filter(pk=int(value)).first() if value.isdigit() else None
            )
            if playbook is None:
                self.add_error("playbook", "Choose an active or draft playbook.")
            cleaned["playbook_obj"] = playbook
        return cleaned

    def tier_value(self) -> int | None:
        tier = self.cleaned_data["tier"]
        return None if tier == NOT_A_TARGET else int(tier)


class AssignForm(forms.Form):
    owner = forms.CharField(label="New owner", widget=forms.Select)

    def __init__(self, data=None, *, reps, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["owner"].widget.choices = owner_options(reps)

    def clean_owner(self):
        return _owner_from(self.cleaned_data["owner"])


class QuickLogForm(forms.Form):
    kind = forms.ChoiceField(
        label="What happened",
        choices=[(kind, label) for kind, (_, label) in LOGGABLE_KINDS.items()],
    )
    contact = forms.CharField(label="Contact", required=False, widget=forms.Select)
    occurred_at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Enter a date and time."},
    )
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        required=False,
        help_text="Calls and meetings only.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"}),
        error_messages={"invalid": "Enter whole minutes."},
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Who said what, next steps…"}),
    )

    def __init__(self, data=None, *, account, contacts, **kwargs):
        kwargs.setdefault(
            "initial", {"occurred_at": timezone.localtime().replace(second=0, microsecond=0)}
        )
        super().__init__(data, **kwargs)
        self.account = account
        self.fields["contact"].widget.choices = [("", "No one in particular")] + [
            (str(c.pk), f"{c} · {c.get_buying_role_display()}") for c in contacts
        ]

    def clean_contact(self):
        value = self.cleaned_data["contact"]
        if not value:
            return None
        contact = Contact.objects.filter(pk=int(value)).first() if value.isdigit() else None
        if contact is None or contact.account_id != self.account.pk:
            raise forms.ValidationError(f"That contact does not work at {self.account.name}.")
        return contact


class IcpForm(forms.Form):
    industries = forms.MultipleChoiceField(
        label="Industries", required=False, widget=forms.CheckboxSelectMultiple
    )
    extra_industries = forms.CharField(
        label="Other industries",
        required=False,
        max_length=1000,
        help_text="Not in your data yet? Type them, separated by commas.",
    )
    industries_weight = forms.FloatField(
        label="Industry weight", required=False, min_value=0, error_messages=_WEIGHT_ERRORS
    )
    employees_min = forms.IntegerField(label="Minimum employees", required=False, min_value=0)
    employees_max = forms.IntegerField(label="Maximum employees", required=False, min_value=0)
    employees_weight = forms.FloatField(
        label="Employees weight", required=False, min_value=0, error_messages=_WEIGHT_ERRORS
    )
    revenue_min = forms.DecimalField(
        label="Minimum annual revenue ($)",
        required=False,
        min_value=0,
        max_digits=16,
        decimal_places=2,
    )
    revenue_max = forms.DecimalField(
        label="Maximum annual revenue ($)",
        required=False,
        min_value=0,
        max_digits=16,
        decimal_places=2,
    )
    revenue_weight = forms.FloatField(
        label="Revenue weight", required=False, min_value=0, error_messages=_WEIGHT_ERRORS
    )
    countries = forms.MultipleChoiceField(
        label="Countries", required=False, widget=forms.CheckboxSelectMultiple
    )
    extra_countries = forms.CharField(
        label="Other countries",
        required=False,
        max_length=1000,
        help_text="Separated by commas.",
    )
    countries_weight = forms.FloatField(
        label="Country weight", required=False, min_value=0, error_messages=_WEIGHT_ERRORS
    )

    WEIGHTS = ("industries_weight", "employees_weight", "revenue_weight", "countries_weight")

    def __init__(self, data=None, *, options: FilterChoices, icp=None, **kwargs):
        if icp is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(icp)
        super().__init__(data, **kwargs)
        chosen = set(icp.industries or ()) if icp else set()
        self.fields["industries"].choices = [
            (i, i) for i in sorted(set(options.industries) | chosen, key=str.casefold)
        ]
        chosen = set(icp.countries or ()) if icp else set()
        self.fields["countries"].choices = [
            (c, c) for c in sorted(set(options.countries) | chosen, key=str.casefold)
        ]
        for name in self.WEIGHTS:
            self.fields[name].widget.attrs.update(
                {"step": "any", "inputmode": "decimal", "placeholder": "0"}
            )
        for name in ("revenue_min", "revenue_max"):
            self.fields[name].widget.attrs.update({"step": "any", "placeholder": "No limit"})
        for name in ("employees_min", "employees_max"):
            self.fields[name].widget.attrs.update({"placeholder": "No limit"})

    @staticmethod
    def initial_from(icp) -> dict:
        return {
            "industries": list(icp.industries or ()),
            "industries_weight": icp.industries_weight,
            "employees_min": icp.employees_min,
            "employees_max": icp.employees_max,
            "employees_weight": icp.employees_weight,
            "revenue_min": _whole(icp.revenue_min),
            "revenue_max": _whole(icp.revenue_max),
            "revenue_weight": icp.revenue_weight,
            "countries": list(icp.countries or ()),
            "countries_weight": icp.countries_weight,
        }

    def clean(self):
        cleaned = super().clean()
        for name in self.WEIGHTS:
            if name in cleaned and cleaned[name] is None:
                cleaned[name] = 0.0
        cleaned["all_industries"] = _merged(
            cleaned.get("industries", []), cleaned.get("extra_industries", "")
        )
        cleaned["all_countries"] = _merged(
            cleaned.get("countries", []), cleaned.get("extra_countries", "")
        )
        for low, high, what in (
            ("employees_min", "employees_max", "employees"),
            ("revenue_min", "revenue_max", "revenue"),
        ):
            lo, hi = cleaned.get(low), cleaned.get(high)
            if lo is not None and hi is not None and lo > hi:
                self.add_error(high, f"The maximum must be at least the minimum {what}.")
        configured = {
            "industries_weight": bool(cleaned["all_industries"]),
            "employees_weight": cleaned.get("employees_min") is not None
            or cleaned.get("employees_max") is not None,
            "revenue_weight": cleaned.get("revenue_min") is not None
            or cleaned.get("revenue_max") is not None,
            "countries_weight": bool(cleaned["all_countries"]),
        }
        hints = {
            "industries_weight": "This weight counts only with at least one industry chosen.",
            "employees_weight": "This weight counts only with a minimum or maximum.",
            "revenue_weight": "This weight counts only with a minimum or maximum.",
            "countries_weight": "This weight counts only with at least one country chosen.",
        }
        for name, has_values in configured.items():
            if (cleaned.get(name) or 0) > 0 and not has_values:
                self.add_error(name, hints[name])
        if not any((cleaned.get(name) or 0) > 0 and ok for name, ok in configured.items()):
            raise forms.ValidationError(
                "Give at least one criterion values and a weight above 0; "
                "otherwise every account scores 0."
            )
        return cleaned

    def criteria(self) -> IcpCriteria:
        """The criteria of a valid form; of an invalid one, the parts that are valid."""
        c = {
            "all_industries": [],
            "all_countries": [],
            **{name: 0.0 for name in self.WEIGHTS},
            **self.cleaned_data,
        }

        def num(value):
            return None if value is None else float(value)

        return IcpCriteria(
            industries=tuple(c["all_industries"]),
            industries_weight=float(c["industries_weight"] or 0),
            employees_min=num(c.get("employees_min")),
            employees_max=num(c.get("employees_max")),
            employees_weight=float(c["employees_weight"] or 0),
            revenue_min=num(c.get("revenue_min")),
            revenue_max=num(c.get("revenue_max")),
            revenue_weight=float(c["revenue_weight"] or 0),
            countries=tuple(c["all_countries"]),
            countries_weight=float(c["countries_weight"] or 0),
        )


def _whole(value):
    """2000000.00 -> 2000000 for display; cents stay when there are any."""
    if value is None or value != value.to_integral_value():
        return value
    return int(value)


def _merged(chosen: list[str], typed: str) -> list[str]:
    """The chosen values plus the typed ones, once each (case-insensitively), in that order."""
    seen, merged = set(), []
    for value in [*chosen, *_SPLIT.split(typed or "")]:
        value = " ".join(value.split())
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            merged.append(value)
    return merged


class TieringFilterForm(forms.Form):
    industry = forms.ChoiceField(label="Industry", required=False)
    country = forms.ChoiceField(label="Country", required=False)

    def __init__(self, data=None, *, choices: FilterChoices, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["industry"].choices = [("", "Any industry")] + [
            (i, i) for i in choices.industries
        ]
        self.fields["country"].choices = [("", "Any country")] + [(c, c) for c in choices.countries]
