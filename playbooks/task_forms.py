"""The bulk form of My tasks: which tasks, what to do with them, and an optional note."""

from django import forms

from playbooks.task_completion import NOTE_MAX_LENGTH
from playbooks.task_filtering import BULK_MAX_TASKS


class TaskIdsField(forms.Field):
    widget = forms.MultipleHiddenInput

    def clean(self, value):
        values = [v for v in (value or []) if str(v).strip()]
        if not values:
            raise forms.ValidationError("Select at least one task first.")
        if len(values) > BULK_MAX_TASKS:
            raise forms.ValidationError(
                f"Select at most {BULK_MAX_TASKS} tasks at a time ({len(values)} were sent)."
            )
        ids = []
        for v in values:
            text = str(v).strip()
            if not text.isdigit() or not 0 < int(text) < 2**31:
                raise forms.ValidationError(f"“{text[:20]}” is not a task id.")
            ids.append(int(text))
        return list(dict.fromkeys(ids))


class BulkTaskForm(forms.Form):
    ids = TaskIdsField()
    action = forms.ChoiceField(
        choices=[("complete", "Complete"), ("skip", "Skip")],
        error_messages={
            "required": "Choose Complete or Skip.",
            "invalid_choice": "Choose Complete or Skip.",
        },
    )
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX_LENGTH,
        error_messages={"max_length": f"Keep the note under {NOTE_MAX_LENGTH:,} characters."},
    )
    query = forms.CharField(required=False, max_length=2000)
