"""Editing the active ICP: save its criteria, re-score every account, preview the effect."""

from dataclasses import asdict
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction

from abm.audit import AuditAction, audit_diff, audit_record
from abm.lib.permissions import user_role
from abm.models import Job, Role
from accounts.frames import load_accounts
from accounts.models import ICP, Account
from accounts.rescoring import icp_rescore_enqueue
from accounts.scoring import IcpCriteria, fit_scores

ICP_ROLES = frozenset({Role.MARKETER, Role.ADMIN})
DEFAULT_NAME = "Ideal customer profile"
# "High fit" in the preview; a reading aid, not a rule anything else depends on.
HIGH_FIT = 70


def can_edit_icp(user) -> bool:
    return user_role(user) in ICP_ROLES


def active_icp() -> ICP | None:
    return ICP.objects.filter(is_active=True).first()


def icp_save(*, criteria: IcpCriteria, by) -> tuple[ICP, Job]:
    """Write `criteria` to the active ICP (creating one if none) and queue the re-score.

    The re-score task is sent after commit, so it reads the criteria just saved; without a
    broker it runs in-process right then, and the run is done when this returns.
    """
    if not can_edit_icp(by):
        raise PermissionDenied("Only marketers and admins may edit the ICP.")
    with transaction.atomic():
        icp = ICP.objects.select_for_update().filter(is_active=True).first()
        if icp is None:
            icp = ICP(name=DEFAULT_NAME, is_active=True)
        fields = asdict(criteria)
        before = {} if icp.pk is None else {name: getattr(icp, name) for name in fields}
        for name, value in fields.items():
            if name in ("industries", "countries"):
                value = list(value)
            elif name.startswith("revenue_") and name != "revenue_weight" and value is not None:
                value = Decimal(str(value))
            elif name.startswith("employees_") and name != "employees_weight" and value is not None:
                value = int(value)
            setattr(icp, name, value)
        icp.updated_by = by
        icp.save()
        # Every save is recorded, a save without changes too: it re-scores every account.
        audit_record(
            actor=by,
            action=AuditAction.ICP_SAVED,
            obj=icp,
            changes=audit_diff(before, {name: getattr(icp, name) for name in fields}),
        )
        run = icp_rescore_enqueue(by=by)
    return icp, run


def icp_preview(*, criteria: IcpCriteria, threshold: float = HIGH_FIT) -> dict:
    """How many accounts score >= threshold now, and would with `criteria` (nothing is saved)."""
    frame = load_accounts()
    scored = fit_scores(frame, criteria) if len(frame) else None
    would = int((scored["fit_score"] >= threshold).sum()) if scored is not None else 0
    now = Account.objects.filter(fit_score__gte=threshold).count()
    return {
        "threshold": threshold,
        "accounts": len(frame),
        "now": now,
        "would": would,
        "delta": abs(would - now),
    }


def weight_shares(criteria: IcpCriteria) -> dict[str, float]:
    """Each configured criterion's share of the score (weight over the configured weights)."""
    configured = {
        "industries_weight": bool(criteria.industries),
        "employees_weight": criteria.employees_min is not None
        or criteria.employees_max is not None,
        "revenue_weight": criteria.revenue_min is not None or criteria.revenue_max is not None,
        "countries_weight": bool(criteria.countries),
    }
    weights = {name: getattr(criteria, name) if on else 0.0 for name, on in configured.items()}
    total = sum(weights.values())
    return {name: (w / total if total > 0 else 0.0) for name, w in weights.items()}
