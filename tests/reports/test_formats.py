"""``format=json|csv`` on the reports (API.md, *Formats*): the parameter wins over ``Accept``,
CSV comes as a download named for the report, XLSX and PDF are not offered yet (406)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from ipcp_api.common.http import content_disposition
from ipcp_api.reports import examples
from ipcp_api.reports.schemas import PartnerReport, PortfolioReport, ProgrammeReport

JSON = "application/json"
CSV = "text/csv; charset=utf-8"


@pytest.fixture
async def urls(factory: Any) -> dict[str, str]:
    partner = await factory.partner(code="BHR", kind="country", name="Kingdom of Bahrain")
    programme = await factory.programme(partner_id=partner.id, code="BHR-IPCP-2016")
    return {
        "programme": f"/api/v1/programmes/{programme.id}/report",
        "partner": f"/api/v1/partners/{partner.id}/report",
        "portfolio": "/api/v1/reports/portfolio",
    }


FILENAMES = {
    "programme": "programme-BHR-IPCP-2016-2017-06-30.csv",
    "partner": "partner-BHR-2017-06-30.csv",
    "portfolio": "portfolio-2017-06-30.csv",
}


@pytest.mark.parametrize("report", ["programme", "partner", "portfolio"])
@pytest.mark.parametrize(
    ("fmt", "accept", "expected"),
    [
        ("csv", None, CSV),
        ("csv", "application/json", CSV),
        ("csv", "image/png", CSV),  # the parameter decides: Accept is not consulted
        ("json", "text/csv", JSON),
        ("json", None, JSON),
    ],
)
async def test_format_takes_precedence_over_accept(
    client: httpx.AsyncClient,
    urls: dict[str, str],
    report: str,
    fmt: str,
    accept: str | None,
    expected: str,
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = await client.get(
        urls[report], params={"format": fmt, "as_of": "2017-06-30"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == expected
    assert response.headers["vary"] == "Accept, Accept-Language"
    if expected == CSV:
        name = FILENAMES[report]
        assert response.headers["content-disposition"] == (
            f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
        )
        assert response.text.split("\r\n", 1)[0].split(",")[-1] in {"schedule", "next_due_on"}
    else:
        assert "content-disposition" not in response.headers
        assert response.json()["as_of"] == "2017-06-30"


@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
async def test_formats_not_offered_yet_are_406(
    client: httpx.AsyncClient, urls: dict[str, str], fmt: str
) -> None:
    for url in urls.values():
        response = await client.get(url, params={"format": fmt})
        assert response.status_code == 406, response.text
        assert response.json()["type"] == "/problems/not-acceptable"
        assert "not offered yet" in response.json()["detail"]


@pytest.mark.parametrize("fmt", ["xml", "CSV", "", "json "])
async def test_an_unknown_format_is_422(
    client: httpx.AsyncClient, urls: dict[str, str], fmt: str
) -> None:
    response = await client.get(urls["programme"], params={"format": fmt})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["query", "format"]


def test_a_non_ascii_file_name_keeps_both_forms() -> None:
    assert content_disposition('تقرير "1".csv') == (
        'attachment; filename="_____ _1_.csv"; '
        "filename*=UTF-8''%D8%AA%D9%82%D8%B1%D9%8A%D8%B1%20%221%22.csv"
    )


@pytest.mark.parametrize(
    ("example", "schema"),
    [
        (examples.PROGRAMME, ProgrammeReport),
        (examples.PARTNER, PartnerReport),
        (examples.PORTFOLIO, PortfolioReport),
    ],
)
def test_the_sample_reports_in_the_document_are_valid_reports(
    example: dict[str, Any], schema: type[BaseModel]
) -> None:
    # Swagger UI and ReDoc show these as the sample answers: they must be real ones
    assert schema.model_validate(example).model_dump(mode="json") == example
    summary = example["summary"]
    assert summary["variance"] == round(summary["progress"] - summary["expected_progress"], 4)
    assert summary["schedule"] == "late"
    assert summary["milestones_overdue"] > 0
