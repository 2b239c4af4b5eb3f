"""Budget lines: spend beyond activity costs."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from abm.lib.channels import Channel
from demo.seeding.catalogue import PLAYBOOKS, WINDOW_DAYS
from demo.seeding.columns import _Clock, _Programme
from metrics.models import BudgetLine

BASE_BUDGET = sum(spec["budget"] for spec in PLAYBOOKS)


def _budget_lines(
    *, rng: np.random.Generator, programmes: dict[int, _Programme], clock: _Clock
) -> int:
    """Spend beyond activity costs: monthly programme fees, and a few per-channel contracts."""
    start = (clock.now - timedelta(days=WINDOW_DAYS)).date()
    months = []
    month = date(start.year, start.month, 1)
    while month < clock.now.date():
        if month >= start:
            months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    lines = []
    for _, programme in sorted(programmes.items()):
        monthly = float(programme.playbook.budget) * 0.35 / 12
        for month in months:
            amount = round(monthly * float(rng.lognormal(0, 0.15)), 2)
            lines.append(
                BudgetLine(
                    playbook=programme.playbook,
                    date=month,
                    amount=amount,
                    description="Agency, creative and media fees",
                )
            )
    per_channel = (
        (Channel.EVENT, 3, 18_000.0, "Trade-show sponsorship"),
        (Channel.CONTENT, 1, 4_000.0, "Content agency retainer"),
        (Channel.DISPLAY, 1, 2_500.0, "Intent data and programmatic platform"),
        (Channel.WEBINAR, 3, 1_500.0, "Webinar platform licence"),
    )
    # Contracts grow with the book of accounts, as the playbook budgets do.
    scale = float(sum(p.playbook.budget for p in programmes.values())) / BASE_BUDGET
    for channel, every, typical, description in per_channel:
        for month in months[::every]:
            amount = round(typical * scale * float(rng.lognormal(0, 0.2)), 2)
            lines.append(
                BudgetLine(channel=channel, date=month, amount=amount, description=description)
            )
    BudgetLine.objects.bulk_create(lines)
    return len(lines)
