"""A step's message as one real account's contact would get it: the same choice of contact and the
same sandboxed rendering as task generation, so the preview is what the task will say."""

from dataclasses import dataclass, field

from playbooks.tasking import target_contact
from playbooks.templating import merge_values, render, template_errors


@dataclass(frozen=True)
class MessagePreview:
    subject: str = ""
    body: str = ""
    contact: object | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def message_preview(
    *, account, contacts: list, subject: str, body: str, buying_role: str = "", seniority: str = ""
) -> MessagePreview:
    """Render the templates for `account`; templates with errors are not rendered at all."""
    errors = {
        name: problems
        for name, text in (("subject", subject), ("body", body))
        if (problems := template_errors(text))
    }
    contact = target_contact(contacts, buying_role=buying_role, seniority=seniority)
    if errors:
        return MessagePreview(contact=contact, errors=errors)
    values = merge_values(account=account, contact=contact, owner=account.owner)
    return MessagePreview(
        subject=render(subject, values), body=render(body, values), contact=contact
    )
