from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ipcp_api.models import AuditEvent, Pillar

URL = "/api/v1/pillars"
STANDARD = [
    (1, "political-diplomatic", "Political and diplomatic cooperation"),
    (2, "defence-security-expertise", "Exchange of expertise in defence and security"),
    (3, "emerging-challenges", "Cooperation on emerging civil and security challenges"),
]


async def _state(session: Any) -> list[tuple[Any, ...]]:
    rows = (
        await session.execute(
            select(
                Pillar.id,
                Pillar.code,
                Pillar.name,
                Pillar.description,
                Pillar.position,
                Pillar.version,
            ).order_by(Pillar.id)
        )
    ).all()
    return [tuple(r) for r in rows]


async def _events(session: Any, pillar_id: int) -> list[AuditEvent]:
    return list(
        (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "pillars", AuditEvent.entity_id == pillar_id)
                .order_by(AuditEvent.id)
            )
        ).all()
    )


async def _create(session: Any, n: int, prefix: str = "extra") -> list[Pillar]:
    pillars = [Pillar(code=f"{prefix}-{i}", name=f"Extra {i}", position=10 + i) for i in range(n)]
    session.add_all(pillars)
    await session.flush()
    return pillars


async def test_standard_pillars_exist(client: httpx.AsyncClient) -> None:
    response = await client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert body["next_cursor"] is None
    assert [(p["position"], p["code"], p["name"]) for p in body["items"]] == STANDARD
    for item in body["items"]:
        assert item["version"] == 1
        got = await client.get(f"{URL}/{item['id']}")
        assert got.status_code == 200
        assert got.json() == item


async def test_create_get_list(client: httpx.AsyncClient, session) -> None:
    body = {
        "code": "capacity-building",
        "name": "بناء القدرات",
        "description": "Training «تدريب» and education",
        "position": 4,
    }
    created = await client.post(URL, json=body)
    assert created.status_code == 201, created.text
    data = created.json()
    assert created.headers["location"] == f"{URL}/{data['id']}"
    assert created.headers["etag"] == '"1"'
    assert {k: data[k] for k in body} == body
    assert data["version"] == 1
    got = await client.get(created.headers["location"])
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert got.headers["cache-control"] == "no-store"
    assert got.json() == data
    listed = (await client.get(URL)).json()
    assert listed["total"] == 4
    assert [p["code"] for p in listed["items"]][-1] == "capacity-building"
    # description defaults to null
    minimal = await client.post(URL, json={"code": "xy", "name": "x", "position": 1})
    assert minimal.status_code == 201
    assert minimal.json()["description"] is None
    [event] = await _events(session, data["id"])
    assert event.action == "create"
    assert event.changes == {k: [None, v] for k, v in body.items()} | {
        "lang": [None, "en"],
        "translations": [None, {}],
    }


