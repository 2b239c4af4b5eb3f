"""ICP fit scoring, checked against numbers worked out by hand."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from accounts.scoring import IcpCriteria, fit_scores, range_match, set_match


def frame(**columns) -> pd.DataFrame:
    size = max(len(v) for v in columns.values())
    base = {
        "industry": [None] * size,
        "employees": [None] * size,
        "annual_revenue": [None] * size,
        "country": [None] * size,
    }
    base.update(columns)
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1000, 1.0),  # inside
        (200, 1.0),  # on the lower bound
        (5000, 1.0),  # on the upper bound
        (150, 0.5),  # half-way between 100 (= 200 / 2) and 200
        (100, 0.0),  # half the lower bound
        (10, 0.0),  # far below
        (7500, 0.5),  # half-way between 5000 and 10000 (= 2 * 5000)
        (10000, 0.0),  # double the upper bound
        (50000, 0.0),  # far above
        (None, 0.0),  # missing
    ],
)
def test_range_match_falls_linearly_outside_the_range(value, expected):
    got = range_match(pd.Series([value], dtype=object), 200, 5000)
    assert got[0] == pytest.approx(expected)


def test_range_match_with_one_bound_is_open_on_the_other_side():
    values = pd.Series([1, 50, 75, 10_000_000])
    assert range_match(values, 100, None).tolist() == pytest.approx([0.0, 0.0, 0.5, 1.0])
    assert range_match(values, None, 100).tolist() == pytest.approx([1.0, 1.0, 1.0, 0.0])


def test_set_match_ignores_case_and_blanks_and_misses_on_missing():
    values = pd.Series(["Software", " software ", "Retail", None, ""])
    assert set_match(values, ["Software"]).tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]


def test_it_weights_criteria_and_keeps_the_breakdown():
    criteria = IcpCriteria(
        industries=("Software",),
        industries_weight=3,
        employees_min=200,
        employees_max=5000,
        employees_weight=2,
        revenue_min=20_000_000,
        revenue_max=1_000_000_000,
        revenue_weight=2,
        countries=("United States", "United Kingdom"),
        countries_weight=1,
    )
    accounts = frame(
        industry=["Software", "Retail"],
        employees=[150, 1000],
        annual_revenue=[1_500_000_000, None],
        country=["Germany", "United States"],
    )

    result = fit_scores(accounts, criteria)

    # (3 * 1 + 2 * 0.5 + 2 * 0.5 + 1 * 0) / 8 and (3 * 0 + 2 * 1 + 2 * 0 + 1 * 1) / 8
    assert result["fit_score"].tolist() == pytest.approx([62.5, 37.5])
    assert result.loc[0, "fit_breakdown"] == [
        {"criterion": "industry", "weight": 3.0, "match": 1.0, "value": "Software"},
        {"criterion": "employees", "weight": 2.0, "match": 0.5, "value": 150},
        {"criterion": "annual_revenue", "weight": 2.0, "match": 0.5, "value": 1_500_000_000},
        {"criterion": "country", "weight": 1.0, "match": 0.0, "value": "Germany"},
    ]
    assert result.loc[1, "fit_breakdown"][2] == {
        "criterion": "annual_revenue",
        "weight": 2.0,
        "match": 0.0,
        "value": None,
    }


def test_a_missing_value_matches_nothing():
    criteria = IcpCriteria(employees_min=200, employees_max=5000, employees_weight=1)
    result = fit_scores(frame(employees=[np.nan, 300]), criteria)
    assert result["fit_score"].tolist() == [0.0, 100.0]


def test_zero_total_weight_scores_zero():
    criteria = IcpCriteria(industries=("Software",), employees_min=1, employees_max=10)
    result = fit_scores(frame(industry=["Software"], employees=[5]), criteria)
    assert result["fit_score"].tolist() == [0.0]
    assert [part["match"] for part in result.loc[0, "fit_breakdown"]] == [1.0, 1.0]


def test_unconfigured_criteria_do_not_count():
    criteria = IcpCriteria(industries_weight=5, countries=("Germany",), countries_weight=1)
    result = fit_scores(frame(industry=["Retail"], country=["Germany"]), criteria)
    assert result["fit_score"].tolist() == [100.0]
    assert [part["criterion"] for part in result.loc[0, "fit_breakdown"]] == ["country"]


def test_no_criteria_at_all_scores_zero_with_an_empty_breakdown():
    result = fit_scores(frame(industry=["Software", "Retail"]), IcpCriteria())
    assert result["fit_score"].tolist() == [0.0, 0.0]
    assert result["fit_breakdown"].tolist() == [[], []]


def test_criteria_read_off_an_icp_row():
    icp = SimpleNamespace(
        industries=["Software"],
        industries_weight=2,
        employees_min=None,
        employees_max=500,
        employees_weight=1,
        revenue_min=None,
        revenue_max=None,
        revenue_weight=0,
        countries=[],
        countries_weight=0,
    )
    criteria = IcpCriteria.from_icp(icp)
    assert criteria.industries == ("Software",)
    assert criteria.employees_max == 500.0
    result = fit_scores(frame(industry=["Software"], employees=[750]), criteria)
    # (2 * 1 + 1 * 0.5) / 3
    assert result["fit_score"].tolist() == pytest.approx([250 / 3])
