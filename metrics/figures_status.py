"""The "figures are updating" line of the dashboards and the account page (#metrics-status).

It tells every user whether a metrics run is queued or running and when the figures were last
updated, and nothing more: a rep sees the same line as a director, so the phase is named by a
generic label, never by the run's own text (which counts the workspace's accounts and deals).
"""

from __future__ import annotations

from dataclasses import dataclass

from abm.models import Job, Role, RunKind, RunStatus
from abm.visibility import jobs_visible_to

# Who may ask for a recompute (the button beside "figures as of", and the API).
RECOMPUTE_ROLES = (Role.MARKETER, Role.DIRECTOR, Role.ADMIN)
METRIC_KINDS = (RunKind.FULL, RunKind.INCREMENTAL)
PENDING = (RunStatus.QUEUED, RunStatus.RUNNING)
# The start of a recompute phase (metrics/engine/runner.py) -> what the status line calls it.
PHASE_LABELS = (
    ("loading", "loading"),
    ("scoring engagement", "engagement"),
    ("evaluating journey stages", "journey stages"),
    ("attributing", "attribution"),
    ("rolling up", "rollups"),
    ("saving", "saving"),
)


@dataclass(frozen=True)
class FiguresStatus:
    pending: Job | None
    last_done: Job | None
    last_failed: Job | None

    @property
    def phase_label(self) -> str:
        phase = (self.pending.phase if self.pending else "").lower()
        return next((label for start, label in PHASE_LABELS if phase.startswith(start)), "")

    @property
    def failed_since_done(self) -> bool:
        if self.last_failed is None or self.last_failed.finished_at is None:
            return False
        return self.last_done is None or self.last_failed.finished_at > self.last_done.finished_at


def figures_status(user) -> FiguresStatus:
    runs = jobs_visible_to(user).filter(kind__in=METRIC_KINDS)
    pending = list(runs.filter(status__in=PENDING).order_by("-created_at", "-id")[:5])
    # A running run says more than the queued one behind it (the debounced incremental).
    pending.sort(key=lambda run: run.status != RunStatus.RUNNING)
    finished = runs.exclude(finished_at=None).order_by("-finished_at", "-id")
    latest = finished.filter(status__in=(RunStatus.DONE, RunStatus.FAILED)).first()
    failed = latest if latest is not None and latest.status == RunStatus.FAILED else None
    last_done = finished.filter(status=RunStatus.DONE).first() if failed else latest
    return FiguresStatus(
        pending=pending[0] if pending else None, last_done=last_done, last_failed=failed
    )
