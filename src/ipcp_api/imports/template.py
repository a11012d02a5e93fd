"""The import template: an XLSX workbook with the ``projects`` and ``milestones`` sheets."""

from __future__ import annotations

import io
from datetime import date

import xlsxwriter  # type: ignore[import-untyped]

from ipcp_api.common import i18n
from ipcp_api.enums import MilestoneState, ProjectStatus
from ipcp_api.imports.reader import MAX_ROWS, MILESTONE_COLUMNS, PROJECT_COLUMNS

NOTES = {
    "projects": {
        "code": "Required. 1-32 characters, unique within the programme: the row's key.",
        "pillar_code": "Required. One of the pillar codes (drop-down list).",
        "lang": "The language of title and description (default en).",
        "title": "Required. 1-300 characters.",
        "title_fr": "The French title (optional; blank removes it).",
        "title_ar": "The Arabic title (optional; blank removes it).",
        "description": "Optional, at most 20,000 characters.",
        "lead": "Optional: the body responsible, 1-200 characters.",
        "areas": "Optional: lowercase tags separated by commas, e.g. counter-terrorism,training.",
        "starts_on": "Required. A date cell or YYYY-MM-DD, inside the programme's period.",
        "ends_on": "Required. A date cell or YYYY-MM-DD, not before starts_on, inside the period.",
        "status": "planned, in_progress, on_hold, completed or cancelled (default planned).",
    },
    "milestones": {
        "project_code": "Required. The code of a project of this sheet or of the programme.",
        "ref": "Optional stable key, 1-32 characters, unique within the project.",
        "lang": "The language of title (default en).",
        "title": "Required. 1-300 characters. Without ref, title and due_on find the row.",
        "title_fr": "The French title (optional; blank removes it).",
        "title_ar": "The Arabic title (optional; blank removes it).",
        "due_on": "Required. A date cell or YYYY-MM-DD inside the project's period.",
        "weight": "A whole number 1-100 (default 1).",
        "state": "pending, done or cancelled (default pending).",
        "completed_on": "Required when state is done, blank otherwise; not after today.",
    },
}
DATE_COLUMNS = {"starts_on", "ends_on", "due_on", "completed_on"}


def build(pillar_codes: list[str], *, lang: str) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    text = workbook.add_format({"num_format": "@"})
    lists = {
        "lang": list(i18n.languages()),
        "pillar_code": pillar_codes,
        "status": [s.value for s in ProjectStatus],
        "state": [s.value for s in MilestoneState],
    }
    sheets = {name: workbook.add_worksheet(name) for name in ("projects", "milestones")}
    # the drop-down values live on a hidden sheet (a list typed into the rule is capped at 255
    # characters); the reader reads only the two named sheets
    hidden = workbook.add_worksheet("lists")
    sources: dict[str, str] = {}
    for index, (column, values) in enumerate(lists.items()):
        hidden.write_string(0, index, column)
        for offset, value in enumerate(values, start=1):
            hidden.write_string(offset, index, value)
        letter = chr(ord("A") + index)
        sources[column] = f"=lists!${letter}$2:${letter}${max(len(values), 1) + 1}"
    hidden.hide()
    for name, columns in (("projects", PROJECT_COLUMNS), ("milestones", MILESTONE_COLUMNS)):
        sheet = sheets[name]
        if lang == "ar":
            sheet.right_to_left()
        sheet.freeze_panes(1, 0)
        for index, column in enumerate(columns):
            sheet.write_string(0, index, column, header)
            sheet.write_comment(0, index, NOTES[name][column], {"x_scale": 2, "y_scale": 1.5})
            fmt = dates if column in DATE_COLUMNS else None if column == "weight" else text
            sheet.set_column(index, index, 14 if column in DATE_COLUMNS else 22, fmt)
            if lists.get(column):
                sheet.data_validation(
                    1,
                    index,
                    MAX_ROWS,
                    index,
                    {"validate": "list", "source": sources[column], "ignore_blank": True},
                )
            elif column in DATE_COLUMNS:
                sheet.data_validation(
                    1,
                    index,
                    MAX_ROWS,
                    index,
                    {
                        "validate": "date",
                        "criteria": "between",
                        "minimum": date(1900, 1, 1),
                        "maximum": date(9999, 12, 31),
                        "error_type": "warning",
                        "input_message": "YYYY-MM-DD",
                    },
                )
            elif column == "weight":
                sheet.data_validation(
                    1,
                    index,
                    MAX_ROWS,
                    index,
                    {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 100},
                )
            elif column == "project_code":
                sheet.data_validation(
                    1,
                    index,
                    MAX_ROWS,
                    index,
                    {
                        "validate": "list",
                        "source": f"=projects!$A$2:$A${MAX_ROWS + 1}",
                        "error_type": "warning",
                        "ignore_blank": True,
                    },
                )
    workbook.close()
    return out.getvalue()
