"""CSV written row by row: every cell through abm.lib.csv_safety.safe_cell, so a name like
"=HYPERLINK(...)" reaches the spreadsheet as text."""

import csv
from collections.abc import Iterable, Iterator, Sequence

from django.db.models import CharField, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.http import StreamingHttpResponse

from abm.lib.csv_safety import safe_cell


def person_name(path: str):
    """A user's full name as the pages show it (``get_full_name() or username``), for
    ``values_list``; ``path`` is the lookup of the user, e.g. ``"account__owner"``."""
    full = Trim(
        Concat(f"{path}__first_name", Value(" "), f"{path}__last_name", output_field=CharField())
    )
    return Coalesce(NullIf(full, Value("")), f"{path}__username", output_field=CharField())


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """The UTF-8 BOM (so Excel reads accents right), the header, then one line per row."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield "\ufeff"
    yield writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([safe_cell(_plain(cell)) for cell in row])


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return round(value, 2)
    return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]):
    response = StreamingHttpResponse(
        (line.encode() for line in csv_lines(header, rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
