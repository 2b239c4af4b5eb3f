"""The "why this fit" rows: their points, and their whole-number contributions as shown, add up
to the fit score."""

import pandas as pd
import pytest
from django.template.defaultfilters import floatformat
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.fit_explain import fit_rows, largest_remainder
from accounts.scoring import IcpCriteria, fit_scores


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


# --- Whole-number contributions that add up to the fit shown --------------------------------


def test_the_issues_rows_add_up_to_the_fit_shown():
    # 37.5 + 37.5 + 18.0: rounded one by one they read 38 + 38 + 18 = 94 for a fit of 93.
    rows = fit_rows(
        [
            {"criterion": "industry", "weight": 3, "match": 1.0, "value": "Software"},
            {"criterion": "country", "weight": 3, "match": 1.0, "value": "Germany"},
            {"criterion": "employees", "weight": 2, "match": 0.72, "value": 700},
        ],
        fit_score=93.0,
    )

    assert [r["contribution"] for r in rows] == [38, 37, 18]


@pytest.mark.parametrize(
    ("values", "total", "expected"),
    [
        ([37.5, 37.5, 18.0], 93, [38, 37, 18]),  # a tie goes to the earlier row
        ([33.4, 33.3, 33.3], 100, [34, 33, 33]),
        ([0.4, 0.4, 0.2], 1, [1, 0, 0]),
        ([0.0, 0.0], 0, [0, 0]),
        ([10.2, 20.7], 29, [9, 20]),  # a stale stored fit below the floors: one unit comes off
        ([], 0, []),
    ],
)
def test_largest_remainder(values, total, expected):
    assert largest_remainder(values, total) == expected


weights = st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 7.0])
bounds = st.one_of(st.none(), st.integers(min_value=1, max_value=5_000))
icps = st.builds(
    IcpCriteria,
    industries=st.sampled_from([(), ("Software",), ("Software", "Retail")]),
    industries_weight=weights,
    employees_min=bounds,
    employees_max=bounds,
    employees_weight=weights,
    revenue_min=st.one_of(st.none(), st.floats(min_value=1e5, max_value=1e9)),
    revenue_max=st.one_of(st.none(), st.floats(min_value=1e5, max_value=1e9)),
    revenue_weight=weights,
    countries=st.sampled_from([(), ("Germany",), ("Germany", "France")]),
    countries_weight=weights,
)
companies = st.fixed_dictionaries(
    {
        "industry": st.sampled_from(["Software", "Retail", "Mining", None]),
        "employees": st.one_of(st.none(), st.integers(min_value=1, max_value=20_000)),
        "annual_revenue": st.one_of(st.none(), st.floats(min_value=1e4, max_value=5e9)),
        "country": st.sampled_from(["Germany", "France", "Spain", None]),
    }
)


@settings(max_examples=300, deadline=None)
@given(icp=icps, company=companies)
def test_the_rows_add_up_to_the_fit_shown_for_any_icp(icp, company):
    scored = fit_scores(pd.DataFrame([company]), icp).iloc[0]

    rows = fit_rows(scored["fit_breakdown"], fit_score=scored["fit_score"])

    if rows:
        # What the account page prints for the fit, by Django's own filter.
        assert sum(r["contribution"] for r in rows) == int(floatformat(scored["fit_score"], 0))
        assert all(abs(r["contribution"] - r["points"]) < 1 for r in rows)
