"""Message templates with merge fields, rendered in a sandbox.

Templates never reach Django's template engine: the only syntax is `{{ object.field }}` from a fixed
list, so `{{ account.owner.password }}`, `{% load %}` or any other tag is a validation error, and
rendering is a plain substitution from values we pick.
"""

import re

MERGE_FIELDS: dict[str, str] = {
    "account.name": "Account name",
    "account.industry": "Account industry",
    "account.domain": "Account website",
    "account.country": "Account country",
    "contact.first_name": "Contact first name",
    "contact.last_name": "Contact last name",
    "contact.title": "Contact title",
    "owner.first_name": "Account owner first name",
    "owner.last_name": "Account owner last name",
    "owner.email": "Account owner email",
}

_FIELD = re.compile(r"{{\s*([A-Za-z_][\w.]*)\s*}}")
_ANY_TAG = re.compile(r"{{|}}|{%|%}|{#|#}")


def template_errors(text: str) -> list[str]:
    """Every problem with a template, in plain words; empty when it is valid."""
    errors = []
    for match in _FIELD.finditer(text):
        if match.group(1) not in MERGE_FIELDS:
            errors.append(
                f"Unknown merge field {{{{ {match.group(1)} }}}}. "
                f"Use one of: {', '.join(MERGE_FIELDS)}."
            )
    leftover = _FIELD.sub("", text)
    if _ANY_TAG.search(leftover):
        errors.append(
            "Only merge fields like {{ account.name }} are allowed; "
            "template tags, filters and comments are not."
        )
    return errors


def merge_values(*, account=None, contact=None, owner=None) -> dict[str, str]:
    """The values a template may show, read from the objects once (attribute names are fixed)."""
    sources = {"account": account, "contact": contact, "owner": owner}
    values = {}
    for field in MERGE_FIELDS:
        source_name, attribute = field.split(".")
        source = sources[source_name]
        value = getattr(source, attribute, "") if source is not None else ""
        values[field] = "" if value is None else str(value)
    return values


def render(text: str, values: dict[str, str]) -> str:
    """Substitute merge fields; call only on a template without `template_errors`."""
    return _FIELD.sub(lambda m: values.get(m.group(1), ""), text)
