"""A custom dashboard period is at most ten years of months from 1900 on: a longer one is cut
with a note on the page (a 400 naming the parameter in the API), never a 500 or a slow page."""

import datetime as dt

import pytest
from django.http import QueryDict
from django.urls import reverse

from dashboards.filters import parse_filters

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 22)


def custom(start: str, end: str) -> QueryDict:
    return QueryDict(f"preset=custom&start={start}&end={end}")


def test_a_period_over_ten_years_keeps_its_last_ten(diana):
    filters = parse_filters(custom("1990-01", "2026-06"), user=diana, today=TODAY)

    assert (filters.start, filters.end, filters.months) == (
        dt.date(2016, 7, 1),
        dt.date(2026, 6, 1),
        120,
    )
    assert filters.problems == (
        "“From month” (1990-01) was moved to 2016-07: a custom period spans at most 10 years.",
    )


def test_ten_years_exactly_are_kept_as_asked(diana):
    filters = parse_filters(custom("2016-07", "2026-06"), user=diana, today=TODAY)

    assert (filters.start, filters.months, filters.problems) == (dt.date(2016, 7, 1), 120, ())


def test_a_month_before_1900_is_ignored_with_the_reason(diana):
    filters = parse_filters(custom("0001-01", "0001-02"), user=diana, today=TODAY)

    assert filters.preset == "last_12_months"
    assert filters.problems == (
        "“From month” (0001-01) was ignored: use a month from 1900 on.",
        "“To month” (0001-02) was ignored: use a month from 1900 on.",
    )


@pytest.mark.parametrize("page", ["director", "marketer", "sales", "spend"])
@pytest.mark.parametrize("start", ["0001-01", "1900-01"])
def test_every_dashboard_page_shows_a_far_start_as_a_note(client, diana, page, start):
    client.force_login(diana)

    response = client.get(reverse(f"dashboards:{page}"), custom(start, "2026-01"))

    assert response.status_code == 200
    assert "“From month”" in response.content.decode()


def test_the_api_refuses_a_period_over_ten_years_naming_the_parameter(client, diana):
    client.force_login(diana)

    response = client.get("/api/metrics/roi/", custom("1990-01", "2026-01"))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert list(error["fields"]) == ["start"]
    assert "a custom period spans at most 10 years" in error["fields"]["start"][0]
