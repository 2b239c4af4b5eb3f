"""Reading, mapping and validating CSV imports (pure: no database), and the CSV-safety helper."""

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from abm.lib.csv_safety import safe_cell, write_csv
from accounts.money import Money
from ingestion import importing
from ingestion.importing import ImportRefused

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")


def parse(text: str | bytes, kind: str = "accounts", mapping=None, tz=UTC):
    data = text.encode() if isinstance(text, str) else text
    return importing.parse(data, kind, tz=tz, mapping=mapping)


def reasons(parsed) -> dict[int, str]:
    return {reject.line: reject.reason for reject in parsed.rejects}


# --- CSV safety -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Acme = best", "Acme = best"),
        ("", ""),
        (None, ""),
        (-5, "-5"),
        (Decimal("1.50"), "1.50"),
    ],
)
def test_safe_cell_escapes_only_text_a_spreadsheet_would_run(value, expected):
    assert safe_cell(value) == expected


def test_write_csv_escapes_every_cell_and_starts_with_a_bom():
    data = write_csv([["=1+1", "Zürich", 3], ["a,b", "line\nbreak", None]], ["@head", "city", "n"])

    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [["'@head", "city", "n"], ["'=1+1", "Zürich", "3"], ["a,b", "line\nbreak", ""]]


def test_write_csv_without_bom():
    assert write_csv([], ["a"], bom=False) == b"a\r\n"


# --- Files that are refused -----------------------------------------------------------------


def test_a_file_over_the_limit_is_refused_with_its_size():
    with pytest.raises(ImportRefused, match=r"2\.0 MB; imports are limited to 1\.0 MB"):
        importing.check_size(2 * 1024 * 1024, limit=1024 * 1024)


def test_an_empty_file_is_refused():
    with pytest.raises(ImportRefused, match="empty"):
        importing.check_size(0, limit=10)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00rest-of-xlsx", "Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Excel"),
        (b"%PDF-1.7\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"name,domain\nAcme,acme.com\x00\x00\x00", "binary"),
        (bytes(range(1, 32)) * 20, "binary"),
        (b"<!DOCTYPE html><html><body>Error</body></html>", "HTML"),
    ],
)
def test_a_file_that_is_not_a_csv_is_refused_with_a_clear_message(data, message):
    with pytest.raises(ImportRefused, match=message):
        importing.read_table(data)


def test_a_file_without_any_delimiter_is_refused():
    with pytest.raises(ImportRefused, match="does not look like a CSV"):
        importing.read_table(b"just some notes\nwritten in a text file\n")


def test_a_file_with_only_blank_lines_has_no_header():
    with pytest.raises(ImportRefused, match="no header"):
        importing.read_table(b"\n\n\r\n")


def test_a_quote_never_closed_refuses_the_file_at_the_line_it_opens():
    data = b'name,domain\nAcme,acme.com\n"Broken,broken.com\nOther,other.com\n'
    with pytest.raises(ImportRefused, match="line 3: a quoted value starts here"):
        importing.read_table(data)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"name": "name"}, "domain / external_id"),
        ({"name": "name", "domain": "nonsense"}, "'nonsense' is not a field"),
        ({"name": "domain", "domain": "domain"}, "both map to 'domain'"),
        ({"nope": "domain"}, "no column 'nope'"),
    ],
)
def test_an_unusable_mapping_is_refused_before_any_row_is_read(mapping, message):
    with pytest.raises(ImportRefused, match=message):
        parse("name,domain\nAcme,acme.com\n", mapping=mapping)


def test_missing_required_columns_are_named_in_the_refusal():
    with pytest.raises(ImportRefused) as refused:
        parse("Id,Type\nx,email_open\n", kind="activities")

    assert str(refused.value) == (
        "Missing required columns for importing activities: channel, occurred_at and one of "
        "account_external_id / account_domain / account_name. "
        "Map a column to each or add them to the file."
    )


def test_an_unknown_kind_is_refused():
    with pytest.raises(ImportRefused, match="Unknown import kind 'deals'"):
        parse("a,b\n1,2\n", kind="deals")


