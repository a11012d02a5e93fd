from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ipcp_api.auth.security import verify_password
from ipcp_api.models import AuditEvent, User

URL = "/api/v1/users"
PASSWORD = "a long enough passphrase"


async def _count(session) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def _events(session, user_id: int) -> list[AuditEvent]:
    return list(
        (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "users", AuditEvent.entity_id == user_id)
                .order_by(AuditEvent.id)
            )
        ).all()
    )


async def _token(anon: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await anon.post("/api/v1/auth/token", data={"username": username, "password": password})


# --- create, read, list --------------------------------------------------------------------


async def test_create_get_and_sign_in(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, factory, session
) -> None:
    partner = await factory.partner()
    body = {
        "username": "amina.k",
        "password": PASSWORD,
        "role": "liaison",
        "partner_id": partner.id,
    }
    created = await client.post(URL, json=body)
    assert created.status_code == 201, created.text
    data = created.json()
    assert created.headers["location"] == f"{URL}/{data['id']}"
    assert created.headers["etag"] == '"1"'
    assert set(data) == {
        "id",
        "created_at",
        "updated_at",
        "version",
        "username",
        "role",
        "partner_id",
        "active",
    }
    assert data["username"] == "amina.k"
    assert data["role"] == "liaison"
    assert data["partner_id"] == partner.id
    assert data["active"] is True
    assert data["version"] == 1
    assert "password" not in created.text
    assert "argon2" not in created.text

    got = await client.get(created.headers["location"])
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert got.json() == data

    row = await session.get(User, data["id"])
    assert row.password_hash.startswith("$argon2")
    assert PASSWORD not in row.password_hash
    assert verify_password(PASSWORD, row.password_hash)

    token = await _token(anon, "amina.k", PASSWORD)
    assert token.status_code == 200, token.text

    events = await _events(session, data["id"])
    assert [e.action for e in events] == ["create"]
    assert events[0].user_id == client.user.id
    assert events[0].changes == {
        "username": [None, "amina.k"],
        "role": [None, "liaison"],
        "partner_id": [None, partner.id],
        "active": [None, True],
        "password": [None, "(hidden)"],
    }
    assert "argon2" not in str(events[0].changes)


async def test_create_defaults_and_roles(client: httpx.AsyncClient, factory) -> None:
    partner = await factory.partner()
    cases: list[dict[str, Any]] = [
        {"username": "adm", "role": "admin"},
        {"username": "staff.one", "role": "staff", "partner_id": None},
        {"username": "viewer_all", "role": "viewer"},
        {"username": "viewer-bhr", "role": "viewer", "partner_id": partner.id},
        {"username": "off", "role": "staff", "active": False},
    ]
    for case in cases:
        response = await client.post(URL, json={"password": PASSWORD, **case})
        assert response.status_code == 201, (case, response.text)
        data = response.json()
        assert data["partner_id"] == case.get("partner_id")
        assert data["active"] is case.get("active", True)


async def test_invalid_bodies_change_nothing(client: httpx.AsyncClient, factory, session) -> None:
    partner = await factory.partner()
    await factory.user(username="taken")
    before = await _count(session)
    events_before = await session.scalar(select(func.count()).select_from(AuditEvent))
    ok = {"username": "new.user", "password": PASSWORD, "role": "staff"}
    cases: list[tuple[dict[str, Any], str | None]] = [
        ({**ok, "username": "ab"}, "username"),
        ({**ok, "username": "x" * 65}, "username"),
        ({**ok, "username": "Upper"}, "username"),
        ({**ok, "username": "sp ace"}, "username"),
        ({**ok, "username": "émile"}, "username"),
        ({**ok, "username": "nul\x00l"}, "username"),
        ({**ok, "username": 123}, "username"),
        ({**ok, "password": "short"}, "password"),
        ({**ok, "password": "x" * 11}, "password"),
        ({**ok, "password": "x" * 1025}, "password"),
        ({**ok, "password": "twelve chars\x00"}, "password"),
        ({**ok, "password": 123456789012}, "password"),
        ({**ok, "role": "root"}, "role"),
        ({**ok, "role": 1}, "role"),
        ({**ok, "role": None}, "role"),
        ({**ok, "active": "true"}, "active"),
        ({**ok, "active": 1}, "active"),
        ({**ok, "partner_id": "1"}, "partner_id"),
        ({**ok, "partner_id": 0}, "partner_id"),
        ({**ok, "id": 5}, "id"),
        ({**ok, "version": 1}, "version"),
        ({**ok, "password_hash": "x"}, "password_hash"),
        ({**ok, "colour": "red"}, "colour"),
        ({k: v for k, v in ok.items() if k != "password"}, "password"),
        ({k: v for k, v in ok.items() if k != "username"}, "username"),
        ({k: v for k, v in ok.items() if k != "role"}, "role"),
        # the partner binding
        ({**ok, "role": "liaison"}, "partner_id"),
        ({**ok, "role": "liaison", "partner_id": None}, "partner_id"),
        ({**ok, "role": "staff", "partner_id": partner.id}, "partner_id"),
        ({**ok, "role": "admin", "partner_id": partner.id}, "partner_id"),
        ({**ok, "role": "liaison", "partner_id": 999_999_999}, "partner_id"),
        ({**ok, "role": "viewer", "partner_id": 999_999_999}, "partner_id"),
        ({**ok, "role": "viewer", "partner_id": 2**63}, "partner_id"),
    ]
    for body, field in cases:
        response = await client.post(URL, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        locs = [e["loc"] for e in response.json()["errors"]]
        assert any(field in loc for loc in locs), (body, locs)
    malformed = await client.post(
        URL, content=b'{"username": "x', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    clash = await client.post(URL, json={**ok, "username": "taken"})
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["loc"] == ["body", "username"]
    assert await _count(session) == before
    assert (await session.scalar(select(func.count()).select_from(AuditEvent))) == events_before


async def test_password_of_exactly_twelve_characters(client: httpx.AsyncClient) -> None:
    body = {"username": "twelve", "password": "x" * 12, "role": "staff"}
    assert (await client.post(URL, json=body)).status_code == 201
    # characters, not bytes: twelve Arabic letters are enough
    body = {"username": "arabic", "password": "كلمةالمرورهن", "role": "staff"}
    assert len(body["password"]) == 12
    assert (await client.post(URL, json=body)).status_code == 201


async def test_list_filters_and_sort(client: httpx.AsyncClient, factory) -> None:
    p1 = await factory.partner()
    p2 = await factory.partner()
    me = client.user
    await factory.user(username="zeta", role="staff")
    await factory.user(username="alpha.liaison", role="liaison", partner_id=p1.id)
    await factory.user(username="beta.viewer", role="viewer", partner_id=p1.id)
    await factory.user(username="gamma", role="viewer", partner_id=p2.id, active=False)

    async def names(**params: Any) -> list[str]:
        response = await client.get(URL, params=params)
        assert response.status_code == 200, (params, response.text)
        body = response.json()
        assert body["total"] == len(body["items"])
        return [u["username"] for u in body["items"]]

    assert await names() == sorted(["zeta", "alpha.liaison", "beta.viewer", "gamma", me.username])
    assert await names(q="LIAISON") == ["alpha.liaison"]
    assert await names(q="_") == []  # a literal underscore, not a wildcard
    assert await names(role="viewer") == ["beta.viewer", "gamma"]
    assert await names(partner_id=p1.id) == ["alpha.liaison", "beta.viewer"]
    assert await names(active="false") == ["gamma"]
    assert await names(active="true", role="viewer") == ["beta.viewer"]
    assert await names(role="viewer", partner_id=p2.id, active="true") == []
    by_role = await names(sort="role")
    assert by_role[:1] == sorted([me.username])  # admin first
    assert by_role[-2:] == ["beta.viewer", "gamma"]
    assert (await names(sort="-username"))[0] == "zeta"


async def test_list_pages(client: httpx.AsyncClient, factory) -> None:
    for i in range(4):
        await factory.user(username=f"page{i}", role="staff")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "role": "staff"}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(URL, params=params)
        body = response.json()
        assert body["total"] == 4
        assert body["limit"] == 2
        seen += [u["username"] for u in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            assert "link" not in response.headers
            break
        assert 'rel="next"' in response.headers["link"]
    assert seen == ["page0", "page1", "page2", "page3"]


@pytest.mark.parametrize(
    "params",
    [
        {"role": "root"},
        {"role": ""},
        {"active": "maybe"},
        {"partner_id": "x"},
        {"partner_id": 0},
        {"partner_id": 2**63},
        {"sort": "password"},
        {"sort": "partner_id"},
        {"limit": 0},
        {"limit": 201},
        {"cursor": "garbage"},
        {"username": "x"},
        {"q": "a\x00b"},
    ],
)
async def test_bad_list_parameters_are_422(client: httpx.AsyncClient, params) -> None:
    response = await client.get(URL, params=params)
    assert response.status_code == 422, params
    assert response.json()["errors"]


@pytest.mark.parametrize("n", [1, 100])
async def test_list_statement_budget(client: httpx.AsyncClient, factory, statements, n) -> None:
    for i in range(n - 1):  # plus the admin itself
        await factory.user(username=f"budget{i:03}", role="staff")
    statements.reset()
    response = await client.get(URL, params={"limit": 200})
    assert response.status_code == 200
    assert response.json()["total"] == n
    assert statements.count <= 4, statements.statements


async def test_detail_statement_budget(client: httpx.AsyncClient, statements) -> None:
    statements.reset()
    assert (await client.get(f"{URL}/{client.user.id}")).status_code == 200
    assert statements.count <= 4, statements.statements
    statements.reset()
    assert (await client.get(f"{URL}/me")).status_code == 200
    assert statements.count <= 4, statements.statements


# --- me, ids, ETags ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "staff", "liaison", "viewer"])
async def test_me_for_every_role(client_for, factory, role) -> None:
    partner_id = (await factory.partner()).id if role == "liaison" else None
    user_client = await client_for(role, partner_id)
    response = await user_client.get(f"{URL}/me")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == user_client.user.id
    assert body["role"] == role
    assert body["partner_id"] == partner_id
    assert "password" not in response.text
    assert response.headers["etag"] == f'"{body["version"]}"'
    cached = await user_client.get(f"{URL}/me", headers={"If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304
    assert cached.content == b""


async def test_me_needs_a_token(anon: httpx.AsyncClient) -> None:
    response = await anon.get(f"{URL}/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_me_only_supports_get(client: httpx.AsyncClient) -> None:
    response = await client.patch(f"{URL}/me", json={})
    # "me" is not an id, never someone's account: /users/me serves GET only (405, Allow: GET)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


async def test_ids_and_if_none_match(client: httpx.AsyncClient, factory) -> None:
    user = await factory.user(role="staff")
    assert (await client.get(f"{URL}/999999999")).status_code == 404
    assert (await client.get(f"{URL}/99999999999999999999999")).status_code == 404
    assert (await client.get(f"{URL}/0")).status_code == 404
    assert (await client.get(f"{URL}/abc")).status_code == 422
    response = await client.get(f"{URL}/{user.id}", headers={"If-None-Match": '"1"'})
    assert response.status_code == 304
    assert response.headers["etag"] == '"1"'
    assert (
        await client.get(f"{URL}/{user.id}", headers={"If-None-Match": '"9"'})
    ).status_code == 200


async def test_method_not_allowed_lists_allow(client: httpx.AsyncClient) -> None:
    response = await client.put(URL, json={})
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "liaison", "viewer"])
async def test_only_admins_manage_users(client_for, factory, session, role) -> None:
    partner_id = (await factory.partner()).id if role == "liaison" else None
    other = await factory.user(role="staff", username=f"target-{role}")
    user_client = await client_for(role, partner_id)
    before = await _count(session)
    body = {"username": "intruder", "password": PASSWORD, "role": "admin"}
    assert (await user_client.get(URL)).status_code == 403
    assert (await user_client.get(f"{URL}/{other.id}")).status_code == 403
    assert (await user_client.get(f"{URL}/{user_client.user.id}")).status_code == 403
    assert (await user_client.post(URL, json=body)).status_code == 403
    patch = await user_client.patch(f"{URL}/{other.id}", json={"role": "admin"})
    assert patch.status_code == 403
    assert (
        await user_client.patch(f"{URL}/{user_client.user.id}", json={"role": "admin"})
    ).status_code == 403
    assert (await user_client.delete(f"{URL}/{other.id}")).status_code == 403
    assert await _count(session) == before
    await session.refresh(other)
    assert other.version == 1
    assert other.role == "staff"


async def test_no_token_is_401(anon: httpx.AsyncClient) -> None:
    for method, url in (("GET", URL), ("POST", URL), ("GET", f"{URL}/1"), ("DELETE", f"{URL}/1")):
        response = await anon.request(method, url)
        assert response.status_code == 401, (method, url)
        assert response.headers["www-authenticate"] == "Bearer"


# --- update ---------------------------------------------------------------------------------


async def test_patch_is_a_merge_patch(client: httpx.AsyncClient, factory, session) -> None:
    partner = await factory.partner()
    user = await factory.user(role="viewer", partner_id=partner.id, username="reader")
    url = f"{URL}/{user.id}"
    response = await client.patch(url, json={"partner_id": None}, headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["partner_id"] is None
    assert body["role"] == "viewer"
    assert body["username"] == "reader"
    assert body["version"] == 2
    assert response.headers["etag"] == '"2"'
    # nothing changes: 200, same version, no audit event
    same = await client.patch(url, json={"role": "viewer", "active": True})
    assert same.status_code == 200
    assert same.json()["version"] == 2
    renamed = await client.patch(url, json={"username": "reader.two", "role": "staff"})
    assert renamed.status_code == 200
    assert renamed.json()["username"] == "reader.two"
    assert renamed.json()["role"] == "staff"
    events = await _events(session, user.id)
    assert [e.action for e in events] == ["update", "update"]
    assert events[0].changes == {"partner_id": [partner.id, None]}
    assert events[1].changes == {"username": ["reader", "reader.two"], "role": ["viewer", "staff"]}


async def test_patch_password(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, factory, session
) -> None:
    user = await factory.user(role="staff", username="changer")
    old_hash = user.password_hash
    url = f"{URL}/{user.id}"
    new = "a brand new passphrase"
    response = await client.patch(url, json={"password": new})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert "password" not in response.json()
    await session.refresh(user)
    assert user.password_hash != old_hash
    assert user.password_hash.startswith("$argon2")
    assert (await _token(anon, "changer", factory.PASSWORD)).status_code == 401
    assert (await _token(anon, "changer", new)).status_code == 200
    # the same password again still makes a new salted hash: recorded as a change
    again = await client.patch(url, json={"password": new, "active": False})
    assert again.status_code == 200
    assert again.json()["version"] == 3
    events = await _events(session, user.id)
    assert [e.changes for e in events] == [
        {"password": ["(hidden)", "(hidden)"]},
        {"active": [True, False], "password": ["(hidden)", "(hidden)"]},
    ]
    assert "argon2" not in str([e.changes for e in events])


async def test_patch_partner_rules(client: httpx.AsyncClient, factory, session) -> None:
    partner = await factory.partner()
    other = await factory.partner()
    liaison = await factory.user(role="liaison", partner_id=partner.id)
    staff = await factory.user(role="staff")
    cases: list[tuple[Any, dict[str, Any]]] = [
        (liaison, {"partner_id": None}),
        (liaison, {"role": "staff"}),  # staff may not keep the partner
        (liaison, {"role": "admin"}),
        (liaison, {"partner_id": 999_999_999}),
        (liaison, {"partner_id": 2**63}),
        (liaison, {"partner_id": "2"}),
        (staff, {"role": "liaison"}),  # liaison needs a partner
        (staff, {"partner_id": partner.id}),
        (staff, {"role": "viewer", "partner_id": 999_999_999}),
    ]
    for user, body in cases:
        response = await client.patch(f"{URL}/{user.id}", json=body)
        assert response.status_code == 422, (body, response.text)
        assert ["body", "partner_id"] in [e["loc"] for e in response.json()["errors"]], body
    for bad in (
        {"username": None},
        {"role": None},
        {"active": None},
        {"password": None},
        {"password": "short"},
        {"username": "NO"},
        {"id": 3},
        {"version": 3},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"password_hash": "x"},
        {"unknown": 1},
    ):
        assert (await client.patch(f"{URL}/{staff.id}", json=bad)).status_code == 422, bad
    for user in (liaison, staff):
        await session.refresh(user)
        assert user.version == 1
    assert liaison.partner_id == partner.id
    assert await _events(session, liaison.id) == []
    assert await _events(session, staff.id) == []
    # good: move the liaison to another partner, or make them staff while clearing the partner
    moved = await client.patch(f"{URL}/{liaison.id}", json={"partner_id": other.id})
    assert moved.status_code == 200
    assert moved.json()["partner_id"] == other.id
    promoted = await client.patch(f"{URL}/{liaison.id}", json={"role": "staff", "partner_id": None})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "staff"
    assert promoted.json()["partner_id"] is None
    bound = await client.patch(
        f"{URL}/{staff.id}", json={"role": "liaison", "partner_id": partner.id}
    )
    assert bound.status_code == 200


async def test_patch_username_clash_is_409(client: httpx.AsyncClient, factory, session) -> None:
    await factory.user(username="first", role="staff")
    second = await factory.user(username="second", role="staff")
    response = await client.patch(f"{URL}/{second.id}", json={"username": "first"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["loc"] == ["body", "username"]
    got = await client.get(f"{URL}/{second.id}")
    assert got.json()["username"] == "second"
    assert got.json()["version"] == 1


async def test_admin_cannot_lock_themself_out(client: httpx.AsyncClient, session) -> None:
    me = client.user
    url = f"{URL}/{me.id}"
    deactivate = await client.patch(url, json={"active": False})
    assert deactivate.status_code == 409
    demote = await client.patch(url, json={"role": "staff"})
    assert demote.status_code == 409
    delete = await client.delete(url)
    assert delete.status_code == 409
    got = await client.get(url)
    assert got.status_code == 200
    assert got.json()["active"] is True
    assert got.json()["role"] == "admin"
    assert got.json()["version"] == 1
    assert await _events(session, me.id) == []
    # changing one's own password or name is fine
    renamed = await client.patch(url, json={"username": "still.admin", "active": True})
    assert renamed.status_code == 200


async def test_admin_may_deactivate_another_admin(client: httpx.AsyncClient, factory) -> None:
    other = await factory.user(role="admin")
    response = await client.patch(f"{URL}/{other.id}", json={"active": False})
    assert response.status_code == 200
    assert response.json()["active"] is False


async def test_deactivation_locks_out_at_once(
    client: httpx.AsyncClient, client_for, anon: httpx.AsyncClient
) -> None:
    staff = await client_for("staff")
    assert (await staff.get(f"{URL}/me")).status_code == 200
    assert (await staff.get("/api/v1/frameworks")).status_code == 200
    response = await client.patch(f"{URL}/{staff.user.id}", json={"active": False})
    assert response.status_code == 200
    for path in (f"{URL}/me", "/api/v1/frameworks"):
        locked = await staff.get(path)
        assert locked.status_code == 401, path
        assert locked.headers["www-authenticate"] == "Bearer"
    login = await _token(anon, staff.user.username, "correct horse battery staple")
    assert login.status_code == 401
    # and back: the user may sign in again, but the tokens of before stay revoked (API.md)
    assert (await client.patch(f"{URL}/{staff.user.id}", json={"active": True})).status_code == 200
    assert (await staff.get(f"{URL}/me")).status_code == 401
    login = await _token(anon, staff.user.username, "correct horse battery staple")
    assert login.status_code == 200


# --- delete ---------------------------------------------------------------------------------


async def test_delete(client: httpx.AsyncClient, client_for, factory, session) -> None:
    partner = await factory.partner()
    victim = await client_for("liaison", partner.id)
    url = f"{URL}/{victim.user.id}"
    assert (await client.delete(url, headers={"If-Match": '"1"'})).status_code == 204
    assert (await client.get(url)).status_code == 404
    assert (await client.delete(url)).status_code == 404
    # the deleted user's token no longer works
    assert (await victim.get(f"{URL}/me")).status_code == 401
    events = await _events(session, victim.user.id)
    assert [e.action for e in events] == ["delete"]
    assert events[0].changes == {
        "username": [victim.user.username, None],
        "role": ["liaison", None],
        "partner_id": [partner.id, None],
        "active": [True, None],
        "password": ["(hidden)", None],
    }
    assert (await client.delete(f"{URL}/99999999999999999999")).status_code == 404


async def test_deleted_users_audit_events_stay(
    client: httpx.AsyncClient, client_for, session
) -> None:
    """The audit trail outlives the user who wrote it."""
    staff = await client_for("staff")
    created = await staff.post("/api/v1/frameworks", json={"code": "AUD", "name": "Audited"})
    assert created.status_code == 201
    assert (await client.delete(f"{URL}/{staff.user.id}")).status_code == 204
    events = (
        await session.scalars(select(AuditEvent).where(AuditEvent.user_id == staff.user.id))
    ).all()
    assert [e.entity for e in events] == ["frameworks"]


async def test_openapi_marks_password_write_only(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    create = components["UserCreate"]["properties"]["password"]
    assert create["writeOnly"] is True
    assert "password" not in components["UserRead"]["properties"]
    paths = schema["paths"]
    assert set(paths[URL]) == {"get", "post"}
    assert set(paths[f"{URL}/me"]) == {"get"}
    assert set(paths[URL + "/{user_id}"]) == {"get", "patch", "delete"}
