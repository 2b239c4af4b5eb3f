"""From plan to money: a saved plan's budget by channel proposed as playbook budgets (issue #18).

The playbooks in scope are the plan's playbook when it names one, otherwise the draft and active
playbooks (not paused, archived or starters) whose audience tiers overlap the plan's tiers (all
tiers when the plan names none). The split itself is goals/budget_split.py; setting the budgets
goes through the playbooks' own update service, in one transaction, and leaves a playbook whose
budget is already the proposal untouched, so setting them twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum

from goals.budget_split import BudgetSplit, split_budget
from goals.models import Plan
from goals.plans import can_save_plans
from playbooks.building import edit_problem, playbook_update
from playbooks.models import Playbook, PlaybookStatus
from playbooks.visibility import activities_visible_to, playbooks_visible_to

ALL_TIERS = (1, 2, 3)


@dataclass(frozen=True)
class BudgetProposal:
    playbook: Playbook
    current: Decimal
    proposed: Decimal

    @property
    def change(self) -> Decimal:
        return self.proposed - self.current


def playbooks_in_scope(user, plan: Plan) -> list[Playbook]:
    playbooks = playbooks_visible_to(user).filter(is_starter=False).order_by("name", "pk")
    if plan.playbook_id:
        return [pb for pb in playbooks.filter(pk=plan.playbook_id) if edit_problem(pb) is None]
    tiers = set(plan.tiers or ALL_TIERS)
    active = playbooks.filter(status__in=[PlaybookStatus.DRAFT, PlaybookStatus.ACTIVE])
    return [pb for pb in active if tiers & set(pb.audience_tiers or [])]


def channel_budget(plan: Plan) -> dict[str, float]:
    """The saved snapshot's budget lines: channel -> the amount's central value."""
    budget: dict[str, float] = {}
    for line in (plan.result or {}).get("budget") or []:
        value = (line.get("amount") or {}).get("value")
        if value is not None:
            budget[line["channel"]] = budget.get(line["channel"], 0.0) + float(value)
    return budget


def spend_frame(user, playbook_ids: list[int]) -> pd.DataFrame:
    rows = (
        activities_visible_to(user)
        .filter(step__stage__playbook__in=playbook_ids)
        .values("step__stage__playbook", "channel")
        .annotate(spend=Sum("cost"))
    )
    return pd.DataFrame(
        [(row["step__stage__playbook"], row["channel"], float(row["spend"] or 0)) for row in rows],
        columns=["playbook_id", "channel", "spend"],
    )


def plan_budget_proposals(user, plan: Plan) -> tuple[list[BudgetProposal], BudgetSplit]:
    playbooks = playbooks_in_scope(user, plan)
    ids = [pb.pk for pb in playbooks]
    split = split_budget(channel_budget(plan), spend_frame(user, ids), ids)
    proposals = [
        BudgetProposal(playbook=pb, current=pb.budget, proposed=split.proposed[pb.pk])
        for pb in playbooks
    ]
    return proposals, split


def plan_set_budgets(*, plan: Plan, by) -> list[Playbook]:
    """Set the proposed budgets; the playbooks whose budget changed."""
    if not can_save_plans(by):
        raise PermissionDenied
    proposals, _ = plan_budget_proposals(by, plan)
    changed = []
    with transaction.atomic():
        for row in proposals:
            if row.current != row.proposed:
                changed.append(playbook_update(playbook=row.playbook, by=by, budget=row.proposed))
    return changed
