"""The renderers follow the data: a programme report that carries the review, action and
baseline blocks (API.md, *Reviews and follow-up*, *Against a baseline*) shows them in the
XLSX and the PDF. Built from the documented sample report plus those blocks, so the renderers
are checked whatever the service produces today."""

from __future__ import annotations

import copy
import io
from datetime import date, datetime
from typing import Any

import openpyxl
import pypdf
import pytest

from ipcp_api.reports import examples
from ipcp_api.reports.render import render_file, words

BASELINE = {
    "baseline_expected_progress": 0.5,
    "variance_vs_baseline": -0.1604,
    "milestones_slipped": 3,
    "max_slip_days": 45,
    "milestones_added": 1,
    "milestones_removed": 2,
}


def _report() -> dict[str, Any]:
    report = copy.deepcopy(examples.PROGRAMME)
    report["reviews"] = {
        "last": {
            "id": 7,
            "held_on": "2017-06-01",
            "committee": {"id": 1, "code": "PCSC", "name": "Partnerships Committee"},
            "format": "allies_plus_partner",
            "format_label": "28+1",
            "status": "held",
        },
        "next": None,
        "milestones_done_since_last": 2,
    }
    report["actions"] = {
        "open": 1,
        "overdue": 1,
        "items": [
            {
                "id": 11,
                "review_id": 7,
                "title": "Send the course syllabus",
                "owner": "Ministry of Interior",
                "owner_side": "partner",
                "due_on": "2017-06-15",
                "days_overdue": 15,
            }
        ],
    }
    report["baseline"] = {
        "id": 3,
        "kind": "approval",
        "name": "As approved",
        "taken_at": "2016-05-20T09:30:00.123456Z",  # as the JSON report writes it
    }
    report["summary"].update(BASELINE)
    for row in report["pillars"] + report["projects"]:
        row.update(BASELINE)
    for item in report["overdue"] + report["upcoming"]:
        item.update({"baseline_due_on": "2017-01-31", "slip_days": 59})
    return report


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_xlsx_shows_reviews_actions_and_baseline(lang: str) -> None:
    book = openpyxl.load_workbook(io.BytesIO(render_file("programme", "xlsx", _report(), lang)))
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["last_review_held_on"] == datetime(2017, 6, 1)
    assert summary["last_review_committee"] == "PCSC"
    assert summary["last_review_format"] == "28+1"
    assert summary["last_review_status"] == words.value(lang, "review_status", "held")
    assert summary["next_review_held_on"] is None
    assert summary["milestones_done_since_last"] == 2
    assert summary["actions_open"] == 1
    assert summary["baseline_name"] == "As approved"
    assert summary["baseline_taken_at"].replace(microsecond=0) == datetime(2016, 5, 20, 9, 30)
    assert summary["variance_vs_baseline"] == pytest.approx(-0.1604)
    assert summary["max_slip_days"] == 45

    actions = list(book["Actions"].iter_rows(values_only=True))
    assert actions[1] == (
        11,
        7,
        "Send the course syllabus",
        "Ministry of Interior",
        words.value(lang, "owner_side", "partner"),
        datetime(2017, 6, 15),
        15,
    )
    projects = book["Projects"]
    header = [c.value for c in projects[1]]
    assert header[-6:] == list(BASELINE)
    cell = projects.cell(row=2, column=header.index("variance_vs_baseline") + 1)
    assert cell.number_format == "0.00%"
    overdue = [c.value for c in book["Overdue"][1]]
    assert overdue[-2:] == ["baseline_due_on", "slip_days"]
    assert [c.value for c in book["Pillars"][1]][-6:] == list(BASELINE)


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_pdf_shows_reviews_actions_and_baseline(lang: str) -> None:
    content = render_file("programme", "pdf", _report(), lang)
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages)
    for needle in ("2017-06-01", "PCSC", "28+1", "Send the course syllabus", "2016-05-20", "45"):
        assert needle in text, needle
    labels = words.labels(lang)
    if lang != "ar":  # Arabic phrases may come out word-reversed; their words are checked
        assert labels["last_review"] in text
        assert labels["actions"] in text
    else:
        for word in ("آخر", "مراجعة", "خط", "الأساس"):
            assert word in text, word


def test_a_date_before_1900_is_text_in_the_workbook() -> None:
    report = copy.deepcopy(examples.PROGRAMME)
    report["as_of"] = date(1, 1, 1)
    report["projects"][0]["next_due_on"] = "0999-12-31"
    book = openpyxl.load_workbook(io.BytesIO(render_file("programme", "xlsx", report, "en")))
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["as_of"] == "0001-01-01"
    assert book["Projects"]["M2"].value == "0999-12-31"


def test_pdfs_render_at_once_in_several_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    langs = ["en", "fr", "ar", "en", "fr", "ar"]
    with ThreadPoolExecutor(max_workers=3) as pool:
        files = list(pool.map(lambda lang: render_file("programme", "pdf", _report(), lang), langs))
    for lang, content in zip(langs, files, strict=True):
        text = pypdf.PdfReader(io.BytesIO(content)).pages[0].extract_text()
        expected = {"en": "Programme progress report", "fr": "Synthèse", "ar": "الملخص"}[lang]
        assert expected in text, lang