# --- Encodings, delimiters and line numbers -------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("name;domain;country\nSociété Générale;socgen.com;Zürich\n".encode(), "utf-8"),
        (
            b"\xef\xbb\xbf" + "name;domain;country\nSociété Générale;socgen.com;Zürich\n".encode(),
            "utf-8-sig",
        ),
        ("name;domain;country\nSociété Générale;socgen.com;Zürich\n".encode("cp1252"), "cp1252"),
        ("name;domain;country\nSociété Générale;socgen.com;Zürich\n".encode("utf-16"), "utf-16"),
    ],
)
def test_utf8_with_or_without_bom_utf16_and_windows_1252_read_the_same(data, encoding):
    parsed = parse(data)

    assert parsed.table.encoding == encoding
    assert parsed.table.delimiter == ";"
    assert parsed.table.headers == ["name", "domain", "country"]  # no BOM left on "name"
    assert parsed.rows[0].values == {
        "name": "Société Générale",
        "domain": "socgen.com",
        "country": "Zürich",
    }


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(delimiter):
    text = delimiter.join(["name", "domain", "annual_revenue"]) + "\n"
    text += delimiter.join(["Acme", "acme.com", '"1,234.50"']) + "\n"

    parsed = parse(text)

    assert parsed.table.delimiter == delimiter
    assert parsed.rows[0].values["annual_revenue"].amount == Decimal("1234.50")


def test_a_semicolon_file_with_decimal_commas_is_not_read_as_comma_separated():
    parsed = parse("name;domain;annual_revenue\nAcme;acme.com;1234,50\nBeta;beta.io;99,9\n")

    assert parsed.table.delimiter == ";"
    assert [row.values["annual_revenue"].amount for row in parsed.rows] == [
        Decimal("1234.50"),
        Decimal("99.90"),
    ]


def test_line_numbers_count_physical_lines_across_quoted_newlines_and_blank_lines():
    text = (
        "name,domain,industry,annual_revenue\r\n"  # line 1
        'Acme,acme.com,"Software\r\nand services\r\nand more",10\r\n'  # lines 2-4
        "\r\n"  # line 5: blank, skipped
        "Beta,beta.io,Retail,-5\r\n"  # line 6
        '"Gamma\nCorp",gamma.io,Retail,oops\n'  # lines 7-8
        "Delta,delta.io,Retail,7\n"  # line 9
    )

    parsed = parse(text)

    assert [row.line for row in parsed.rows] == [2, 9]
    assert parsed.rows[0].values["industry"] == "Software\r\nand services\r\nand more"
    assert reasons(parsed) == {
        6: "annual_revenue '-5' must not be negative",
        7: "annual_revenue 'oops' is not an amount",  # the record starts on line 7
    }


def test_a_row_with_broken_quoting_is_rejected_and_the_others_kept():
    parsed = parse('name,domain\nAcme,acme.com\n"Bro"ken,broken.com\nDelta,delta.io\n')

    assert [row.values["domain"] for row in parsed.rows] == ["acme.com", "delta.io"]
    [reject] = parsed.rejects
    assert reject.line == 3
    assert reject.reason.startswith("cannot be read as CSV")
    assert reject.cells == ['"Bro"ken,broken.com']


def test_a_row_with_more_values_than_columns_is_rejected_but_trailing_empty_cells_are_fine():
    parsed = parse("name,domain\nAcme,acme.com,,\nBeta,beta.io,extra\nGamma\n")

    assert [row.line for row in parsed.rows] == [2, 4]
    assert reasons(parsed) == {
        3: "has 3 values but the header has 2 columns (an unquoted delimiter inside a value?)"
    }


def test_duplicate_and_blank_headers_are_made_unique():
    table = importing.read_table(b"name,Email,Email,,domain\nx,a@b.c,c@d.e,,x.com\n")

    assert table.headers == ["name", "Email", "Email (2)", "(column 4)", "domain"]


# --- Column mapping -------------------------------------------------------------------------


