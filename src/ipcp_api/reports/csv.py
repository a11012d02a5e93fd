"""The CSV form of the reports: a header row, then one row per project / programme / partner.

UTF-8, RFC 4180 quoting (Python's csv module), null as an empty cell, fractions written as
in the JSON form (``0.3333``). A text cell that a spreadsheet would run as a formula (it
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written with a leading
``'``; numbers, negative ones included, are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from ipcp_api.reports.baseline import FIGURES as BASELINE_FIGURES
from ipcp_api.reports.service import FIGURES, SUMMARY_FIELDS, Report

PROGRAMME_COLUMNS = (
    "project_id",
    "project_code",
    "project_title",
    "pillar_code",
    "status",
    *FIGURES,
    "next_due_on",
)
PARTNER_COLUMNS = ("programme_id", "programme_code", "programme_title", "status", *SUMMARY_FIELDS)
PORTFOLIO_COLUMNS = ("partner_id", "partner_code", "partner_name", "programmes", *SUMMARY_FIELDS)


# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP, "CSV
# injection"): a liaison could otherwise plant =HYPERLINK(...) in a title that staff open.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """Text as a spreadsheet shows it, never run: ``'`` before a formula-like start."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue()


def programme_csv(report: Report) -> str:
    pillar_codes = {row["pillar"]["id"]: row["pillar"]["code"] for row in report["pillars"]}
    # against a baseline (issue 17): its figures after the others, only when asked for
    extra = BASELINE_FIGURES if "baseline" in report else ()
    return _write(
        (*PROGRAMME_COLUMNS, *extra),
        (
            [
                p["id"],
                p["code"],
                p["title"],
                pillar_codes.get(p["pillar_id"]),
                p["status"],
                *(p[name] for name in FIGURES),
                p["next_due_on"],
                *(p[name] for name in extra),
            ]
            for p in report["projects"]
        ),
    )


def partner_csv(report: Report) -> str:
    return _write(
        PARTNER_COLUMNS,
        (
            [
                row["programme"]["id"],
                row["programme"]["code"],
                row["programme"]["title"],
                row["programme"]["status"],
                *(row[name] for name in SUMMARY_FIELDS),
            ]
            for row in report["programmes"]
        ),
    )


def portfolio_csv(report: Report) -> str:
    return _write(
        PORTFOLIO_COLUMNS,
        (
            [
                row["partner"]["id"],
                row["partner"]["code"],
                row["partner"]["name"],
                row["programmes"],
                *(row[name] for name in SUMMARY_FIELDS),
            ]
            for row in report["partners"]
        ),
    )
