"""The demo data set loads through the services, is idempotent, and tells the story it should."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from ipcp_api.demo import loader
from ipcp_api.models import (
    ActionItem,
    AuditEvent,
    Decision,
    Milestone,
    Programme,
    Project,
    Review,
)

MODELS = (Programme, Project, Milestone, Review, Decision, ActionItem, AuditEvent)


async def test_demo_loads_once_and_tells_the_story(session, client: httpx.AsyncClient) -> None:
    first = await loader.load(session)
    assert first.created["programmes"] == 5
    assert first.created["projects"] >= 12
    assert first.created["users"] == 4
    assert first.created["reviews"] == 3
    assert first.created["decisions"] >= 3
    assert first.created["action items"] >= 5
    counts = [await session.scalar(select(func.count()).select_from(m)) for m in MODELS]

    second = await loader.load(session)
    assert second.created == {}
    again = [await session.scalar(select(func.count()).select_from(m)) for m in MODELS]
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
    # the 1 June 2016 PCSC 28+1 review in Brussels (real), and what followed (illustrative)
    reviews = body["reviews"]
    assert reviews["last"]["held_on"] == "2016-06-01"
    assert reviews["last"]["format_label"] == "28+1"
    assert reviews["last"]["status"] == "closed"
    assert reviews["last"]["committee"]["code"] == "PCSC"
    assert reviews["next"]["held_on"].startswith("2017-")
    assert reviews["milestones_done_since_last"] > 0
    actions = body["actions"]
    assert actions["open"] >= 2
    assert actions["overdue"] >= 1
    assert actions["items"][0]["days_overdue"] > 0
    assert {item["owner_side"] for item in actions["items"]} == {"alliance", "partner"}
    review = (await client.get(f"/api/v1/reviews/{reviews['last']['id']}")).json()
    assert review["place"] == "Brussels"
    assert review["allies_count"] == 28
    decisions = (await client.get("/api/v1/decisions", params={"review_id": review["id"]})).json()
    pillars_decided = set()
    for decision in decisions["items"]:
        if decision["project_id"] is not None:
            project = (await client.get(f"/api/v1/projects/{decision['project_id']}")).json()
            pillars_decided.add(project["pillar_id"])
    assert len(pillars_decided) == 3
    items = (await client.get("/api/v1/action-items", params={"review_id": review["id"]})).json()
    done = [i for i in items["items"] if i["status"] == "done"]
    assert any(i["completed_on"] <= i["due_on"] for i in done)
    assert any(i["completed_on"] > i["due_on"] for i in done)
    assert [i["status"] for i in items["items"]].count("open") == 1


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


def test_every_demo_text_is_in_english_french_and_arabic() -> None:
    """Each framework, partner, programme, project and milestone of the demo has its own text
    in English and a French and an Arabic translation of every translatable field it fills;
    partner names carry no parenthesised Arabic (that is the Arabic translation's place)."""
    dataset = loader.data()
    items: list[tuple[dict, tuple[str, ...]]] = []
    items += [(fw, ("name", "description")) for fw in dataset["frameworks"]]
    items += [(partner, ("name",)) for partner in dataset["partners"]]
    for programme in dataset["programmes"]:
        items.append((programme, ("title", "description")))
        for project in programme["projects"]:
            items.append((project, ("title", "description")))
            items += [(m, ("title",)) for m in project["milestones"]]
        for review in programme.get("reviews", []):
            items.append((review, ("summary",)))
            items += [({**d, "lang": "en"}, ("text",)) for d in review["decisions"]]
            items += [({**a, "lang": "en"}, ("title",)) for a in review["action_items"]]
    for item, fields in items:
        assert item["lang"] == "en"
        for field in fields:
            if item.get(field) is None:
                continue
            assert not any("\u0600" <= c <= "\u06ff" for c in item[field]), item[field]
            for lang in ("fr", "ar"):
                assert item["translations"][lang][field], (lang, field, item[field])
    names = {p["code"]: p for p in dataset["partners"]}
    assert names["BHR"]["name"] == "Kingdom of Bahrain"
    assert names["BHR"]["translations"]["ar"]["name"] == "مملكة البحرين"
    ici = dataset["frameworks"][0]
    assert ici["translations"]["ar"]["name"] == "مبادرة إسطنبول للتعاون"
    assert ici["translations"]["fr"]["name"] == "Initiative de coopération d'Istanbul"


async def test_standard_pillars_have_french_and_arabic_names(client: httpx.AsyncClient) -> None:
    pillars = (await client.get("/api/v1/pillars", params={"sort": "position"})).json()["items"]
    standard = [
        p
        for p in pillars
        if p["code"]
        in {"political-diplomatic", "defence-security-expertise", "emerging-challenges"}
    ]
    assert len(standard) == 3
    for pillar in standard:
        assert set(pillar["translations"]) == {"fr", "ar"}
        assert pillar["translations"]["fr"]["name"]
        assert pillar["translations"]["ar"]["name"]


async def test_demo_report_against_the_approval_baseline_shows_the_slip(
    session, client: httpx.AsyncClient
) -> None:
    await loader.load(session)
    (programme,) = (
        await client.get("/api/v1/programmes", params={"code": "BHR-IPCP-2016"})
    ).json()["items"]
    (baseline,) = (await client.get(f"/api/v1/programmes/{programme['id']}/baselines")).json()[
        "items"
    ]
    assert (baseline["kind"], baseline["name"]) == ("approval", "As approved")
    assert baseline["taken_at"].startswith("2016-09-15")
    report = await client.get(
        f"/api/v1/programmes/{programme['id']}/report",
        params={"as_of": "2017-06-30", "baseline": "approval"},
    )
    assert report.status_code == 200, report.text
    summary = report.json()["summary"]
    # four milestones moved later, one added, one cancelled since the approval
    assert summary["milestones_slipped"] == 4
    assert summary["max_slip_days"] == 214  # the disaster-response exercise: 04-30 -> 11-30
    assert (summary["milestones_added"], summary["milestones_removed"]) == (1, 1)
    assert summary["variance_vs_baseline"] < summary["variance"] < 0
    slipped = [i for i in report.json()["overdue"] if i["slip_days"]]
    assert slipped, report.json()["overdue"]
