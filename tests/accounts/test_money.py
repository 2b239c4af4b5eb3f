"""Money cells and their conversion (accounts/money.py): pure, no database."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.money import ConversionError, Money, Rates, format_amount, format_compact, parse_money
from accounts.values import CellError


@pytest.mark.parametrize(
    ("raw", "amount", "currency"),
    [
        # the formats of the issue and DOMAIN.md
        ("EUR 1.2m", "1200000.00", "EUR"),
        ("£75.2m", "75200000.00", "GBP"),
        ("$310k", "310000.00", "USD"),
        ("310 000 000 SEK", "310000000.00", "SEK"),
        ("SEK 310 000 000", "310000000.00", "SEK"),
        # codes and symbols, before or after, any case, with or without a space
        ("sek 1 000", "1000.00", "SEK"),
        ("1.234,50 €", "1234.50", "EUR"),
        ("€1.234,5", "1234.50", "EUR"),
        ("US$ 99", "99.00", "USD"),
        ("C$12", "12.00", "CAD"),
        ("A$ 1.5k", "1500.00", "AUD"),
        ("¥120,000", "120000.00", "JPY"),
        ("CHF 1'234.50", "1234.50", "CHF"),
        # suffixes
        ("1.5 bn", "1500000000.00", ""),
        ("2MM", "2000000.00", ""),
        ("3 million", "3000000.00", ""),
        ("1.234m", "1234000.00", ""),  # with a suffix a lone '.' is the decimal point
        ("1,2m", "1200000.00", ""),
        ("1,500k", "1500000.00", ""),  # a lone ',' before three digits still groups
        # ambiguous separators, no currency: the last mark is the decimal mark
        ("1.234,50", "1234.50", ""),
        ("1,234.50", "1234.50", ""),
        ("1.234.567,89", "1234567.89", ""),
        ("1,234", "1234.00", ""),  # one mark, three digits after it: thousands
        ("1.234", "1234.00", ""),
        ("12,5", "12.50", ""),
        ("0.125", "0.13", ""),  # rounded half up to cents
        ("1\u00a0234,5", "1234.50", ""),
        ("0", "0.00", ""),
        ("-0", "0.00", ""),
    ],
)
def test_money_cells_read_amount_and_currency(raw, amount, currency):
    assert parse_money(raw, "Amount") == Money(Decimal(amount), currency)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-5", "Amount '-5' must not be negative"),
        ("(1,000)", "Amount '(1,000)' must not be negative"),
        ("$-5", "Amount '$-5' must not be negative"),
        ("-EUR 1.2m", "Amount '-EUR 1.2m' must not be negative"),
        ("SEK (5)", "Amount 'SEK (5)' must not be negative"),
        ("ten", "Amount 'ten' is not an amount"),
        ("EUR", "Amount 'EUR' is not an amount"),
        ("$", "Amount '$' is not an amount"),
        ("1,234.5,6", "Amount '1,234.5,6' is not an amount"),
        ("1.2.3m", "Amount '1.2.3m' is not an amount"),
        ("12 kg k", "Amount '12 kg k' is not an amount"),
        ("$5 EUR", "Amount '$5 EUR' names two currencies (USD and EUR)"),
        ("kr 100", "Amount 'kr 100': 'kr' could be SEK, NOK, DKK or ISK; write the currency code"),
        ("100000000000000", "Amount '100000000000000' is too large"),
        ("200000bn", "Amount '200000bn' is too large"),
    ],
)
def test_bad_money_says_why_in_the_columns_words(raw, message):
    with pytest.raises(CellError) as error:
        parse_money(raw, "Amount", max_whole_digits=14)
    assert str(error.value) == message


def test_an_unheard_of_code_reads_and_is_refused_by_the_conversion():
    assert parse_money("12 xyz", "Amount") == Money(Decimal("12.00"), "XYZ")


SEK = Rates(
    "USD",
    {
        "SEK": ([dt.date(2025, 1, 2), dt.date(2025, 7, 1)], [Decimal("0.0905"), Decimal("0.1050")]),
        "EUR": ([dt.date(2025, 1, 2)], [Decimal("1.0350")]),
    },
)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2025, 1, 2), "28055000.00"),  # the rate of that very day
        (dt.date(2025, 6, 30), "28055000.00"),  # the latest rate before it
        (dt.date(2025, 7, 1), "32550000.00"),  # the rate changed
        (dt.date(2026, 3, 1), "32550000.00"),
    ],
)
def test_an_amount_converts_at_the_latest_rate_on_or_before_its_date(day, expected):
    assert SEK.convert(Money(Decimal("310000000"), "SEK"), day) == Decimal(expected)


def test_no_currency_and_the_reporting_currency_are_not_converted():
    assert SEK.convert(Money(Decimal("5"), ""), dt.date(2000, 1, 1)) == Decimal("5")
    assert SEK.convert(Money(Decimal("5"), "USD"), dt.date(2000, 1, 1)) == Decimal("5")


def test_a_reporting_currency_other_than_usd_converts_through_usd_rates():
    in_eur = Rates("EUR", SEK.quotes)

    # 100 USD = 100 / 1.035 EUR; 1000 SEK = 1000 * 0.1050 / 1.035 EUR
    assert in_eur.convert(Money(Decimal("100"), "USD"), dt.date(2025, 8, 1)) == Decimal("96.62")
    assert in_eur.convert(Money(Decimal("1000"), "SEK"), dt.date(2025, 8, 1)) == Decimal("101.45")


def test_an_unknown_currency_is_named():
    with pytest.raises(
        ConversionError, match=r"^unknown currency 'XYZ' \(rates are kept for EUR, SEK, USD"
    ):
        SEK.convert(Money(Decimal("1"), "XYZ"), dt.date(2025, 8, 1))


def test_an_amount_older_than_every_rate_says_so():
    with pytest.raises(ConversionError, match="no SEK exchange rate on or before 2024-12-31"):
        SEK.convert(Money(Decimal("1"), "SEK"), dt.date(2024, 12, 31))


def test_fields_keep_the_original_only_for_another_currency():
    day = dt.date(2025, 8, 1)
    assert SEK.fields(Money(Decimal("1000"), "SEK"), day, name="amount") == {
        "amount": Decimal("105.00"),
        "amount_original": Decimal("1000"),
        "amount_currency": "SEK",
    }
    assert SEK.fields(Money(Decimal("1000"), "USD"), day, name="amount") == {
        "amount": Decimal("1000"),
        "amount_original": None,
        "amount_currency": "",
    }


def test_amounts_are_shown_as_the_file_gave_them_and_short_in_the_reporting_currency():
    assert format_amount(Decimal("310000000.00"), "SEK") == "SEK 310,000,000"
    assert format_amount(Decimal("1234.5"), "EUR") == "EUR 1,234.50"
    assert format_compact(Decimal("29450000.00"), "USD") == "$29.5M"
    assert format_compact(Decimal("950"), "EUR") == "€950"
    assert format_compact(Decimal("1200"), "SEK") == "SEK 1.2K"