def test_salesforce_account_headers_are_recognised():
    headers = [
        "Id",
        "Account Name",
        "Website",
        "Industry",
        "NumberOfEmployees",
        "AnnualRevenue",
        "BillingCountry",
        "OwnerId",
        "Rating",
    ]

    assert importing.suggest_mapping("accounts", headers) == {
        "Id": "external_id",
        "Account Name": "name",
        "Website": "domain",
        "Industry": "industry",
        "NumberOfEmployees": "employees",
        "AnnualRevenue": "annual_revenue",
        "BillingCountry": "country",
        "OwnerId": "owner",
    }


def test_hubspot_company_headers_are_recognised():
    headers = [
        "Record ID",
        "Company name",
        "Company Domain Name",
        "Number of Employees",
        "Annual Revenue",
        "Country/Region",
        "Company owner",
        "Create Date",
    ]

    assert importing.suggest_mapping("accounts", headers) == {
        "Record ID": "external_id",
        "Company name": "name",
        "Company Domain Name": "domain",
        "Number of Employees": "employees",
        "Annual Revenue": "annual_revenue",
        "Country/Region": "country",
        "Company owner": "owner",
    }


def test_contact_headers_find_the_account_by_name_or_domain():
    headers = ["First Name", "Last Name", "Email", "Title", "Account Name", "Company Domain Name"]

    assert importing.suggest_mapping("contacts", headers) == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Title": "title",
        "Account Name": "account_name",
        "Company Domain Name": "account_domain",
    }


def test_opportunity_headers_are_recognised():
    headers = [
        "Id",
        "AccountId",
        "Opportunity Name",
        "Amount",
        "StageName",
        "CreatedDate",
        "CloseDate",
        "LeadSource",
    ]

    assert importing.suggest_mapping("opportunities", headers) == {
        "Id": "external_id",
        "AccountId": "account_external_id",
        "Opportunity Name": "name",
        "Amount": "amount",
        "StageName": "stage",
        "CreatedDate": "created_at",
        "CloseDate": "close_date",
        "LeadSource": "source",
    }


def test_our_own_field_names_win_over_aliases():
    mapping = importing.suggest_mapping("accounts", ["Website", "domain", "Annual_Revenue"])

    assert mapping == {"domain": "domain", "Annual_Revenue": "annual_revenue"}


def test_chosen_columns_replace_the_suggestion_and_dash_ignores_a_column():
    suggested = {"Website": "domain", "Account Name": "name", "Industry": "industry"}

    merged = importing.merge_mapping(suggested, {"Web": "domain", "Industry": "-"})

    assert merged == {"Account Name": "name", "Web": "domain", "Industry": "-"}
    checked = importing.check_mapping("accounts", ["Account Name", "Web", "Industry"], merged)
    assert checked == {"Account Name": "name", "Web": "domain"}


# --- Values ---------------------------------------------------------------------------------


# Money: tests/accounts/test_money.py


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1200", 1200), ("1,200", 1200), ("1200.0", 1200), ("1 200", 1200)],
)
def test_whole_numbers(raw, expected):
    assert importing.whole_parser(10**9)(raw, "employees") == expected


def test_a_fraction_of_an_employee_is_refused():
    with pytest.raises(importing.CellError, match="employees '12.5' must be a whole number"):
        importing.whole_parser(10**9)("12.5", "employees")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-01", dt.datetime(2025, 3, 1, tzinfo=BERLIN)),
        ("2025-03-01 14:00", dt.datetime(2025, 3, 1, 14, tzinfo=BERLIN)),
        ("2025-03-01T14:00:00Z", dt.datetime(2025, 3, 1, 14, tzinfo=UTC)),
        ("2025-03-01T14:00:00.000+0000", dt.datetime(2025, 3, 1, 14, tzinfo=UTC)),
        ("2025-03-01 14:00:00 UTC", dt.datetime(2025, 3, 1, 14, tzinfo=UTC)),
        ("2025/3/1", dt.datetime(2025, 3, 1, tzinfo=BERLIN)),
        ("03/01/2025", dt.datetime(2025, 3, 1, tzinfo=BERLIN)),  # US month/day
        ("3/1/25 2:05 PM", dt.datetime(2025, 3, 1, 14, 5, tzinfo=BERLIN)),
        ("01.03.2025", dt.datetime(2025, 3, 1, tzinfo=BERLIN)),  # dots: day.month
        ("01.03.2025 09:30", dt.datetime(2025, 3, 1, 9, 30, tzinfo=BERLIN)),
        ("1 Mar 2025", dt.datetime(2025, 3, 1, tzinfo=BERLIN)),
        ("March 1, 2025", dt.datetime(2025, 3, 1, tzinfo=BERLIN)),
        ("01-Mar-2025", dt.datetime(2025, 3, 1, tzinfo=BERLIN)),
    ],
)
def test_dates_in_usual_formats_naive_ones_in_the_site_time_zone(raw, expected):
    parsed = importing.datetime_parser("mdy", BERLIN)(raw, "created_at")

    assert parsed == expected


