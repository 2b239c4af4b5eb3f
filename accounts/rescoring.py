"""Re-score every account's ICP fit: load, score (pure, accounts/scoring.py), write in bulk."""

from django.db import transaction

from abm.jobs import run_enqueue, run_progress
from abm.models import Job, RunKind
from accounts.fitting import SCORE_FIELDS, fit_criteria, fit_stored
from accounts.frames import load_accounts
from accounts.models import ICP, Account

_BATCH = 2_000


def icp_rescore_enqueue(*, by=None) -> Job:
    return run_enqueue(kind=RunKind.ICP_RESCORE, task="accounts.rescore_fit", requested_by=by)


def icp_rescore(*, run: Job | None = None) -> dict:
    """Overwrite fit_score and its breakdown for every account from the active ICP."""
    icp = ICP.objects.filter(is_active=True).first()
    criteria = fit_criteria(icp)
    _progress(run, "loading accounts", 5)
    frame = load_accounts()
    _progress(run, f"scoring {len(frame)} accounts", 30)
    rows = [
        Account(pk=int(pk), fit_score=score, fit_breakdown=breakdown)
        for pk, (score, breakdown) in zip(
            frame["account_id"], fit_stored(frame, criteria), strict=True
        )
    ]
    _progress(run, "saving scores", 60)
    # One transaction: readers see the old scores or the new ones, never a mix. Progress is
    # reported before it, since writes inside it are invisible to the page polling the run.
    with transaction.atomic():
        Account.objects.bulk_update(rows, list(SCORE_FIELDS), batch_size=_BATCH)
    return {"accounts": len(rows), "icp": icp.name if icp else None}


def _progress(run: Job | None, phase: str, percent: int) -> None:
    if run is not None:
        run_progress(run, phase=phase, percent=percent)
