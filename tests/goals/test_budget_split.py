"""The proposed playbook budgets, worked by hand (goals/budget_split.py)."""

from decimal import Decimal

import pandas as pd

from goals.budget_split import split_budget


def _spend(rows):
    return pd.DataFrame(rows, columns=["playbook_id", "channel", "spend"])


def test_each_channel_is_split_by_the_playbooks_share_of_its_spend():
    # Email $10,000: playbook 1 spent 300 of 400 (3/4), playbook 2 spent 100 (1/4).
    # Ads $6,000: only playbook 2 spent -> all of it. Events $2,000: nobody -> unassigned.
    spend = _spend([(1, "email", 200), (1, "email", 100), (2, "email", 100), (2, "ads", 50)])
    split = split_budget({"email": 10_000, "ads": 6_000, "events": 2_000}, spend, [1, 2])
    assert split.proposed == {1: Decimal("7500.00"), 2: Decimal("8500.00")}
    assert split.unassigned == {"events": Decimal("2000.00")}
    # 7,500 + 8,500 + 2,000 unassigned = the plan's 18,000.
    assert split.total == Decimal("18000.00")
    assert sum(split.proposed.values()) + sum(split.unassigned.values()) == split.total


def test_thirds_round_to_the_cent_and_still_add_up():
    # $100 split three equal ways: 33.33 each, the leftover cent to the lowest id on the tie.
    spend = _spend([(1, "email", 5), (2, "email", 5), (3, "email", 5)])
    split = split_budget({"email": 100}, spend, [1, 2, 3])
    assert split.proposed == {1: Decimal("33.34"), 2: Decimal("33.33"), 3: Decimal("33.33")}
    assert split.unassigned == {}


def test_playbooks_out_of_scope_and_without_spend():
    # Playbook 9 is not in scope: its spend does not count; playbook 4 spent nothing -> $0.
    spend = _spend([(1, "email", 10), (9, "email", 990), (9, "ads", 5)])
    split = split_budget({"email": 1_000, "ads": 500}, spend, [1, 4])
    assert split.proposed == {1: Decimal("1000.00"), 4: Decimal("0")}
    assert split.unassigned == {"ads": Decimal("500.00")}


def test_no_playbook_in_scope_leaves_everything_unassigned():
    split = split_budget({"email": 250.5}, _spend([]), [])
    assert split.proposed == {}
    assert split.unassigned == {"email": Decimal("250.50")}
