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
    with transaction.atomic():
        announce_change(reason=f"budget line #{line.pk} deleted{_by(by)}")
        line.delete()


def _by(user) -> str:
    return f" by {user.get_username()}" if user is not None else ""
