"""Journey-stage rules, evaluated from the top down (DOMAIN.md "Journey stages")."""

import pandas as pd
import pytest

from metrics.stages import journey_stages, stage_changes

NOTHING = {
    "tier": None,
    "has_inbound_90d": False,
    "score": 0.0,
    "engaged_contacts": 0,
    "has_open_opportunity": False,
    "has_won_opportunity": False,
}


def stage_of(**facts):
    accounts = pd.DataFrame([{"account_id": 1, **NOTHING, **facts}])
    return journey_stages(accounts).loc[1]


@pytest.mark.parametrize(
    ("facts", "stage"),
    [
        ({}, ""),
        ({"tier": 2}, "targeted"),
        ({"tier": 1, "has_inbound_90d": True}, "aware"),
        ({"has_inbound_90d": True}, "aware"),  # not a target, still aware of us
        ({"tier": 1, "score": 9.99, "has_inbound_90d": True}, "aware"),
        ({"tier": 1, "score": 10}, "engaged"),
        ({"tier": 1, "score": 49.9, "engaged_contacts": 5}, "engaged"),
        ({"tier": 1, "score": 50, "engaged_contacts": 1}, "engaged"),  # one contact is not a team
        ({"tier": 1, "score": 50, "engaged_contacts": 2}, "mqa"),
        ({"tier": 3, "score": 0, "has_open_opportunity": True}, "opportunity"),
        ({"tier": 3, "has_open_opportunity": True, "has_won_opportunity": True}, "customer"),
        ({"has_won_opportunity": True}, "customer"),
        ({"tier": 1, "score": None, "engaged_contacts": None, "has_inbound_90d": None}, "targeted"),
    ],
)
def test_the_highest_rule_that_holds_wins(facts, stage):
    assert stage_of(**facts) == stage


def test_thresholds_are_parameters():
    accounts = pd.DataFrame([{"account_id": 7, **NOTHING, "score": 30, "engaged_contacts": 1}])

    stages = journey_stages(accounts, engaged_score=40, mqa_score=25, mqa_min_contacts=1)

    assert stages.to_dict() == {7: "mqa"}


def test_stage_changes_lists_only_accounts_whose_stage_moved():
    previous = pd.Series({1: "targeted", 2: "aware", 3: "engaged", 5: "mqa"})
    current = pd.Series({1: "targeted", 2: "engaged", 3: "aware", 4: "targeted", 5: ""})

    changes = stage_changes(previous, current)

    assert changes.to_dict("records") == [
        {"account_id": 2, "from_stage": "aware", "to_stage": "engaged"},
        {"account_id": 3, "from_stage": "engaged", "to_stage": "aware"},
        {"account_id": 4, "from_stage": "", "to_stage": "targeted"},
        {"account_id": 5, "from_stage": "mqa", "to_stage": ""},
    ]


def test_stage_changes_treats_a_dropped_account_as_no_stage():
    changes = stage_changes(pd.Series({1: "aware"}), pd.Series(dtype=object))

    assert changes.to_dict("records") == [{"account_id": 1, "from_stage": "aware", "to_stage": ""}]
