"""The smaller findings of issue 14 (item 8): audit entries about users, the role check before
an Idempotency-Key replay, plain decimal path ids, plain token subjects, repeated query
parameters, and the metrics token."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest

from ipcp_api.auth.security import ALGORITHM, create_token
from tests.factories import Factory

# --- /audit: entries about users for admins only --------------------------------------------


async def test_staff_never_see_audit_entries_about_users(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    created = await client.post(
        "/api/v1/users",
        json={"username": "secret.agent", "password": "a long enough password", "role": "staff"},
    )
    assert created.status_code == 201
    framework = await client.post("/api/v1/frameworks", json={"code": "AUD", "name": "Audited"})
    assert framework.status_code == 201
    staff = await client_for("staff")

    async def entries(caller: httpx.AsyncClient, **params: Any) -> tuple[list[Any], int]:
        body = (await caller.get("/api/v1/audit", params={"limit": 200, **params})).json()
        return body["items"], body["total"]

    items, total = await entries(client)
    assert {"users", "frameworks"} <= {e["entity"] for e in items}
    admin_total = total
    items, total = await entries(staff)
    assert "users" not in {e["entity"] for e in items}
    assert "secret.agent" not in str(items)
    assert "frameworks" in {e["entity"] for e in items}
    users_seen_by_admin = (await entries(client, entity="users"))[1]
    assert users_seen_by_admin >= 1
    assert total == admin_total - users_seen_by_admin
    # filtering on users (or on a user's id) shows nothing either
    assert await entries(staff, entity="users") == ([], 0)
    user_id = created.json()["id"]
    assert await entries(staff, entity="users", entity_id=user_id) == ([], 0)


# --- the role check comes before an Idempotency-Key replay ------------------------------------


@pytest.mark.parametrize(
    ("first_role", "then", "path", "body"),
    [
        ("liaison", {"role": "viewer"}, "/api/v1/programmes", "programme"),
        ("staff", {"role": "liaison", "partner_id": "partner"}, "/api/v1/frameworks", "framework"),
        ("staff", {"role": "viewer"}, "/api/v1/frameworks", "framework"),
    ],
)
async def test_a_replay_needs_the_role_that_may_write(
    first_role: str,
    then: dict[str, Any],
    path: str,
    body: str,
    client: httpx.AsyncClient,
    app: Any,
    factory: Factory,
) -> None:
    partner = await factory.partner()
    user = await factory.user(
        role=first_role, partner_id=partner.id if first_role == "liaison" else None
    )
    payload = {
        "programme": {
            "partner_id": partner.id,
            "code": "IDEM-1",
            "title": "t",
            "starts_on": "2017-01-01",
            "ends_on": "2017-12-31",
        },
        "framework": {"code": "IDEM", "name": "Idempotent"},
    }[body]
    headers = {"Idempotency-Key": "key-1"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as caller:
        token = create_token(app.state.secret_key, user_id=user.id, expires_in=600)
        caller.headers["Authorization"] = f"Bearer {token}"
        first = await caller.post(path, json=payload, headers=headers)
        assert first.status_code == 201, first.text
        change = {k: (partner.id if v == "partner" else v) for k, v in then.items()}
        assert (await client.patch(f"/api/v1/users/{user.id}", json=change)).status_code == 200
        # the new role signs in afresh (the old token was revoked by the change of role)
        token = create_token(app.state.secret_key, user_id=user.id, expires_in=600, token_version=1)
        caller.headers["Authorization"] = f"Bearer {token}"
        replay = await caller.post(path, json=payload, headers=headers)
        assert replay.status_code == 403, replay.text
        assert "idempotent-replayed" not in replay.headers
        # and a key it never used: 403 as well, before the key's own checks
        fresh = await caller.post(path, json=payload, headers={"Idempotency-Key": "x" * 300})
        assert fresh.status_code == 403


# --- path ids: plain decimal integers ---------------------------------------------------------


@pytest.mark.parametrize("written", ["1.0", "+2", "02", " 2", "2 ", "1_000", "0x10", "٣", "1e3"])
@pytest.mark.parametrize("collection", ["frameworks", "partners", "programmes", "users"])
async def test_path_ids_are_plain_decimal(
    written: str, collection: str, client: httpx.AsyncClient
) -> None:
    response = await client.get(f"/api/v1/{collection}/{written}")
    assert response.status_code == 422, (written, response.text)
    assert response.json()["errors"][0]["loc"][0] == "path"
    patched = await client.patch(f"/api/v1/{collection}/{written}", json={})
    assert patched.status_code == 422
    assert (await client.delete(f"/api/v1/{collection}/{written}")).status_code == 422


async def test_plain_ids_still_work(client: httpx.AsyncClient, factory: Factory) -> None:
    framework = await factory.framework()
    assert (await client.get(f"/api/v1/frameworks/{framework.id}")).status_code == 200
    for missing in ("0", "-1", "9223372036854775807", "9223372036854775808", "9" * 40):
        assert (await client.get(f"/api/v1/frameworks/{missing}")).status_code == 404, missing
    report = await client.get(f"/api/v1/programmes/0{framework.id}/report")
    assert report.status_code == 422


# --- token subjects: plain ASCII decimal --------------------------------------------------------


async def test_a_token_sub_in_other_digits_is_not_a_user(
    anon: httpx.AsyncClient, app: Any, factory: Factory
) -> None:
    user = await factory.user(role="admin")
    key = app.state.secret_key
    for sub in (
        "".join("٠١٢٣٤٥٦٧٨٩"[int(d)] for d in str(user.id)),  # Arabic-Indic digits
        "".join(chr(0xFF10 + int(d)) for d in str(user.id)),  # full-width digits
        f"0{user.id}",
        f"+{user.id}",
        f" {user.id}",
    ):
        token = jwt.encode({"sub": sub, "exp": 2_000_000_000}, key, algorithm=ALGORITHM)
        response = await anon.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, sub
    plain = jwt.encode({"sub": str(user.id), "exp": 2_000_000_000}, key, algorithm=ALGORITHM)
    response = await anon.get("/api/v1/users/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200


# --- a query parameter given twice ---------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "limit=10&limit=20",
        "status=draft&status=active",
        "q=a&q=b",
        "sort=code&sort=-code",
        "partner_id=1&partner_id=1",
    ],
)
async def test_a_scalar_query_parameter_twice_is_422(query: str, client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/v1/programmes?{query}")
    assert response.status_code == 422, response.text
    name = query.split("=")[0]
    assert response.json()["errors"][0]["loc"] == ["query", name]


async def test_repeated_parameters_on_reports_and_audit(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    programme = await factory.programme()
    url = f"/api/v1/programmes/{programme.id}/report?as_of=2017-01-01&as_of=2018-01-01"
    assert (await client.get(url)).status_code == 422
    assert (await client.get("/api/v1/audit?entity=users&entity=programmes")).status_code == 422
    assert (await client.get("/api/v1/programmes?status=draft")).status_code == 200


# --- the metrics token ------------------------------------------------------------------------


async def test_metrics_token(anon: httpx.AsyncClient, app: Any) -> None:
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"metrics_token": "m" * 40})
    try:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": "Basic " + "m" * 40},
            {"Authorization": "Bearer " + "m" * 39},
        ):
            response = await anon.get("/metrics", headers=headers)
            assert response.status_code == 401, headers
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.headers["content-type"] == "application/problem+json"
            assert "ipcp_" not in response.text
        response = await anon.get("/metrics", headers={"Authorization": "Bearer " + "m" * 40})
        assert response.status_code == 200
        assert "ipcp_" in response.text
    finally:
        app.state.settings = settings
    assert (await anon.get("/metrics")).status_code == 200  # open when unset
