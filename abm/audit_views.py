"""The audit trail page (/settings/audit/): directors and admins, newest first, filters, CSV."""

import datetime as dt
import json

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.shortcuts import render
from django.utils import timezone

from abm.audit import AUDIT_ROLES, AuditAction, audit_events_visible_to
from abm.lib.csv_export import csv_response
from abm.lib.permissions import role_required
from abm.models import AuditEvent, User

PER_PAGE = 50
OBJECT_TYPES = [
    ("account", "Account"),
    ("playbook", "Playbook"),
    ("stage", "Playbook stage"),
    ("step", "Playbook step"),
    ("goal", "Goal"),
    ("icp", "ICP"),
    ("importjob", "Import"),
]
CSV_HEADER = ["at", "actor", "action", "object_type", "object_id", "object", "changes"]


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(
        queryset=User.objects.order_by("username"), required=False, empty_label="Anyone"
    )
    action = forms.ChoiceField(required=False)
    object_type = forms.ChoiceField(
        required=False, choices=[("", "Any object"), *OBJECT_TYPES], label="Object"
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action"), *AuditAction.choices]


def audit_filter(events: QuerySet[AuditEvent], data: dict) -> QuerySet[AuditEvent]:
    """`events` narrowed by the valid filters in `data`; dates are whole UTC days, inclusive."""
    if data.get("actor"):
        events = events.filter(actor=data["actor"])
    if data.get("action"):
        events = events.filter(action=data["action"])
    if data.get("object_type"):
        events = events.filter(object_type=data["object_type"])
    if data.get("since"):
        events = events.filter(at__gte=_day_start(data["since"]))
    if data.get("until") and data["until"] < dt.date.max:  # the last day ends no range
        events = events.filter(at__lt=_day_start(data["until"] + dt.timedelta(days=1)))
    return events


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _filters(request) -> tuple[AuditFilterForm, dict, list[str]]:
    form = AuditFilterForm(request.GET or None)
    if not request.GET:
        return form, {}, []
    form.is_valid()
    # A bad parameter is dropped with a note, never a 500 (as on every list).
    problems = [
        f"{form.fields[name].label or name}: {errors[0]}" for name, errors in form.errors.items()
    ]
    return form, form.cleaned_data, problems


@role_required(*AUDIT_ROLES)
def audit_log(request):
    form, data, problems = _filters(request)
    events = audit_filter(audit_events_visible_to(request.user), data)
    if request.GET.get("export") == "csv":
        rows = (
            (
                event.at,
                event.actor_label or "system",
                event.action,
                event.object_type,
                event.object_id,
                event.object_label,
                json.dumps(event.changes, ensure_ascii=False, sort_keys=True),
            )
            for event in events.iterator(chunk_size=2_000)
        )
        stamp = timezone.now().strftime("%Y%m%d")
        return csv_response(f"audit-{stamp}.csv", CSV_HEADER, rows)
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    labels = dict(AuditAction.choices)
    for event in page:
        event.lines = change_lines(event.changes)
        event.action_label = labels.get(event.action, event.action)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "abm/audit.html",
        {
            "form": form,
            "page": page,
            "problems": problems,
            "active": bool(data and any(data.values())),
            "export_query": _with(query, export="csv"),
        },
    )


def _with(query, **extra) -> str:
    query = query.copy()
    for key, value in extra.items():
        query[key] = value
    return query.urlencode()


def change_lines(changes: dict) -> list[dict]:
    """For the page: {field: [old, new]} as "old -> new", other facts as they are."""
    lines = []
    for field, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            lines.append({"field": field, "old": _text(value[0]), "new": _text(value[1])})
        else:
            lines.append({"field": field, "value": _text(value)})
    return lines


def _text(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
