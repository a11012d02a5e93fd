"""Reports as files: XLSX read back with openpyxl, PDF read back with pypdf (API.md, *Languages
and formats*). The values in the files are compared with the JSON report of the same request."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
import openpyxl
import pypdf
import pytest
from sqlalchemy import select

from ipcp_api.models import Pillar, Programme
from ipcp_api.reports.render import words
from tests.factories import Factory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
AS_OF = "2017-06-30"


@dataclass
class Scenario:
    programme: Programme
    partner_id: int


@pytest.fixture
async def scenario(factory: Factory, session: Any) -> Scenario:
    partner = await factory.partner(
        kind="country",
        code="BHR",
        name="Kingdom of Bahrain",
        translations={"fr": {"name": "Royaume de Bahreïn"}, "ar": {"name": "مملكة البحرين"}},
    )
    programme = await factory.programme(
        partner_id=partner.id,
        code="BHR-IPCP-2016",
        title="Bahrain IPCP",
        translations={"ar": {"title": "برنامج البحرين"}, "fr": {"title": "PIPC Bahreïn"}},
    )
    pillars = {p.code: p for p in (await session.scalars(select(Pillar))).all()}
    ct = await factory.project(
        programme_id=programme.id,
        pillar_id=pillars["emerging-challenges"].id,
        code="CT-01",
        title="Counter-terrorism course",
        status="in_progress",
        translations={
            "ar": {"title": "دورة مكافحة الإرهاب"},
            "fr": {"title": "Cours antiterroriste"},
        },
    )
    formula = await factory.project(
        programme_id=programme.id,
        pillar_id=pillars["political-diplomatic"].id,
        code="PD-01",
        title="=1+1",
    )
    await factory.milestone(
        project_id=ct.id,
        title="Curriculum agreed",
        due_on=date(2017, 1, 1),
        weight=2,
        state="done",
        completed_on=date(2017, 2, 1),
        translations={"ar": {"title": "الاتفاق على المنهج"}},
    )
    await factory.milestone(project_id=ct.id, title="First course held", due_on=date(2017, 5, 1))
    await factory.milestone(project_id=formula.id, title="Talks", due_on=date(2017, 7, 15))
    await factory.milestone(project_id=formula.id, title="Later", due_on=date(2018, 1, 1))
    return Scenario(programme, partner.id)


def _url(scenario: Scenario) -> str:
    return f"/api/v1/programmes/{scenario.programme.id}/report"


async def _get(client: httpx.AsyncClient, url: str, **params: str) -> httpx.Response:
    response = await client.get(url, params={"as_of": AS_OF, **params})
    assert response.status_code == 200, response.text
    return response


def _book(content: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(content))


def _rows(sheet: Any) -> list[dict[str, Any]]:
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def _day(value: Any) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
async def test_programme_xlsx_holds_the_json_report(
    client: httpx.AsyncClient, scenario: Scenario, lang: str
) -> None:
    url = _url(scenario)
    report = (await _get(client, url, lang=lang)).json()
    response = await _get(client, url, lang=lang, format="xlsx")
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-language"] == lang
    assert response.headers["content-disposition"] == (
        'attachment; filename="programme-BHR-IPCP-2016-2017-06-30.xlsx"; '
        "filename*=UTF-8''programme-BHR-IPCP-2016-2017-06-30.xlsx"
    )
    book = _book(response.content)
    assert book.sheetnames == ["Summary", "Pillars", "Projects", "Overdue", "Upcoming", "Actions"]
    for sheet in book:
        assert sheet.sheet_view.rightToLeft is (True if lang == "ar" else None)
        assert sheet.freeze_panes == "A2"

    projects = book["Projects"]
    assert [c.value for c in projects[1]] == [
        "project_id",
        "project_code",
        "project_title",
        "pillar_code",
        "status",
        "milestones",
        "milestones_done",
        "milestones_overdue",
        "progress",
        "expected_progress",
        "variance",
        "schedule",
        "next_due_on",
    ]
    rows = _rows(projects)
    pillar_codes = {p["pillar"]["id"]: p["pillar"]["code"] for p in report["pillars"]}
    assert len(rows) == len(report["projects"]) == 2
    for row, project in zip(rows, report["projects"], strict=True):
        assert row["project_id"] == project["id"]
        assert row["project_code"] == project["code"]
        assert row["project_title"] == project["title"]
        assert row["pillar_code"] == pillar_codes[project["pillar_id"]]
        assert row["status"] == words.value(lang, "project_status", project["status"])
        assert row["schedule"] == words.value(lang, "schedule", project["schedule"])
        for name in ("milestones", "milestones_done", "milestones_overdue"):
            assert row[name] == project[name]
        for name in ("progress", "expected_progress", "variance"):
            assert row[name] == pytest.approx(project[name])
        assert _day(row["next_due_on"]) == _date(project["next_due_on"])
    ct = rows[[p["code"] for p in report["projects"]].index("CT-01")]
    assert ct["status"] == {"en": "In progress", "fr": "En cours", "ar": "قيد التنفيذ"}[lang]
    if lang == "ar":
        assert ct["project_title"] == "دورة مكافحة الإرهاب"

    # number formats: fractions are fractions shown as percentages, dates are dates
    progress = projects.cell(row=2, column=9)
    assert progress.data_type == "n"
    assert progress.number_format == "0.00%"
    assert projects.cell(row=2, column=13).number_format == "yyyy-mm-dd"
    assert projects.cell(row=2, column=13).is_date

    # a title that looks like a formula stays text
    formula = projects.cell(row=[r["project_code"] for r in rows].index("PD-01") + 2, column=3)
    assert formula.value == "=1+1"
    assert formula.data_type == "s"

    overdue = _rows(book["Overdue"])
    assert [
        (r["milestone_id"], r["title"], _day(r["due_on"]), r["days_overdue"]) for r in overdue
    ] == [
        (m["milestone_id"], m["title"], date.fromisoformat(m["due_on"]), m["days_overdue"])
        for m in report["overdue"]
    ]
    assert [r["project_code"] for r in overdue] == ["CT-01"]
    upcoming = _rows(book["Upcoming"])
    assert [(r["milestone_id"], _day(r["due_on"])) for r in upcoming] == [
        (m["milestone_id"], date.fromisoformat(m["due_on"])) for m in report["upcoming"]
    ]
    assert [c.value for c in book["Actions"][1]] == [
        "id",
        "review_id",
        "title",
        "owner",
        "owner_side",
        "due_on",
        "days_overdue",
    ]

    pillars = _rows(book["Pillars"])
    assert [(p["pillar_code"], p["pillar_name"]) for p in pillars] == [
        (p["pillar"]["code"], p["pillar"]["name"]) for p in report["pillars"]
    ]
    for row, pillar in zip(pillars, report["pillars"], strict=True):
        assert row["progress"] == (
            None if pillar["progress"] is None else pytest.approx(pillar["progress"])
        )
        assert row["milestones"] == pillar["milestones"]

    summary = {r["field"]: r["value"] for r in _rows(book["Summary"])}
    assert summary["programme_code"] == "BHR-IPCP-2016"
    assert summary["programme_title"] == report["programme"]["title"]
    assert summary["partner_name"] == report["programme"]["partner"]["name"]
    assert _day(summary["as_of"]) == date(2017, 6, 30)
    assert summary["progress"] == pytest.approx(report["summary"]["progress"])
    assert summary["milestones_overdue"] == report["summary"]["milestones_overdue"]
    assert summary["schedule"] == words.value(lang, "schedule", report["summary"]["schedule"])
    assert summary["lang"] == lang

    # the chart: progress against expected progress, one category per pillar
    charts = book["Summary"]._charts
    assert len(charts) == 1
    series = charts[0].series
    assert [s.val.numRef.f for s in series] == ["Pillars!$H$2:$H$4", "Pillars!$I$2:$I$4"]
    assert all(s.cat.strRef.f == "Pillars!$C$2:$C$4" for s in series)
    assert charts[0].tagname == "barChart"


@pytest.mark.parametrize("report_kind", ["partner", "portfolio"])
async def test_partner_and_portfolio_xlsx(
    client: httpx.AsyncClient, scenario: Scenario, report_kind: str
) -> None:
    url = (
        f"/api/v1/partners/{scenario.partner_id}/report"
        if report_kind == "partner"
        else "/api/v1/reports/portfolio"
    )
    report = (await _get(client, url, lang="fr")).json()
    response = await _get(client, url, lang="fr", format="xlsx")
    book = _book(response.content)
    table = "Programmes" if report_kind == "partner" else "Partners"
    assert book.sheetnames == ["Summary", "Pillars", table]
    rows = _rows(book[table])
    if report_kind == "partner":
        assert response.headers["content-disposition"].startswith(
            'attachment; filename="partner-BHR-2017-06-30.xlsx"'
        )
        assert [(r["programme_code"], r["programme_title"], r["status"]) for r in rows] == [
            (p["programme"]["code"], p["programme"]["title"], "Brouillon")
            for p in report["programmes"]
        ]
        assert rows[0]["programme_title"] == "PIPC Bahreïn"
    else:
        assert response.headers["content-disposition"].startswith(
            'attachment; filename="portfolio-2017-06-30.xlsx"'
        )
        assert [(r["partner_code"], r["partner_name"], r["programmes"]) for r in rows] == [
            (p["partner"]["code"], p["partner"]["name"], p["programmes"])
            for p in report["partners"]
        ]
        assert "Royaume de Bahreïn" in [r["partner_name"] for r in rows]
    for row, source in zip(rows, report[table.lower()], strict=True):
        assert row["progress"] == pytest.approx(source["progress"])
        assert row["schedule"] == words.value("fr", "schedule", source["schedule"])
    assert len(book["Summary"]._charts) == 1


def _without_marks(text: str) -> str:
    # harakat (tanween in «كثيرًا») are drawn as marks; extraction may drop them
    return "".join(c for c in text if not 0x064B <= ord(c) <= 0x065F)


def _pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
async def test_programme_pdf_text(client: httpx.AsyncClient, scenario: Scenario, lang: str) -> None:
    url = _url(scenario)
    report = (await _get(client, url, lang=lang)).json()
    response = await _get(client, url, lang=lang, format="pdf")
    assert response.headers["content-type"] == PDF
    assert response.headers["content-language"] == lang
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="programme-BHR-IPCP-2016-2017-06-30.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4
    text = _pdf_text(response.content)
    # codes, dates and figures read left to right in every language
    for needle in ("BHR-IPCP-2016", "2017-06-30", "CT-01", "PD-01", "2017-05-01", "=1+1"):
        assert needle in text, needle
    summary = report["summary"]
    assert str(summary["milestones"]) in text
    percent = f"{summary['progress'] * 100:.2f}".rstrip("0").rstrip(".")
    assert (percent.replace(".", ",") if lang == "fr" else percent) in text
    schedule = words.value(lang, "schedule", summary["schedule"])
    assert schedule is not None
    labels = words.labels(lang)
    if lang == "en":
        assert "Counter-terrorism course" in text
        assert "Bahrain IPCP" in text
        assert labels["programme_report"] in text
        assert schedule in text
    elif lang == "fr":
        assert "Cours antiterroriste" in text
        assert "Royaume de Bahreïn" in text
        assert "Jalons en retard" in text
    else:
        # pypdf gives Arabic words in logical order (a phrase's words may come reversed)
        for word in ("برنامج", "البحرين", "مكافحة", "الإرهاب", "المشاريع", "الملخص"):
            assert word in text, word
        bare = _without_marks(text)
        for word in schedule.split():
            assert _without_marks(word) in bare, word


async def test_pdf_prints_text_that_looks_like_markup_as_it_is(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    programme = await factory.programme(code="INJ-1", title='#eval("1+1") ] $x$ *bold* <l> @ref')
    await factory.project(programme_id=programme.id, title='#set page(paper: "a5")')
    response = await _get(client, f"/api/v1/programmes/{programme.id}/report", format="pdf")
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)
    text = _pdf_text(response.content)
    assert '#eval("1+1") ] $x$ *bold* <l> @ref' in text
    assert '#set page(paper: "a5")' in text


@pytest.mark.parametrize("report_kind", ["partner", "portfolio"])
async def test_partner_and_portfolio_pdf(
    client: httpx.AsyncClient, scenario: Scenario, report_kind: str
) -> None:
    url = (
        f"/api/v1/partners/{scenario.partner_id}/report"
        if report_kind == "partner"
        else "/api/v1/reports/portfolio"
    )
    response = await _get(client, url, lang="ar", format="pdf")
    text = _pdf_text(response.content)
    assert "BHR" in text
    assert "2017-06-30" in text
    assert "البحرين" in text
    if report_kind == "partner":
        assert "BHR-IPCP-2016" in text


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (XLSX, XLSX),
        (PDF, PDF),
        (f"{PDF}, application/json;q=0.5", PDF),
        (f"application/json;q=0.5, {XLSX}", XLSX),
    ],
)
async def test_accept_chooses_a_file(
    client: httpx.AsyncClient, scenario: Scenario, accept: str, expected: str
) -> None:
    response = await client.get(_url(scenario), params={"as_of": AS_OF}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == expected
    assert "attachment" in response.headers["content-disposition"]


@pytest.mark.parametrize("accept", ["image/png", "application/vnd.ms-excel", "text/html"])
async def test_other_media_types_are_406(
    client: httpx.AsyncClient, scenario: Scenario, accept: str
) -> None:
    response = await client.get(_url(scenario), headers={"Accept": accept})
    assert response.status_code == 406
    assert response.json()["type"] == "/problems/not-acceptable"


async def test_files_are_rendered_off_the_event_loop(
    client: httpx.AsyncClient, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ipcp_api.reports import router

    seen: list[str] = []
    real = router.render_file

    def spy(*args: Any) -> bytes:
        seen.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(router, "render_file", spy)
    await _get(client, _url(scenario), format="pdf")
    await _get(client, _url(scenario), format="xlsx")
    assert len(seen) == 2
    assert threading.main_thread().name not in seen


async def test_a_file_of_an_unknown_programme_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/programmes/999999/report", params={"format": "pdf"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_openapi_declares_the_files_as_bytes(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    for path in (
        "/api/v1/programmes/{programme_id}/report",
        "/api/v1/partners/{partner_id}/report",
        "/api/v1/reports/portfolio",
    ):
        operation = document["paths"][path]["get"]
        content = operation["responses"]["200"]["content"]
        for media in (XLSX, PDF):
            assert content[media]["schema"] == {"type": "string", "format": "binary"}, path
        (fmt,) = [p for p in operation["parameters"] if p["name"] == "format"]
        schema = fmt["schema"].get("anyOf", [fmt["schema"]])[0]
        assert schema["enum"] == ["json", "csv", "xlsx", "pdf"]
