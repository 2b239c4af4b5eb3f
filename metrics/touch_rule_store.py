"""The touch rules in force: stored rows over the settings' defaults, saving, and their wording.

A kind without a stored row follows the default (settings ``ABM_TOUCH_MIN_POINTS`` and
``ABM_TOUCH_STEP_KINDS``), so a new activity kind or a fresh database needs no seeding. Saving
writes a row per kind, records an audit event and requests a recompute (abm/change_feed.py):
the request never computes anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from abm.audit import AuditAction, AuditTarget, audit_diff, audit_record
from abm.change_feed import announce_change
from abm.lib.channels import OUTBOUND_KINDS, ActivityKind
from abm.lib.permissions import user_role
from abm.models import Role
from metrics.models import TouchRule
from metrics.touch_rules import TouchRules, default_rules

EDIT_ROLES = frozenset({Role.MARKETER, Role.ADMIN})
VIEW_ROLES = EDIT_ROLES | {Role.DIRECTOR}

# What each kind is, for the page (plain English, the reader is a marketer).
DESCRIPTIONS = {
    ActivityKind.EMAIL_SENT: "We sent an email. A newsletter is not a touch; a 1:1 email from a "
    "playbook step can be.",
    ActivityKind.EMAIL_OPEN: "A contact opened one of our emails (tracked by a pixel, which mail "
    "privacy features also load).",
    ActivityKind.EMAIL_CLICK: "A contact clicked a link in one of our emails.",
    ActivityKind.EMAIL_REPLY: "A contact replied to one of our emails.",
    ActivityKind.WEB_VISIT: "Someone at the account visited our website.",
    ActivityKind.CONTENT_DOWNLOAD: "Someone at the account downloaded content (a guide, a report).",
    ActivityKind.FORM_FILL: "Someone at the account filled in a form (a demo request, a sign-up).",
    ActivityKind.AD_IMPRESSION: "Our ad was shown to someone at the account. Being shown an ad is "
    "not a touch that moved a deal.",
    ActivityKind.AD_CLICK: "Someone at the account clicked one of our ads.",
    ActivityKind.EVENT_ATTENDED: "A contact attended one of our events.",
    ActivityKind.WEBINAR_ATTENDED: "A contact attended one of our webinars.",
    ActivityKind.MEETING: "A meeting with people at the account.",
    ActivityKind.CALL_ATTEMPT: "We called and did not reach anyone.",
    ActivityKind.CALL_CONNECTED: "A call that reached a contact.",
    ActivityKind.INTENT_SIGNAL: "An intent signal: the account researched our topic elsewhere.",
    ActivityKind.DIRECT_MAIL_SENT: "We sent a physical mailing (a gift, a book) to the account.",
    ActivityKind.LINKEDIN_MESSAGE: "We sent a LinkedIn message.",
}


def can_edit_touch_rules(user) -> bool:
    return user_role(user) in EDIT_ROLES


def can_view_touch_rules(user) -> bool:
    return user_role(user) in VIEW_ROLES


def settings_default_rules() -> TouchRules:
    return default_rules(
        settings.ABM_ENGAGEMENT_POINTS,
        min_points=settings.ABM_TOUCH_MIN_POINTS,
        step_kinds=settings.ABM_TOUCH_STEP_KINDS,
    )


def load_touch_rules() -> TouchRules:
    """The rules in force: one query."""
    defaults = settings_default_rules()
    always, stepped = set(defaults.always), set(defaults.step_with_cost)
    for kind, counts, step in TouchRule.objects.values_list(
        "kind", "counts_as_touch", "counts_as_step_with_cost"
    ):
        always.discard(kind)
        stepped.discard(kind)
        if counts:
            always.add(kind)
        if step:
            stepped.add(kind)
    return TouchRules.of(always, stepped)


def touch_rules_q(rules: TouchRules, prefix: str = "") -> Q:
    """The rules as a filter on Activity (``prefix`` for a related lookup), for SQL drill-downs."""
    return Q(**{f"{prefix}kind__in": sorted(rules.always)}) | Q(
        **{
            f"{prefix}kind__in": sorted(rules.step_with_cost),
            f"{prefix}step__isnull": False,
            f"{prefix}cost__gt": 0,
        }
    )


@dataclass(frozen=True)
class KindRule:
    kind: str
    label: str
    points: float
    outbound: bool  # something we did: may count as a playbook step with a cost
    counts: bool
    step_with_cost: bool
    description: str
    default_counts: bool
    default_step_with_cost: bool


def kind_rules(rules: TouchRules) -> list[KindRule]:
    """One line per activity kind, responses first, then outbound kinds, for the page."""
    defaults = settings_default_rules()
    points = settings.ABM_ENGAGEMENT_POINTS
    rows = [
        KindRule(
            kind=kind.value,
            label=kind.label,
            points=float(points.get(kind.value, 0.0)),
            outbound=kind in OUTBOUND_KINDS,
            counts=kind.value in rules.always,
            step_with_cost=kind.value in rules.step_with_cost,
            description=DESCRIPTIONS.get(kind, ""),
            default_counts=kind.value in defaults.always,
            default_step_with_cost=kind.value in defaults.step_with_cost,
        )
        for kind in ActivityKind
    ]
    return sorted(rows, key=lambda row: (row.outbound, -row.points))


def _state(rules: TouchRules) -> dict[str, str]:
    def one(kind: str) -> str:
        if kind in rules.always:
            return "touch"
        return "touch as a playbook step with a cost" if kind in rules.step_with_cost else "no"

    return {kind: one(kind) for kind in ActivityKind.values}


def touch_rules_save(*, rules: TouchRules, by) -> bool:
    """Store ``rules`` for every kind; when that changes anything, audit the change and request a
    recompute (a run already queued will read the new rules). Whether anything changed."""
    if not can_edit_touch_rules(by):
        raise PermissionDenied("Only marketers and admins may change the touch rules.")
    unknown = (rules.always | rules.step_with_cost) - set(ActivityKind.values)
    if unknown:
        raise ValueError(f"unknown activity kinds: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        list(TouchRule.objects.select_for_update().values_list("pk", flat=True))  # one at a time
        before = load_touch_rules()
        for kind in ActivityKind.values:
            TouchRule.objects.update_or_create(
                kind=kind,
                defaults={
                    "counts_as_touch": kind in rules.always,
                    "counts_as_step_with_cost": kind in rules.step_with_cost,
                    "updated_by": by,
                },
            )
        changes = audit_diff(_state(before), _state(rules))
        if not changes:
            return False
        audit_record(
            actor=by,
            action=AuditAction.TOUCH_RULES_SAVED,
            obj=AuditTarget(type="touch_rules", id="", label="Touch rules"),
            changes=changes,
        )
        announce_change(reason="touch rules changed")
    return True


def _labels(kinds) -> str:
    order = {kind: i for i, kind in enumerate(ActivityKind.values)}
    return ", ".join(ActivityKind(kind).label for kind in sorted(kinds, key=order.get))


def touch_rule_summary(rules: TouchRules) -> dict:
    """The rule in force in one sentence, for every dashboard."""
    if rules == settings_default_rules():
        steps = _labels(rules.step_with_cost)
        text = (
            "Touches counted: responses by the account (engagement points "
            f"≥ {settings.ABM_TOUCH_MIN_POINTS:g}) and 1:1 outbound playbook steps with a cost "
            f"({steps}); ad impressions and other outbound-only activity excluded."
        )
        return {"text": text, "default": True}
    counted = rules.always | rules.step_with_cost
    excluded = set(ActivityKind.values) - counted
    parts = [f"Touches counted (custom rule): {_labels(rules.always) or 'none'}"]
    if rules.step_with_cost - rules.always:
        parts.append(
            f"as a playbook step with a cost: {_labels(rules.step_with_cost - rules.always)}"
        )
    if excluded:
        parts.append(f"excluded: {_labels(excluded)}")
    return {"text": "; ".join(parts) + ".", "default": False}


def touch_rule_line(user, last_run=None) -> dict:
    """The dashboards' line naming the rule the figures follow, linking to the page for those who
    may see it ("change" for editors). The rule is the one ``last_run`` (the run behind the
    figures) recorded; without one, the rule stored now."""
    recorded = (last_run.result or {}).get("touch_rules") if last_run is not None else None
    rules = TouchRules.from_dict(recorded) if recorded else load_touch_rules()
    line = touch_rule_summary(rules)
    if can_view_touch_rules(user):
        editable = can_edit_touch_rules(user)
        line.update(url=reverse("metrics:touch_rules"), link_label="change" if editable else "see")
    return line
