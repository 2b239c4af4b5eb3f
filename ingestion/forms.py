"""The account page's quick log: an activity recorded by hand."""

from django import forms
from django.utils import timezone

from accounts.models import Contact
from ingestion.logging_activity import LOGGABLE_KINDS


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
