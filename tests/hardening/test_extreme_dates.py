"""Dates 0001-01-01 and 9999-12-31 are stored and read back exactly, and every read and
report keeps working for everyone (issue 14, item 1)."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.db.session import decode_date, encode_date

MIN, MAX = "0001-01-01", "9999-12-31"


def test_codec_round_trips_the_extremes() -> None:
    from datetime import date

    for value in (date.min, date.max, date(2000, 1, 1), date(1999, 12, 31), date(2016, 2, 29)):
        assert decode_date(encode_date(value)) == value
    # the extremes are not PostgreSQL's infinities (0x7fffffff / -0x80000000 days)
    assert encode_date(date.max) != b"\x7f\xff\xff\xff"
    assert encode_date(date.min) != b"\x80\x00\x00\x00"


async def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def extreme(client: httpx.AsyncClient, client_for: Any) -> dict[str, Any]:
    """What the review did: a liaison's draft programme, project and pending milestones at
    the extremes, plus a framework launched and a membership joined at the extremes."""
    framework = await _created(
        await client.post(
            "/api/v1/frameworks", json={"code": "XTR", "name": "Extreme", "launched_on": MIN}
        )
    )
    partner = await _created(
        await client.post(
            "/api/v1/partners",
            json={
                "code": "XTR-ORG",
                "kind": "organisation",
                "name": "Extreme partner",
                "memberships": [{"framework_id": framework["id"], "joined_on": MAX}],
            },
        )
    )
    liaison = await client_for("liaison", partner_id=partner["id"])
    pillars = (await client.get("/api/v1/pillars")).json()["items"]
    programme = await _created(
        await liaison.post(
            "/api/v1/programmes",
            json={
                "partner_id": partner["id"],
                "code": "XTR-IPCP-0001",
                "title": "From the first day to the last",
                "starts_on": MIN,
                "ends_on": MAX,
            },
        )
    )
    project = await _created(
        await liaison.post(
            "/api/v1/projects",
            json={
                "programme_id": programme["id"],
                "pillar_id": pillars[0]["id"],
                "code": "P1",
                "title": "Always",
                "starts_on": MIN,
                "ends_on": MAX,
            },
        )
    )
    first = await _created(
        await liaison.post(
            "/api/v1/milestones",
            json={"project_id": project["id"], "title": "First", "due_on": MIN},
        )
    )
    last = await _created(
        await liaison.post(
            "/api/v1/milestones",
            json={"project_id": project["id"], "title": "Last", "due_on": MAX, "weight": 3},
        )
    )
    return {
        "framework": framework,
        "partner": partner,
        "programme": programme,
        "project": project,
        "milestones": [first, last],
        "liaison": liaison,
    }


async def test_extremes_are_stored_exactly(
    extreme: dict[str, Any], client: httpx.AsyncClient, session: AsyncSession
) -> None:
    assert extreme["programme"]["starts_on"] == MIN
    assert extreme["programme"]["ends_on"] == MAX
    finite = (
        await session.execute(
            text(
                "SELECT bool_and(isfinite(starts_on) AND isfinite(ends_on)),"
                " min(starts_on)::text, max(ends_on)::text FROM programmes WHERE id = :id"
            ),
            {"id": extreme["programme"]["id"]},
        )
    ).one()
    assert tuple(finite) == (True, MIN, MAX)
    stored = await session.scalar(
        text(
            "SELECT array_agg(due_on::text ORDER BY due_on) FROM milestones WHERE project_id = :p"
        ),
        {"p": extreme["project"]["id"]},
    )
    assert stored == [MIN, MAX]
    got = (await client.get(f"/api/v1/frameworks/{extreme['framework']['id']}")).json()
    assert got["launched_on"] == MIN
    got = (await client.get(f"/api/v1/partners/{extreme['partner']['id']}")).json()
    assert got["memberships"][0]["joined_on"] == MAX


def _reads(extreme: dict[str, Any]) -> list[str]:
    programme, partner = extreme["programme"]["id"], extreme["partner"]["id"]
    project, milestone = extreme["project"]["id"], extreme["milestones"][0]["id"]
    return [
        "/api/v1/frameworks",
        f"/api/v1/frameworks/{extreme['framework']['id']}",
        "/api/v1/partners",
        f"/api/v1/partners/{partner}",
        "/api/v1/pillars",
        "/api/v1/programmes",
        f"/api/v1/programmes?active_on={MIN}",
        f"/api/v1/programmes?active_on={MAX}",
        "/api/v1/programmes?sort=-ends_on",
        f"/api/v1/programmes/{programme}",
        "/api/v1/projects",
        "/api/v1/projects?sort=starts_on",
        f"/api/v1/projects/{project}",
        "/api/v1/milestones",
        "/api/v1/milestones?overdue=true",
        "/api/v1/milestones?overdue=false&sort=-due_on",
        f"/api/v1/milestones?due_after={MIN}",
        f"/api/v1/milestones?due_before={MAX}",
        f"/api/v1/milestones/{milestone}",
    ]


def _reports(extreme: dict[str, Any]) -> list[str]:
    programme, partner = extreme["programme"]["id"], extreme["partner"]["id"]
    paths = [
        f"/api/v1/programmes/{programme}/report",
        f"/api/v1/partners/{partner}/report",
        "/api/v1/reports/portfolio",
    ]
    return [
        f"{path}{sep}"
        for path in paths
        for sep in ("", f"?as_of={MIN}", f"?as_of={MAX}", "?as_of=2017-06-30")
    ]


@pytest.mark.parametrize("role", ["admin", "staff", "liaison"])
async def test_every_read_and_report_works_for_everyone(
    role: str, extreme: dict[str, Any], client: httpx.AsyncClient, client_for: Any
) -> None:
    caller = {
        "admin": client,
        "staff": await client_for("staff"),
        "liaison": extreme["liaison"],
    }[role]
    reads = _reads(extreme)
    if role in {"admin", "staff"}:
        reads.append("/api/v1/audit")
    if role == "admin":
        reads.append("/api/v1/users")
    for path in reads:
        response = await caller.get(path)
        assert response.status_code == 200, (path, response.text)
    project = (await caller.get(f"/api/v1/projects/{extreme['project']['id']}")).json()
    assert (project["starts_on"], project["ends_on"]) == (MIN, MAX)
    assert project["progress"] == 0
    for path in _reports(extreme):
        response = await caller.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["summary"]["milestones"] >= 2, path
        response = await caller.get(path, headers={"Accept": "text/csv"})
        assert response.status_code == 200, (path, response.text)
        rows = list(csv.reader(io.StringIO(response.text)))
        assert len(rows) >= 2, path


async def test_programme_report_at_the_extremes(
    extreme: dict[str, Any], client: httpx.AsyncClient
) -> None:
    url = f"/api/v1/programmes/{extreme['programme']['id']}/report"
    at_max = (await client.get(url, params={"as_of": MAX})).json()
    # the first milestone is overdue by every day there is; the last one is due that day
    assert at_max["overdue"] == [
        {
            "milestone_id": extreme["milestones"][0]["id"],
            "project_id": extreme["project"]["id"],
            "title": "First",
            "due_on": MIN,
            "days_overdue": 3652058,
        }
    ]
    assert at_max["summary"]["expected_progress"] == 1
    at_min = (await client.get(url, params={"as_of": MIN})).json()
    assert at_min["summary"]["expected_progress"] == 0.25
    assert at_min["overdue"] == []


async def test_an_infinite_date_is_refused_by_the_database(
    extreme: dict[str, Any], session: AsyncSession
) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError, match="milestones_due_on_finite_check"):
        async with session.begin_nested():
            await session.execute(
                text("UPDATE milestones SET due_on = 'infinity' WHERE id = :id"),
                {"id": extreme["milestones"][1]["id"]},
            )


async def test_a_data_exception_on_a_read_is_a_logged_500(
    extreme: dict[str, Any],
    client: httpx.AsyncClient,
    session: AsyncSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Should an infinite date get in anyway (the CHECK dropped by hand, say), a read that
    trips on it is the server's defect: 500 with the request id, logged — not a 422 that
    blames the body of a GET. (All inside the test's transaction: rolled back after.)"""
    await session.execute(
        text("ALTER TABLE milestones DROP CONSTRAINT milestones_due_on_finite_check")
    )
    await session.execute(
        text("UPDATE milestones SET due_on = '-infinity' WHERE id = :id"),
        {"id": extreme["milestones"][0]["id"]},
    )
    response = await client.get(
        f"/api/v1/programmes/{extreme['programme']['id']}/report",
        params={"as_of": "2017-06-30"},
        headers={"X-Request-ID": "extreme-dates-1"},
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["request_id"] == "extreme-dates-1"
    assert "errors" not in body
    assert "infinite" not in response.text  # no database text leaks
    assert any("extreme-dates-1" in record.getMessage() for record in caplog.records)
