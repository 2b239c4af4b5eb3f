"""CSV we hand out: cells a spreadsheet would run as a formula are neutralised.

What we store is data and stays as is; only files offered for download are escaped, because
Excel, LibreOffice and Google Sheets execute a cell starting with = + - @ (and treat a leading tab
or carriage return the same way) as a formula - "CSV injection" (OWASP).
"""

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """The cell as text, prefixed with ' when a spreadsheet would evaluate it."""
    if value is None:
        return ""
    if not isinstance(value, str):
        # Numbers, dates and booleans are written by us, not typed by someone: nothing to run.
        return str(value)
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_csv(rows: Iterable[Sequence], header: Sequence[str], *, bom: bool = True) -> bytes:
    """UTF-8 CSV with every cell (header included) passed through safe_cell.

    The byte-order mark is on by default: without it Excel reads UTF-8 as Windows-1252 and
    shows "ZÃ¼rich".
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()
