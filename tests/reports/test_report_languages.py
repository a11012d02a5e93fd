"""Reports in English, French or Arabic: ``lang``, ``Accept-Language``, and the fallback to a
text's own language (API.md, Conventions → Rendered output)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from ipcp_api.common import i18n
from ipcp_api.models import Pillar, Programme
from tests.factories import Factory


@dataclass
class Scenario:
    programme: Programme
    partner_id: int
    pillars: dict[str, Pillar]


@pytest.fixture
async def scenario(factory: Factory, session: Any) -> Scenario:
    from sqlalchemy import select

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
        translations={"ar": {"title": "برنامج البحرين"}},
    )
    pillars = {p.code: p for p in (await session.scalars(select(Pillar))).all()}
    translated = await factory.project(
        programme_id=programme.id,
        pillar_id=pillars["emerging-challenges"].id,
        code="CT-01",
        title="Counter-terrorism course",
        translations={"ar": {"title": "دورة مكافحة الإرهاب"}, "fr": {"title": "Cours CT"}},
    )
    plain = await factory.project(
        programme_id=programme.id,
        pillar_id=pillars["political-diplomatic"].id,
        code="PD-01",
        title="Staff talks",
    )
    await factory.milestone(
        project_id=translated.id,
        title="Curriculum agreed",
        due_on=date(2017, 1, 1),
        translations={"ar": {"title": "الاتفاق على المنهج"}},
    )
    await factory.milestone(project_id=plain.id, title="First round", due_on=date(2017, 1, 20))
    return Scenario(programme, partner.id, pillars)


async def test_programme_report_in_arabic(client: httpx.AsyncClient, scenario: Scenario) -> None:
    url = f"/api/v1/programmes/{scenario.programme.id}/report"
    response = await client.get(url, params={"as_of": "2017-01-10", "lang": "ar"})
    assert response.status_code == 200, response.text
    assert response.headers["content-language"] == "ar"
    assert "Accept-Language" in response.headers["vary"]
    body = response.json()
    assert body["programme"]["title"] == "برنامج البحرين"
    assert body["programme"]["partner"]["name"] == "مملكة البحرين"
    assert [p["pillar"]["name"] for p in body["pillars"]] == [
        "التعاون السياسي والدبلوماسي",
        "تبادل الخبرات في مجالي الدفاع والأمن",
        "التعاون في مواجهة التحديات المدنية والأمنية الناشئة",
    ]
    titles = {p["code"]: p["title"] for p in body["projects"]}
    assert titles == {"CT-01": "دورة مكافحة الإرهاب", "PD-01": "Staff talks"}  # own text
    assert [m["title"] for m in body["overdue"]] == ["الاتفاق على المنهج"]
    assert [m["title"] for m in body["upcoming"]] == ["First round"]  # no translation

    english = (await client.get(url, params={"as_of": "2017-01-10"})).json()
    assert english["programme"]["title"] == "Bahrain IPCP"
    assert english["pillars"][0]["pillar"]["name"] == "Political and diplomatic cooperation"
    assert {p["title"] for p in english["projects"]} == {"Counter-terrorism course", "Staff talks"}
    # the figures do not depend on the language
    for key in ("summary", "pillars"):
        assert [_figures(r) for r in _rows(english[key])] == [_figures(r) for r in _rows(body[key])]


def _rows(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "pillar"}


async def test_programme_csv_in_arabic(client: httpx.AsyncClient, scenario: Scenario) -> None:
    url = f"/api/v1/programmes/{scenario.programme.id}/report"
    response = await client.get(
        url, params={"as_of": "2017-01-10", "lang": "ar"}, headers={"Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-language"] == "ar"
    assert "Accept-Language" in response.headers["vary"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["project_code"]: row["project_title"] for row in rows} == {
        "CT-01": "دورة مكافحة الإرهاب",
        "PD-01": "Staff talks",
    }


async def test_partner_and_portfolio_reports_in_french(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    partner = await client.get(
        f"/api/v1/partners/{scenario.partner_id}/report",
        params={"as_of": "2017-01-10", "lang": "fr"},
    )
    assert partner.status_code == 200
    assert partner.headers["content-language"] == "fr"
    body = partner.json()
    assert body["partner"]["name"] == "Royaume de Bahreïn"
    assert body["programmes"][0]["programme"]["title"] == "Bahrain IPCP"  # no French title
    assert body["pillars"][0]["pillar"]["name"] == "Coopération politique et diplomatique"

    portfolio = await client.get(
        "/api/v1/reports/portfolio",
        params={"as_of": "2017-01-10"},
        headers={"Accept": "text/csv", "Accept-Language": "fr-CA, en;q=0.5"},
    )
    assert portfolio.status_code == 200
    assert portfolio.headers["content-language"] == "fr"
    rows = list(csv.DictReader(io.StringIO(portfolio.text)))
    assert [row["partner_name"] for row in rows] == ["Royaume de Bahreïn"]


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("ar", "ar"),
        ("ar-BH", "ar"),
        ("AR-bh", "ar"),
        ("de", "en"),
        ("de-DE, fr;q=0.4, ar;q=0.7", "ar"),
        ("fr;q=0.5, ar;q=0.5", "fr"),  # equal q: the first listed
        ("ar;q=0, fr", "fr"),  # q=0: not acceptable
        ("*", "en"),
        ("de, *;q=0.1", "en"),
        ("@@@, ;;;, fr;q=abc", "en"),
        ("fr;q=2", "en"),
    ],
)
def test_accept_language(accept_language: str | None, expected: str) -> None:
    assert i18n.negotiate(None, accept_language) == expected


async def test_lang_wins_and_bad_lang_is_422(client: httpx.AsyncClient, scenario: Scenario) -> None:
    url = f"/api/v1/programmes/{scenario.programme.id}/report"
    chosen = await client.get(url, params={"lang": "fr"}, headers={"Accept-Language": "ar"})
    assert chosen.headers["content-language"] == "fr"
    by_header = await client.get(url, headers={"Accept-Language": "ar-BH, en;q=0.8"})
    assert by_header.headers["content-language"] == "ar"
    unknown = await client.get(url, headers={"Accept-Language": "de"})
    assert unknown.status_code == 200
    assert unknown.headers["content-language"] == "en"
    for bad in ("de", "xx", "english", "", "AR"):
        response = await client.get(url, params={"lang": bad})
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["loc"] == ["query", "lang"]
    for path in (f"/api/v1/partners/{scenario.partner_id}/report", "/api/v1/reports/portfolio"):
        assert (await client.get(path, params={"lang": "de"})).status_code == 422
