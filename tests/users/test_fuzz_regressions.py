"""What contract fuzzing (.ci/fuzz.sh) found in /users, kept fixed."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("method", ["PATCH", "DELETE", "POST", "PUT", "OPTIONS"])
async def test_users_me_is_read_only(client: httpx.AsyncClient, method: str) -> None:
    """PATCH and DELETE /users/me were taken for /users/{user_id} with the id "me" (422),
    and the 405 of other methods advertised `Allow: DELETE, GET, PATCH`."""
    response = await client.request(method, "/api/v1/users/me", json={"active": False})
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == "GET"
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/users/me")).status_code == 200


async def test_a_user_id_path_still_lists_its_own_methods(client: httpx.AsyncClient) -> None:
    response = await client.put(f"/api/v1/users/{client.user.id}")  # type: ignore[attr-defined]
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"


async def test_a_non_integer_user_id_is_still_422(client: httpx.AsyncClient) -> None:
    response = await client.patch("/api/v1/users/abc", json={})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "user_id"]
