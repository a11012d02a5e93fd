"""The demo data set loads through the services, is idempotent, and tells the story it should."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from ipcp_api.demo import loader
from ipcp_api.models import AuditEvent, Milestone, Programme, Project


async def test_demo_loads_once_and_tells_the_story(session, client: httpx.AsyncClient) -> None:
    first = await loader.load(session)
    assert first.created["programmes"] == 5
    assert first.created["projects"] >= 12
    assert first.created["users"] == 4
    counts = [
        await session.scalar(select(func.count()).select_from(m))
        for m in (Programme, Project, Milestone, AuditEvent)
    ]

    second = await loader.load(session)
    assert second.created == {}
    again = [
        await session.scalar(select(func.count()).select_from(m))
        for m in (Programme, Project, Milestone, AuditEvent)
    ]
    assert again == counts, "a second run changes nothing"

    bahrain = (await client.get("/api/v1/partners", params={"q": "البحرين"})).json()
    assert [p["code"] for p in bahrain["items"]] == ["BHR"]
    assert bahrain["items"][0]["memberships"][0]["joined_on"] == "2005-02-01"
    assert "2004" in bahrain["items"][0]["memberships"][0]["note"]

    programmes = (await client.get("/api/v1/programmes", params={"q": "BHR-IPCP-2016"})).json()
    (programme,) = programmes["items"]
    assert programme["status"] == "completed"
    assert programme["approved_on"] == "2016-09-15"
    assert (programme["starts_on"], programme["ends_on"]) == ("2016-06-01", "2018-06-30")

    report = await client.get(
        f"/api/v1/programmes/{programme['id']}/report", params={"as_of": "2017-06-30"}
    )
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["summary"]["variance"] < 0
    assert body["summary"]["milestones_overdue"] > 0
    assert {p["schedule"] for p in body["projects"]} >= {
        "late",
        "behind",
        "on_track",
        "not_planned",
    }
    assert [p["pillar"]["code"] for p in body["pillars"]] == [
        "political-diplomatic",
        "defence-security-expertise",
        "emerging-challenges",
    ]


async def test_demo_accounts_can_sign_in(session, anon: httpx.AsyncClient) -> None:
    result = await loader.load(session)
    liaison = next(u for u in result.users if u["role"] == "liaison")
    token = await anon.post(
        "/api/v1/auth/token",
        data={"username": liaison["username"], "password": liaison["password"]},
    )
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    partners = (await anon.get("/api/v1/partners", headers=headers)).json()
    assert [p["code"] for p in partners["items"]] == ["BHR"]
