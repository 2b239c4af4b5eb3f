"""The number formats every page uses."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from abm.templatetags.abm_extras import money, percent, signed_percent


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234567.5, "$1,234,568"),
        (Decimal("1234567.49"), "$1,234,567"),
        (0.5, "$1"),
        (0, "$0"),
        (-0.4, "$0"),
        (-2500, "−$2,500"),
        ("42", "$42"),
        (None, "—"),
        ("", "—"),
        (float("nan"), "—"),
    ],
)
def test_money_rounds_to_whole_dollars(value, expected):
    assert money(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1234, "12.3%"),
        (0.12345, "12.3%"),
        (0.12351, "12.4%"),
        (1, "100.0%"),
        (12.5, "1,250.0%"),
        (Decimal("0.05"), "5.0%"),
        (0, "0.0%"),
        (-0.04, "−4.0%"),
        (-0.0001, "0.0%"),
        (None, "—"),
        ("not a number", "—"),
    ],
)
def test_percent_shows_a_fraction_with_one_decimal(value, expected):
    assert percent(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.123, "+12.3%"),
        (-0.04, "−4.0%"),
        (0, "0.0%"),
        (0.00001, "0.0%"),
        (None, "—"),
    ],
)
def test_signed_percent_always_shows_the_direction(value, expected):
    assert signed_percent(value) == expected


@pytest.mark.parametrize(("debug", "expected"), [(True, "yes"), (False, "no")])
def test_demo_logins_follow_debug(settings, debug, expected):
    settings.DEBUG = debug
    template = Template(
        "{% load abm_extras %}{% demo_logins_visible as shown %}{% if shown %}yes{% else %}no{% endif %}"
    )

    assert template.render(Context()) == expected


def test_filters_work_in_templates():
    template = Template("{% load abm_extras %}{{ v|money }} {{ r|percent }} {{ d|signed_percent }}")

    assert template.render(Context({"v": 1500, "r": 0.25, "d": -0.1})) == "$1,500 25.0% −10.0%"
