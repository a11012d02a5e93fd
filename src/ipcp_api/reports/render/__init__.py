"""Renderers beside the data: a report is computed once as JSON-ready data
(``reports.service``) and rendered here as a spreadsheet (``xlsx``) or a document (``pdf``).
JSON and CSV stay where they were (``reports.router``, ``reports.csv``).

``render_file`` is CPU work (XlsxWriter, Typst): the router runs it in a worker thread, inside
the report slot that bounds how many reports a process builds at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from ipcp_api.reports.service import Report

Kind = Literal["programme", "partner", "portfolio"]
FileFormat = Literal["xlsx", "pdf"]


def render_file(kind: Kind, fmt: FileFormat, report: Report, lang: str) -> bytes:
    """The ``fmt`` file of a ``kind`` report in ``lang``."""
    # imported here: the typesetter and the spreadsheet writer load only when a file is asked for
    if fmt == "xlsx":
        from ipcp_api.reports.render import xlsx

        writers: dict[str, Callable[[Report, str], bytes]] = {
            "programme": xlsx.programme_xlsx,
            "partner": xlsx.partner_xlsx,
            "portfolio": xlsx.portfolio_xlsx,
        }
        return writers[kind](report, lang)
    from ipcp_api.reports.render import pdf

    return pdf.render(kind, report, lang)


__all__ = ["FileFormat", "Kind", "render_file"]
