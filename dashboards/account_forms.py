"""The account list's bulk actions and the account page's owner form."""

from django import forms

from abm.models import User
from accounts.filtering import UNASSIGNED, display_name
from accounts.forms import NOT_A_TARGET
from accounts.models import Tier
from playbooks.models import Playbook, PlaybookStatus

ENROLLABLE = (PlaybookStatus.ACTIVE, PlaybookStatus.DRAFT)


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
