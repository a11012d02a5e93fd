"""The XLSX form of the reports (XlsxWriter).

Sheets ``Summary``, ``Pillars``, then ``Projects`` / ``Programmes`` / ``Partners``, and for the
programme report ``Overdue``, ``Upcoming`` and ``Actions``. Sheet names and column headers are
the CSV's English names whatever the language (so formulas and scripts can rely on them);
cell text follows the language, enumeration values are words. Numbers are numbers, fractions
are fractions shown as percentages, dates are dates (a date before 1900, which a spreadsheet
cannot hold, is ``YYYY-MM-DD`` text), null is an empty cell. ``strings_to_formulas`` and
``strings_to_urls`` are off: a title such as ``=1+1`` is a text cell, never a formula or a
link. The workbook is built in memory (``in_memory``: no temporary files; a report's sheets
are small), and right to left for Arabic.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]
from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

from ipcp_api.reports.render import fields, words
from ipcp_api.reports.service import Report

_MIN_WIDTH, _MAX_WIDTH = 8, 60


class _Book:
    def __init__(self, lang: str) -> None:
        self.out = io.BytesIO()
        self.lang = lang
        self.rtl = words.is_rtl(lang)
        self.book = xlsxwriter.Workbook(
            self.out,
            {
                "in_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "remove_timezone": True,
            },
        )
        base = {"reading_order": 2} if self.rtl else {}
        self.text = self.book.add_format(base)
        self.header = self.book.add_format(
            {**base, "bold": True, "bg_color": "#DDE4EE", "border": 1}
        )
        self.percent = self.book.add_format({**base, "num_format": "0.00%"})
        self.date = self.book.add_format({**base, "num_format": "yyyy-mm-dd"})
        self.stamp = self.book.add_format({**base, "num_format": "yyyy-mm-dd hh:mm"})
        self.integer = self.book.add_format({**base, "num_format": "0"})
        self.title = self.book.add_format({**base, "bold": True, "font_size": 14})

    def sheet(self, name: str) -> Worksheet:
        sheet = self.book.add_worksheet(name)
        if self.rtl:
            sheet.right_to_left()
        return sheet

    def write(
        self, sheet: Worksheet, row: int, col: int, name: str, value: Any, kind: str | None
    ) -> int:
        """Write one cell; returns the width its text needs."""
        if value is None:
            sheet.write_blank(row, col, None, self.text)
            return 0
        if kind is not None and isinstance(value, str):
            word = words.value(self.lang, kind, value) or value
            sheet.write_string(row, col, word, self.text)
            return len(word)
        if isinstance(value, bool):
            sheet.write_boolean(row, col, value, self.text)
            return 5
        if isinstance(value, int | float):
            if name in fields.FRACTIONS:
                sheet.write_number(row, col, value, self.percent)
                return 9
            sheet.write_number(row, col, value, self.integer if isinstance(value, int) else None)
            return len(str(value))
        if isinstance(value, str) and name.endswith("_at"):
            value = fields.as_timestamp(value) or value
        if isinstance(value, datetime):
            if value.year >= 1900:
                sheet.write_datetime(row, col, value, self.stamp)
                return 16
            text = fields.iso(value) or ""
            sheet.write_string(row, col, text, self.text)
            return len(text)
        day = fields.as_date(value) if name in fields.DATES or isinstance(value, date) else None
        if day is not None:
            if day.year >= 1900:
                sheet.write_datetime(row, col, datetime(day.year, day.month, day.day), self.date)
            else:
                sheet.write_string(row, col, day.isoformat(), self.text)
            return 10
        text = str(value)
        sheet.write_string(row, col, text, self.text)
        return len(text)

    def table(self, name: str, table: fields.Table) -> Worksheet:
        columns, rows, kinds = table
        sheet = self.sheet(name)
        widths = [len(column) for column in columns]
        for col, column in enumerate(columns):
            sheet.write_string(0, col, column, self.header)
        for r, values in enumerate(rows, start=1):
            for col, (column, value) in enumerate(zip(columns, values, strict=True)):
                widths[col] = max(
                    widths[col], self.write(sheet, r, col, column, value, kinds.get(column))
                )
        self._widths(sheet, widths)
        sheet.freeze_panes(1, 0)
        if rows:
            sheet.autofilter(0, 0, len(rows), len(columns) - 1)
        return sheet

    def _widths(self, sheet: Worksheet, widths: Sequence[int]) -> None:
        for col, width in enumerate(widths):
            sheet.set_column(col, col, min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH))

    def summary(self, report: Report, title: str) -> Worksheet:
        """Rows of ``field, value, label``: the heading, then the summary figures."""
        labels = words.labels(self.lang)
        sheet = self.sheet("Summary")
        widths = [len("field"), len("value"), len("label")]
        for col, column in enumerate(("field", "value", "label")):
            sheet.write_string(0, col, column, self.header)
        summary = report["summary"]
        rows: list[tuple[str, Any, str | None]] = [
            ("report", title, None),
            ("lang", self.lang, None),
            *fields.heading_fields(report),
            *(
                (name, summary.get(name), "schedule" if name == "schedule" else None)
                for name in fields.summary_fields(report)
            ),
            *fields.review_fields(report),
        ]
        for r, (name, value, kind) in enumerate(rows, start=1):
            sheet.write_string(r, 0, name, self.text)
            widths[0] = max(widths[0], len(name))
            widths[1] = max(widths[1], self.write(sheet, r, 1, name, value, kind))
            label = labels.get(_LABEL_OF.get(name, name))
            if label is not None:
                sheet.write_string(r, 2, label, self.text)
                widths[2] = max(widths[2], len(label))
        self._widths(sheet, widths)
        sheet.freeze_panes(1, 0)
        return sheet

    def chart(self, sheet: Worksheet, count: int, columns: tuple[str, ...]) -> None:
        """A bar chart of progress against expected progress per pillar, from the Pillars sheet."""
        labels = words.labels(self.lang)
        chart = self.book.add_chart({"type": "bar"})
        name_col = columns.index("pillar_name")
        for field, colour in (("progress", "#1F4E79"), ("expected_progress", "#9DC3E6")):
            col = columns.index(field)
            chart.add_series(
                {
                    "name": labels[field],
                    "categories": ["Pillars", 1, name_col, count, name_col],
                    "values": ["Pillars", 1, col, count, col],
                    "fill": {"color": colour},
                    "data_labels": {"value": True, "num_format": "0%"},
                }
            )
        chart.set_title({"name": labels["pillars"]})
        chart.set_x_axis(
            {"min": 0, "max": 1, "num_format": "0%", "major_gridlines": {"visible": True}}
        )
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 720, "height": 80 + 70 * max(count, 1)})
        sheet.insert_chart(1, 4, chart)

    def close(self) -> bytes:
        self.book.close()
        return self.out.getvalue()


_LABEL_OF = {
    "programme_id": "id",
    "partner_id": "id",
    "baseline_id": "id",
    "baseline_kind": "baseline",
    "programme_code": "programme",
    "programme_title": "programme",
    "programme_status": "status",
    "partner_code": "partner",
    "partner_name": "partner",
    "projects": "projects_count",
    "programmes": "programmes_count",
    "lang": "language",
    "last_review_held_on": "last_review",
    "next_review_held_on": "next_review",
    "last_review_committee": "committee",
    "next_review_committee": "committee",
    "last_review_format": "format",
    "next_review_format": "format",
    "last_review_status": "status",
    "next_review_status": "status",
    "baseline_name": "baseline",
    "baseline_taken_at": "taken_at",
}


def programme_xlsx(report: Report, lang: str) -> bytes:
    book = _Book(lang)
    summary = book.summary(report, words.labels(lang)["programme_report"])
    pillar_table = fields.pillar_table(report)
    book.table("Pillars", pillar_table)
    book.chart(summary, len(pillar_table[1]), pillar_table[0])
    book.table("Projects", fields.project_table(report))
    book.table("Overdue", fields.overdue_table(report))
    book.table("Upcoming", fields.upcoming_table(report))
    book.table("Actions", fields.action_table(report))
    return book.close()


def partner_xlsx(report: Report, lang: str) -> bytes:
    book = _Book(lang)
    summary = book.summary(report, words.labels(lang)["partner_report"])
    pillar_table = fields.pillar_table(report)
    book.table("Pillars", pillar_table)
    book.chart(summary, len(pillar_table[1]), pillar_table[0])
    book.table("Programmes", fields.programme_table(report))
    return book.close()


def portfolio_xlsx(report: Report, lang: str) -> bytes:
    book = _Book(lang)
    summary = book.summary(report, words.labels(lang)["portfolio_report"])
    pillar_table = fields.pillar_table(report)
    book.table("Pillars", pillar_table)
    book.chart(summary, len(pillar_table[1]), pillar_table[0])
    book.table("Partners", fields.partner_table(report))
    return book.close()
