"""What goals do when the metrics engine tells them something (metrics/signals.py)."""

from goals.tracking import update_goal_progress


def measure_goals(sender, *, now, run=None, **kwargs) -> None:
    """After a recompute wrote its figures, in its transaction: every goal's progress as of then."""
    update_goal_progress(now=now)
