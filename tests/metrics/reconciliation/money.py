"""Comparing a page's figure with the suite's own, to the cent."""

import pytest

ALL_SCOPES = ("default", "tier_1", "owner", "custom")


def cents(page_value, expected) -> None:
    if expected is None:
        assert page_value is None, f"page {page_value!r}, expected none"
    else:
        assert page_value == pytest.approx(expected, abs=0.005), (
            f"page {page_value!r}, expected {expected!r}"
        )


def ratio(page_value, expected) -> None:
    if expected is None:
        assert page_value is None, f"page {page_value!r}, expected none"
    else:
        assert page_value == pytest.approx(expected, rel=1e-9, abs=1e-9), (
            f"page {page_value!r}, expected {expected!r}"
        )
