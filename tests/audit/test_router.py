from __future__ import annotations

from typing import Any

import httpx
import pytest

from ipcp_api.models import AuditEvent

URL = "/api/v1/audit"


async def test_changes_are_listed_newest_first(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/frameworks", json={"code": "ICI", "name": "Istanbul"})
    assert created.status_code == 201
    fw_id = created.json()["id"]
    url = f"/api/v1/frameworks/{fw_id}"
    assert (await client.patch(url, json={"name": "Istanbul CI"})).status_code == 200
    assert (await client.delete(url)).status_code == 204

    response = await client.get(URL, params={"entity": "frameworks", "entity_id": fw_id})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    page = response.json()
    assert page["total"] == 3
    assert page["limit"] == 50
    assert page["next_cursor"] is None
    items = page["items"]
    assert [e["action"] for e in items] == ["delete", "update", "create"]
    assert items[0]["id"] > items[1]["id"] > items[2]["id"]
    for event in items:
        assert set(event) == {"id", "at", "user_id", "action", "entity", "entity_id", "changes"}
        assert event["entity"] == "frameworks"
        assert event["entity_id"] == fw_id
        assert event["user_id"] == client.user.id
        assert event["at"].endswith(("Z", "+00:00"))
    delete, update, create = items
    assert create["changes"] == {
        "code": [None, "ICI"],
        "name": [None, "Istanbul"],
        "launched_on": [None, None],
        "description": [None, None],
        "lang": [None, "en"],
        "translations": [None, {}],
    }
    assert update["changes"] == {"name": ["Istanbul", "Istanbul CI"]}
    assert delete["changes"]["name"] == ["Istanbul CI", None]
    assert delete["changes"]["code"] == ["ICI", None]


async def test_filters_combine(client: httpx.AsyncClient, client_for, session) -> None:
    staff = await client_for("staff")
    a = (await client.post("/api/v1/frameworks", json={"code": "AAA", "name": "A"})).json()
    b = (await staff.post("/api/v1/frameworks", json={"code": "BBB", "name": "B"})).json()
    session.add(
        AuditEvent(user_id=None, action="create", entity="users", entity_id=a["id"], changes={})
    )
    await session.flush()

    async def ids(**params: Any) -> list[tuple[str, int, int | None]]:
        response = await client.get(URL, params=params)
        assert response.status_code == 200, (params, response.text)
        body = response.json()
        assert body["total"] == len(body["items"])
        return [(e["entity"], e["entity_id"], e["user_id"]) for e in body["items"]]

    assert await ids(entity="frameworks", user_id=staff.user.id) == [
        ("frameworks", b["id"], staff.user.id)
    ]
    assert await ids(entity="frameworks", entity_id=a["id"]) == [
        ("frameworks", a["id"], client.user.id)
    ]
    assert await ids(entity="users", entity_id=a["id"]) == [("users", a["id"], None)]
    assert await ids(entity_id=a["id"], user_id=staff.user.id) == []
    assert await ids(entity="programmes") == []
    assert await ids(user_id=999_999_999) == []


async def test_pagination_and_link(client: httpx.AsyncClient, session) -> None:
    for i in range(5):
        session.add(
            AuditEvent(
                user_id=None,
                action="update",
                entity="pillars",
                entity_id=7,
                changes={"n": [i, i + 1]},
            )
        )
    await session.flush()
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"entity": "pillars", "entity_id": 7, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(URL, params=params)
        assert response.status_code == 200
        body = response.json()
        assert body["total"] == 5
        seen += [e["changes"]["n"][0] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            break
        link = response.headers["link"]
        assert 'rel="next"' in link
        assert "entity=pillars" in link
    assert seen == [4, 3, 2, 1, 0]


@pytest.mark.parametrize(
    "params",
    [
        {"entity": "widgets"},
        {"entity": "Programmes"},
        {"entity": "audit_events"},
        {"entity": ""},
        {"entity_id": "x"},
        {"entity_id": 0},
        {"entity_id": 2**63},
        {"user_id": "me"},
        {"user_id": -1},
        {"action": "create"},
        {"sort": "id"},
        {"limit": 0},
        {"limit": 201},
        {"cursor": "garbage"},
    ],
)
async def test_bad_parameters_are_422(client: httpx.AsyncClient, params) -> None:
    response = await client.get(URL, params=params)
    assert response.status_code == 422, params
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]


@pytest.mark.parametrize(
    "entity",
    ["frameworks", "partners", "pillars", "programmes", "projects", "milestones", "users"],
)
async def test_every_collection_is_a_valid_entity(client: httpx.AsyncClient, entity) -> None:
    assert (await client.get(URL, params={"entity": entity})).status_code == 200


async def test_staff_may_read(client_for) -> None:
    staff = await client_for("staff")
    assert (await staff.get(URL)).status_code == 200


@pytest.mark.parametrize("role", ["liaison", "viewer"])
async def test_liaison_and_viewer_get_403(client_for, factory, role) -> None:
    partner = await factory.partner()
    user_client = await client_for(role, partner.id)
    response = await user_client.get(URL)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert (await user_client.get(URL, params={"entity": "partners"})).status_code == 403


async def test_no_token_is_401(anon: httpx.AsyncClient) -> None:
    response = await anon.get(URL)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_read_only(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


@pytest.mark.parametrize("n", [1, 100])
async def test_statement_budget(client: httpx.AsyncClient, session, statements, n) -> None:
    for i in range(n):
        session.add(
            AuditEvent(
                user_id=None,
                action="create",
                entity="projects",
                entity_id=424242,
                changes={"i": [None, i]},
            )
        )
    await session.flush()
    statements.reset()
    response = await client.get(
        URL, params={"entity": "projects", "entity_id": 424242, "limit": 200}
    )
    assert response.status_code == 200
    assert response.json()["total"] == n
    assert len(response.json()["items"]) == n
    assert statements.count <= 4, statements.statements


async def test_openapi(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"][URL]["get"]
    assert operation["operationId"] == "listAuditEvents"
    assert {"401", "403", "422"} <= set(operation["responses"])
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"entity", "entity_id", "user_id", "limit", "cursor"}
