"""Forms of the account pages. They parse and label input; the services own the rules."""

import re

from django import forms

from accounts.filtering import FilterChoices
from accounts.scoring import IcpCriteria

NOT_A_TARGET = "none"
_SPLIT = re.compile(r"[,;\n]+")
_WEIGHT_ERRORS = {"min_value": "Weights cannot be negative.", "invalid": "Enter a number."}


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