def test_a_slash_date_column_is_day_first_when_only_that_reading_makes_sense():
    values = ["03/01/2025", "13/01/2025", "28/02/2025"]

    assert importing.date_order(values) == "dmy"
    parse_ = importing.date_parser(importing.date_order(values))
    assert [parse_(value, "close_date") for value in values] == [
        dt.date(2025, 1, 3),
        dt.date(2025, 1, 13),
        dt.date(2025, 2, 28),
    ]


def test_a_slash_date_column_stays_us_when_ambiguous_or_contradictory():
    assert importing.date_order(["03/01/2025", "04/02/2025"]) == "mdy"
    assert importing.date_order(["13/01/2025", "01/13/2025"]) == "mdy"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("31/31/2025", "created_at '31/31/2025' is not a date (this column reads month/day/year)"),
        ("2025-02-30", "created_at '2025-02-30' is not a date"),
        ("next week", "created_at 'next week' is not a date"),
        ("1800-01-01", "created_at '1800-01-01' is out of range (1900-2100)"),
    ],
)
def test_a_bad_date_says_which_value_and_why(raw, message):
    with pytest.raises(importing.CellError) as error:
        importing.datetime_parser("mdy", UTC)(raw, "created_at")
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("raw", "tier"),
    [
        ("1", 1),
        ("Tier 1", 1),
        ("T1", 1),
        ("t2", 2),
        ("tier-3", 3),
        ("Tier 1 (1:1)", 1),
        ("1:few", 2),
        ("III", 3),
        ("none", None),
    ],
)
def test_tiers(raw, tier):
    assert importing.parse_tier(raw, "tier") == tier


@pytest.mark.parametrize("raw", ["4", "0", "Gold", "Tier 4"])
def test_an_unknown_tier_is_named(raw):
    with pytest.raises(importing.CellError, match=f"unknown tier '{raw}' \\(expected 1, 2 or 3"):
        importing.parse_tier(raw, "tier")


@pytest.mark.parametrize(
    ("raw", "stage"),
    [
        ("Closed Won", "closed_won"),
        ("closed_won", "closed_won"),
        ("CLOSED-LOST", "closed_lost"),
        ("Prospecting", "qualification"),
        ("Needs Analysis", "discovery"),
        ("Proposal/Price Quote", "proposal"),
        ("Negotiation/Review", "negotiation"),
        ("contractsent", "negotiation"),
        ("Won", "closed_won"),
    ],
)
def test_stage_names_are_case_insensitive_with_common_aliases(raw, stage):
    assert importing.FIELDS["opportunities"]["stage"].parse(raw, "stage") == stage


def test_an_unknown_stage_lists_the_expected_ones():
    with pytest.raises(importing.CellError) as error:
        importing.FIELDS["opportunities"]["stage"].parse("won-ish", "stage")
    assert str(error.value) == (
        "unknown stage 'won-ish' (expected one of qualification, discovery, proposal, "
        "negotiation, closed_won, closed_lost)"
    )


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("https://www.Acme.com/about?x=1", "acme.com"),
        ("WWW.ACME.CO.UK", "acme.co.uk"),
        ("http://acme.com:8080", "acme.com"),
        ("acme.com.", "acme.com"),
        ("www2.acme.com", "www2.acme.com"),
        ("Zürich-Versicherung.ch", "zürich-versicherung.ch"),
    ],
)
def test_domains_are_normalised(raw, domain):
    assert importing.parse_domain(raw, "domain") == domain