async def test_ids(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{URL}/999999")).status_code == 404
    assert (await client.get(f"{URL}/99999999999999999999999")).status_code == 404
    assert (await client.get(f"{URL}/-1")).status_code == 404
    assert (await client.get(f"{URL}/abc")).status_code == 422


async def test_invalid_bodies(client: httpx.AsyncClient, session) -> None:
    good = {"code": "new-pillar", "name": "New", "position": 4}
    cases: list[dict[str, Any]] = [
        {**good, "code": "New-Pillar"},
        {**good, "code": "new_pillar"},
        {**good, "code": "n"},
        {**good, "code": "a" * 65},
        {**good, "code": "nouvelle-é"},
        {**good, "code": None},
        {**good, "name": ""},
        {**good, "name": "x" * 201},
        {**good, "name": "a\x00b"},
        {**good, "name": 5},
        {**good, "name": None},
        {**good, "description": "x" * 5001},
        {**good, "description": "a\x00b"},
        {**good, "description": 1},
        {**good, "position": 0},
        {**good, "position": -1},
        {**good, "position": "4"},
        {**good, "position": 4.5},
        {**good, "position": True},
        {**good, "position": 2**31},
        {**good, "position": None},
        {**good, "id": 5},
        {**good, "version": 1},
        {**good, "colour": "red"},
        {"name": "New", "position": 4},
        {"code": "new-pillar", "position": 4},
        {"code": "new-pillar", "name": "New"},
    ]
    before = await _state(session)
    for body in cases:
        response = await client.post(URL, json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"], body
    malformed = await client.post(
        URL, content=b'{"code": "x', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    clash = await client.post(URL, json={**good, "code": "political-diplomatic"})
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["loc"] == ["body", "code"]
    assert await _state(session) == before
    # the boundaries themselves are fine
    ok = await client.post(
        URL, json={"code": "a" * 64, "name": "x" * 200, "position": 2**31 - 1, "description": ""}
    )
    assert ok.status_code == 201, ok.text


async def test_patch_is_a_merge_patch(client: httpx.AsyncClient, session) -> None:
    [pillar] = await _create(session, 1)
    pillar.description = "d"
    await session.flush()
    url = f"{URL}/{pillar.id}"
    version = pillar.version
    response = await client.patch(
        url, json={"description": None}, headers={"If-Match": f'"{version}"'}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["description"] is None
    assert body["code"] == pillar.code
    assert body["position"] == 10
    assert body["version"] == version + 1
    assert response.headers["etag"] == f'"{version + 1}"'
    # nothing changes: 200 and the same version
    same = await client.patch(url, json={"position": 10, "description": None})
    assert same.status_code == 200
    assert same.json()["version"] == version + 1
    moved = await client.patch(url, json={"position": 2, "name": "Moved"})
    assert moved.status_code == 200
    assert (moved.json()["position"], moved.json()["name"]) == (2, "Moved")
    before = await _state(session)
    for bad in (
        {"name": None},
        {"code": None},
        {"position": None},
        {"position": 0},
        {"position": "2"},
        {"code": "Bad Code"},
        {"id": 3},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"unknown": 1},
        {"name": ""},
    ):
        assert (await client.patch(url, json=bad)).status_code == 422, bad
    clash = await client.patch(url, json={"code": "emerging-challenges"})
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["loc"] == ["body", "code"]
    stale = await client.patch(url, json={"name": "New"}, headers={"If-Match": f'"{version}"'})
    assert stale.status_code == 412
    assert await _state(session) == before
    events = await _events(session, pillar.id)
    assert [e.changes for e in events] == [
        {"description": ["d", None]},
        {"name": ["Extra 0", "Moved"], "position": [10, 2]},
    ]


async def test_delete_pillar_used_by_projects_is_409(
    client: httpx.AsyncClient, factory, session
) -> None:
    pillar = await factory.pillar(2)
    await factory.project(pillar_id=pillar.id)
    before = await _state(session)
    response = await client.delete(f"{URL}/{pillar.id}")
    assert response.status_code == 409
    assert "projects" in response.json()["detail"]
    assert await _state(session) == before
    assert await _events(session, pillar.id) == []


async def test_q_and_sort(client: httpx.AsyncClient, session) -> None:
    session.add_all(
        [
            Pillar(code="aa-first", name="Zulu", description="الدفاع المدني", position=2),
            Pillar(code="zz-last", name="Alpha", description=None, position=1),
        ]
    )
    await session.flush()

    async def codes(**params: Any) -> list[str]:
        response = await client.get(URL, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"])
        return [p["code"] for p in body["items"]]

    # position, ties broken by id (the standard pillars were created first)
    assert await codes() == [
        "political-diplomatic",
        "zz-last",
        "defence-security-expertise",
        "aa-first",
        "emerging-challenges",
    ]
    assert await codes(sort="-position") == [
        "emerging-challenges",
        "aa-first",
        "defence-security-expertise",
        "zz-last",
        "political-diplomatic",
    ]
    assert await codes(sort="code") == [
        "aa-first",
        "defence-security-expertise",
        "emerging-challenges",
        "political-diplomatic",
        "zz-last",
    ]
    assert (await codes(sort="name"))[0] == "zz-last"
    assert (await codes(sort="-name"))[0] == "aa-first"
    # q: code, name and description, case-insensitive, any script
    assert await codes(q="DEFENCE") == ["defence-security-expertise"]
    assert await codes(q="zulu") == ["aa-first"]
    # ... and every translation: the Arabic name of emerging-challenges holds «المدنية»
    assert await codes(q="المدني") == ["aa-first", "emerging-challenges"]
    assert await codes(q="cooperation") == ["political-diplomatic", "emerging-challenges"]
    assert await codes(q="nothing like it") == []


async def test_pagination(client: httpx.AsyncClient) -> None:
    first = await client.get(URL, params={"limit": 2})
    assert first.json()["total"] == 3
    assert 'rel="next"' in first.headers["link"]
    cursor = first.json()["next_cursor"]
    second = (await client.get(URL, params={"limit": 2, "cursor": cursor})).json()
    assert [p["position"] for p in first.json()["items"] + second["items"]] == [1, 2, 3]
    assert second["next_cursor"] is None


async def test_bad_list_parameters_are_422(client: httpx.AsyncClient) -> None:
    for params in (
        {"sort": "description"},
        {"sort": "id"},
        {"limit": 0},
        {"limit": 201},
        {"cursor": "garbage"},
        {"position": 1},
        {"q": "a\x00b"},
    ):
        response = await client.get(URL, params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"], params


@pytest.mark.parametrize(
    ("role", "bound"), [("liaison", True), ("viewer", True), ("viewer", False)]
)
async def test_everyone_reads_only_admin_and_staff_write(
    client_for, factory, session, role: str, bound: bool
) -> None:
    partner = await factory.partner()
    caller = await client_for(role, partner.id if bound else None)
    listed = await caller.get(URL)
    assert listed.status_code == 200
    assert listed.json()["total"] == 3
    pillar = listed.json()["items"][0]
    assert (await caller.get(f"{URL}/{pillar['id']}")).status_code == 200
    before = await _state(session)
    body = {"code": "new-pillar", "name": "New", "position": 4}
    assert (await caller.post(URL, json=body)).status_code == 403
    assert (await caller.patch(f"{URL}/{pillar['id']}", json={"name": "x"})).status_code == 403
    assert (await caller.delete(f"{URL}/{pillar['id']}")).status_code == 403
    assert await _state(session) == before


async def test_staff_writes(client_for) -> None:
    staff = await client_for("staff")
    created = await staff.post(URL, json={"code": "new-pillar", "name": "New", "position": 4})
    assert created.status_code == 201
    url = created.headers["location"]
    assert (await staff.patch(url, json={"position": 5})).json()["position"] == 5
    assert (await staff.delete(url)).status_code == 204


async def test_no_token_is_401(anon: httpx.AsyncClient) -> None:
    assert (await anon.get(URL)).status_code == 401


@pytest.mark.parametrize("extra", [0, 97])
async def test_statement_budget(client: httpx.AsyncClient, session, statements, extra: int) -> None:
    await _create(session, extra)
    total = await session.scalar(select(func.count()).select_from(Pillar))
    statements.reset()
    response = await client.get(URL, params={"limit": 200})
    assert response.status_code == 200
    assert response.json()["total"] == total == 3 + extra
    assert statements.count <= 4, statements.statements
    statements.reset()
    response = await client.get(f"{URL}/{response.json()['items'][0]['id']}")
    assert response.status_code == 200
    assert statements.count <= 2, statements.statements
