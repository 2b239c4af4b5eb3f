"""How each kind of job draws its progress: the app that runs the kind registers its partial.

The job page polls ``accounts:run_status`` (abm/job_views.py) every second with htmx; a finished
job's partial carries no trigger, so polling stops. A kind whose page shows more than the partial
(an import's counts and rejected rows) asks for a reload when it finishes.
"""

from collections.abc import Callable
from dataclasses import dataclass

from abm.models import Job


@dataclass(frozen=True)
class Progress:
    template: str
    context: dict
    reload_when_finished: bool = False


_KINDS: dict[str, Callable[[Job], Progress]] = {}


def register_progress(kind: str, draw: Callable[[Job], Progress]) -> None:
    _KINDS[kind] = draw


def progress_of(run: Job) -> Progress:
    draw = _KINDS.get(run.kind)
    return draw(run) if draw else Progress("accounts/_run_progress.html", {"run": run})
