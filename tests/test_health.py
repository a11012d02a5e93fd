from __future__ import annotations

import httpx


async def test_healthz(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


async def test_readyz_at_head(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


async def test_request_id_is_echoed_when_safe(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    response = await anon.get("/healthz", headers={"X-Request-ID": "bad id\twith tab"})
    assert response.headers["x-request-id"] != "bad id\twith tab"


async def test_unknown_path_is_problem_json(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


async def test_token_and_protected_route(anon: httpx.AsyncClient, factory) -> None:
    user = await factory.user(role="staff")
    bad = await anon.post(
        "/api/v1/auth/token", data={"username": user.username, "password": "x" * 12}
    )
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == "Bearer"
    good = await anon.post(
        "/api/v1/auth/token", data={"username": user.username, "password": factory.PASSWORD}
    )
    assert good.status_code == 200
    body = good.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
