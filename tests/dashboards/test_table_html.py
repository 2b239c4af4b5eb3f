"""A dashboard table's HTML (dashboard_extras.data_table): the markup every panel's table has,
cells formatted as the CSV export has them, and every text and link escaped."""

import re

from django.template import Context, Template

from dashboards.figures import Column, Table
from dashboards.table_cells import cell_text


def render(table: Table) -> str:
    return Template("{% load dashboard_extras %}{% data_table table %}").render(
        Context({"table": table})
    )


def table() -> Table:
    columns = [
        Column("name", "Channel <all>"),
        Column("pipeline", "Attributed pipeline", "money"),
        Column("roi", "ROI", "percent"),
    ]
    rows = [
        {
            "name": "<script>alert(1)</script>",
            "pipeline": 1234.5,
            "roi": 0.25,
            "url": "/opportunities/?channel=email&kind=pipeline",
            "roi_url": "/spend/?a=1&b=2",
        },
        {"name": "Lift", "pipeline": None, "roi": 0.5, "is_lift": True},
    ]
    return Table("by_channel", "By channel", columns, rows)


def test_cells_read_as_the_export_and_link_to_their_drill_downs():
    data = table()
    html = render(data)
    assert 'data-testid="table-by_channel"' in html
    assert re.findall(r"<th ([^>]*)>", html) == [
        'scope="col"',
        'scope="col" class="num"',
        'scope="col" class="num"',
    ]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    assert len(cells) == 6
    first_row = data.rows[0]
    assert cells[0] == (
        '<a href="/opportunities/?channel=email&amp;kind=pipeline" class="cell-main">'
        "&lt;script&gt;alert(1)&lt;/script&gt;</a>"
    )
    assert cells[1] == cell_text(first_row, data.columns[1])  # no link of its own
    assert cells[2] == f'<a href="/spend/?a=1&amp;b=2">{cell_text(first_row, data.columns[2])}</a>'
    assert cells[3] == '<span class="cell-main">Lift</span>'  # no url: no link
    assert cells[4] == "—"
    assert '<tr class="row-lift">' in html
    assert "<script>" not in html
    assert "Channel &lt;all&gt;" in html


def test_a_table_without_rows_has_its_header_only():
    empty = Table("funnel", "Funnel", [Column("stage", "Stage")])
    html = render(empty)
    assert "<tbody></tbody>" in html
    assert '<th scope="col">Stage</th>' in html
