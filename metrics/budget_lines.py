"""The one write path of budget lines (the spend API today): each write announces the change,
since ROI and the pipeline ratio read spend from the rollups the engine recomputes."""

from django.db import transaction

from abm.change_feed import announce_change
from metrics.models import BudgetLine


def budget_line_create(*, values: dict, by) -> BudgetLine:
    with transaction.atomic():
        line = BudgetLine.objects.create(**values)
        announce_change(reason=f"budget line #{line.pk} added{_by(by)}")
    return line


def budget_line_update(line: BudgetLine, *, values: dict, by) -> BudgetLine:
    with transaction.atomic():
        for name, value in values.items():
            setattr(line, name, value)
        line.save()
        announce_change(reason=f"budget line #{line.pk} changed{_by(by)}")
    return line


def budget_line_delete(line: BudgetLine, *, by) -> None:
    reason = f"budget line #{line.pk} deleted{_by(by)}"  # before the delete clears the pk
    with transaction.atomic():
        line.delete()
        # Last, as everywhere: queuing the run first, then waiting for the line's lock held by
        # an edit waiting to queue its own, deadlocked both.
        announce_change(reason=reason)


def _by(user) -> str:
    return f" by {user.get_username()}" if user is not None else ""
