"""The touch rules page: marketers and admins edit, directors read, reps have no access."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from abm.lib.permissions import role_required
from metrics.figures_status import figures_status
from metrics.touch_rule_store import (
    VIEW_ROLES,
    can_edit_touch_rules,
    kind_rules,
    load_touch_rules,
    settings_default_rules,
    touch_rule_summary,
    touch_rules_save,
)
from metrics.touch_rules import TouchRules

STEP_SUFFIX = "__step"


class TouchRulesForm(forms.Form):
    """A checkbox per kind ("counts as a touch"), and for outbound kinds a second one ("counts
    when a playbook step did it for the account with a cost")."""

    def __init__(self, *args, rows, disabled=False, **kwargs):
        super().__init__(*args, **kwargs)
        for row in rows:
            self.fields[row.kind] = forms.BooleanField(
                required=False, initial=row.counts, label=row.label, disabled=disabled
            )
            if row.outbound:
                self.fields[row.kind + STEP_SUFFIX] = forms.BooleanField(
                    required=False,
                    initial=row.step_with_cost,
                    label=f"{row.label} as a 1:1 playbook step with a cost",
                    disabled=disabled,
                )

    def rules(self) -> TouchRules:
        data = self.cleaned_data
        always = [name for name, on in data.items() if on and not name.endswith(STEP_SUFFIX)]
        stepped = [
            name.removesuffix(STEP_SUFFIX)
            for name, on in data.items()
            if on and name.endswith(STEP_SUFFIX)
        ]
        return TouchRules.of(always, stepped)


@role_required(*VIEW_ROLES)
def touch_rules(request):
    editable = can_edit_touch_rules(request.user)
    if request.method == "POST" and not editable:
        raise PermissionDenied
    if request.method == "POST" and "defaults" in request.POST:
        rules = settings_default_rules()
        return _save(request, rules)
    rules = load_touch_rules()
    rows = kind_rules(rules)
    form = TouchRulesForm(
        request.POST if request.method == "POST" else None, rows=rows, disabled=not editable
    )
    if form.is_bound and form.is_valid():
        return _save(request, form.rules())
    return render(
        request,
        "metrics/touch_rules.html",
        {
            "rows": [
                {
                    "rule": row,
                    "field": form[row.kind],
                    "step_field": form[row.kind + STEP_SUFFIX] if row.outbound else None,
                }
                for row in rows
            ],
            "form": form,
            "editable": editable,
            "summary": touch_rule_summary(rules),
            "figures": figures_status(request.user),
        },
    )


def _save(request, rules: TouchRules):
    if touch_rules_save(rules=rules, by=request.user):
        messages.success(request, "Touch rules saved. The figures are being recomputed with them.")
    else:
        messages.info(request, "Nothing changed: these are the rules in force.")
    return redirect("metrics:touch_rules")