@pytest.mark.parametrize("raw", ["acme", "not a domain", "-acme.com", "http://"])
def test_a_bad_domain_is_refused(raw):
    with pytest.raises(importing.CellError, match="is not a domain"):
        importing.parse_domain(raw, "domain")


@pytest.mark.parametrize(
    ("title", "seniority"),
    [
        ("Chief Marketing Officer", "c_level"),
        ("CFO", "c_level"),
        ("Senior Vice President, Sales", "vp"),
        ("VP Engineering", "vp"),
        ("Head of IT", "director"),
        ("Marketing Manager", "manager"),
        ("Analyst", "other"),
    ],
)
def test_seniority_is_guessed_from_the_title(title, seniority):
    assert importing.seniority_from_title(title) == seniority


# --- Whole rows -----------------------------------------------------------------------------


def test_every_bad_cell_of_a_row_is_reported_and_good_rows_keep_their_values():
    text = (
        "Account Name,Website,AnnualRevenue,NumberOfEmployees,Tier\n"
        'Acme,https://www.acme.com,"$1,234.50","1,200",Tier 1\n'
        "Beta,beta,-5,many,Gold\n"
        "  Gamma  ,gamma.io,,,\n"
    )

    parsed = parse(text)

    assert [row.values for row in parsed.rows] == [
        {
            "name": "Acme",
            "domain": "acme.com",
            "annual_revenue": Money(Decimal("1234.50"), "USD"),
            "employees": 1200,
            "tier": 1,
        },
        {"name": "Gamma", "domain": "gamma.io"},  # blank cells are absent, not empty values
    ]
    assert reasons(parsed) == {
        3: "Website 'beta' is not a domain; AnnualRevenue '-5' must not be negative; "
        "NumberOfEmployees 'many' is not a number; unknown Tier 'Gold' (expected 1, 2 or 3, "
        "'Tier 1'..'Tier 3', 'T1'..'T3', or 'none' for not a target)"
    }
    assert parsed.rejects[0].cells == ["Beta", "beta", "-5", "many", "Gold"]


def test_formula_like_text_is_data_and_kept_as_is():
    parsed = parse('name,domain,industry\n"=HYPERLINK(""http://evil"")",evil.com,@SUM(1)\n')

    assert parsed.rows[0].values["name"] == '=HYPERLINK("http://evil")'
    assert parsed.rows[0].values["industry"] == "@SUM(1)"


def test_a_text_longer_than_its_field_is_rejected():
    parsed = parse(f"name,domain\n{'x' * 201},x.com\n")

    assert reasons(parsed) == {2: "name is longer than 200 characters"}


def test_preview_shows_format_mapping_and_the_first_rows_as_read():
    text = (
        "\ufeffAccount Name;Website;AnnualRevenue;Rating\n"
        "Société;societe.fr;1.234,50 €;Hot\n"
        "Bad;bad;-1;Cold\n"
        "Third;third.io;1;Warm\n"
    )

    shown = importing.preview(text.encode("utf-8"), "accounts", tz=UTC, rows=2)

    assert (shown.encoding, shown.delimiter) == ("utf-8-sig", ";")
    assert shown.headers == ["Account Name", "Website", "AnnualRevenue", "Rating"]
    assert shown.mapping == {
        "Account Name": "name",
        "Website": "domain",
        "AnnualRevenue": "annual_revenue",
    }
    assert shown.unmapped == ["Rating"]
    assert shown.missing == ""
    assert [row["line"] for row in shown.rows] == [2, 3]
    assert shown.rows[0]["values"]["annual_revenue"] == Money(Decimal("1234.50"), "EUR")
    assert shown.rows[1]["errors"] == (
        "Website 'bad' is not a domain; AnnualRevenue '-1' must not be negative"
    )


def test_preview_says_what_is_missing_instead_of_refusing():
    shown = importing.preview(b"First Name,Email\nAda,ada@x.io\n", "contacts", tz=UTC)

    assert shown.missing == (
        "external_id, or email and one of account_external_id / account_domain / account_name"
    )
