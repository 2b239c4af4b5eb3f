"""The "why this fit" rows: their points add up to the fit score."""

import pytest

from accounts.fit_explain import fit_rows


def test_points_add_up_to_the_fit_score():
    # weights 3, 1 -> shares .75, .25; matches 1 and .5 -> 75 + 12.5 = 87.5
    rows = fit_rows(
        [
            {"criterion": "industry", "weight": 3, "match": 1.0, "value": "Software"},
            {"criterion": "employees", "weight": 1, "match": 0.5, "value": 75},
        ]
    )

    assert [r["label"] for r in rows] == ["Industry", "Employees"]
    assert [r["weight_share"] for r in rows] == [0.75, 0.25]
    assert sum(r["points"] for r in rows) == pytest.approx(87.5)
    assert rows[1]["match_percent"] == 50


@pytest.mark.parametrize("breakdown", [None, [], [{"nonsense": 1}], "broken"])
def test_missing_or_odd_breakdowns_give_no_rows(breakdown):
    assert fit_rows(breakdown) == []


def test_zero_weights_do_not_divide_by_zero():
    rows = fit_rows([{"criterion": "country", "weight": 0, "match": 1, "value": "Germany"}])

    assert rows[0]["points"] == 0
    assert rows[0]["short_label"] == "Country"
