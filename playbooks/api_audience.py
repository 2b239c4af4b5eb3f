"""A playbook's saved account filter as the API states it: each account-list parameter with the
shape the list's filter form reads, so the schema says which objects are accepted (ST202).

The shapes are checked here first, each value against what the schema states; the account list's
own parser (playbooks/audience.py) then reads them and checks the rules across parameters.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from abm.api_fields import StrictCharField
from accounts.filtering import NO_STAGE, TARGETS, UNASSIGNED, UNTIERED
from accounts.models import JourneyStage, Tier
from playbooks.audience import parse_saved_filter

_FLAG = ["1", "0", "true", "false"]
_ID = r"[1-9][0-9]{0,17}"  # below 2**63; ASCII digits only (Python's \d takes any script's)
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
_SCORE = r"(?:100(?:\.0{1,4})?|[0-9]{1,2}(?:\.[0-9]{1,4})?)"  # 0 to 100
_AMOUNT = r"[0-9]{1,9}(?:\.[0-9]{1,4})?"


def _text(description: str, max_length: int = 500) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "description": description}


def _enum(values: list[str], description: str) -> dict:
    return {"type": "string", "enum": values, "description": description}


def _pattern(pattern: str, description: str, **extra) -> dict:
    return {"type": "string", "pattern": f"^{pattern}$", "description": description, **extra}


PARAMETERS: dict[str, dict] = {
    "q": _text("Part of the name or domain.", max_length=200),
    "tier": _enum(
        [*(str(value) for value in Tier.values), TARGETS, UNTIERED],
        "A tier, targets (any tier) or untiered.",
    ),
    "stage": _enum([*JourneyStage.values, NO_STAGE], "A journey stage, or none."),
    "owner": _pattern(f"(?:{_ID}|{UNASSIGNED})", "The owner's user id, or unassigned."),
    "industry": _text("An industry, exactly as the accounts carry it."),
    "country": _text("A country, exactly as the accounts carry it."),
    "fit_min": _pattern(_SCORE, "Fit from: a number from 0 to 100."),
    "fit_max": _pattern(_SCORE, "Fit to: a number from 0 to 100."),
    "engagement_min": _pattern(_AMOUNT, "Engagement from: a number from 0."),
    "engagement_max": _pattern(_AMOUNT, "Engagement to: a number from 0."),
    "spike": _enum(_FLAG, "1 or true: spiking accounts only."),
    "reached": _enum(list(JourneyStage.values), "Reached this journey stage or a later one."),
    "reached_from": _pattern(_DATE, "Reached from this day (needs reached).", format="date"),
    "reached_to": _pattern(_DATE, "Reached by this day (needs reached).", format="date"),
    "playbook": _pattern(_ID, "Enrolled in this playbook (its id)."),
    "external_id": _text("The account's id in the CRM."),
    "domain": _text("The account's domain."),
    "target": _enum(_FLAG, "true: has a tier."),
    "unassigned": _enum(_FLAG, "true: has no owner."),
    "updated_since": _pattern(
        _DATE + _TIME, "Changed at or after this date-time (RFC 3339).", format="date-time"
    ),
}
SCHEMA = {
    "type": "object",
    "properties": PARAMETERS,
    "additionalProperties": False,
    "description": "A saved account-list filter: the account list's query parameters, "
    'e.g. {"fit_min": "70"}. Every parameter given must hold.',
}


def _problem(name: str, value: str) -> str | None:
    """What is wrong with one parameter's value, by what the schema states; None if nothing."""
    spec = PARAMETERS[name]
    if "enum" in spec and value not in spec["enum"]:
        return f"“{name}” must be one of {', '.join(spec['enum'])}."
    if "pattern" in spec and not re.fullmatch(spec["pattern"][1:-1], value):
        return f"“{name}” is not valid: {spec['description']}"
    if len(value) > spec.get("maxLength", len(value)):
        return f"“{name}” has more than {spec['maxLength']} characters."
    return None


@extend_schema_field(SCHEMA)
class AudienceFilterField(serializers.DictField):
    """The saved filter: known parameters only, each of its stated shape, read by the account
    list's own parser into the parameters it keeps."""

    def __init__(self, **kwargs):
        # Untrimmed: a value means what the account list reads for it, spaces and all.
        child = StrictCharField(max_length=500, trim_whitespace=False)
        super().__init__(child=child, **kwargs)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        problems = [
            problem
            for name, value in values.items()
            if name in PARAMETERS and (problem := _problem(name, value))
        ]
        if not problems:
            # Unknown names and rules across parameters: the list's own messages.
            params, problems = parse_saved_filter(urlencode(values))
        if problems:
            raise serializers.ValidationError(problems)
        return params
