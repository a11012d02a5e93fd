"""A token stops working when what it stood for changes (issue 14, item 6): a new password,
role or partner, deactivation (and reactivation does not revive it), deletion, and a reset by
``ipcp-api create-user``. Tokens come from the real token endpoint."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ipcp_api.config import Settings
from tests.factories import Factory
from tests.users.test_commands import PASSWORD as CLI_PASSWORD
from tests.users.test_commands import Db, _name, _run
from tests.users.test_commands import db as db

ME = "/api/v1/users/me"


async def _token(anon: httpx.AsyncClient, username: str, password: str) -> str:
    response = await anon.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def _me(anon: httpx.AsyncClient, token: str) -> int:
    return (await anon.get(ME, headers={"Authorization": f"Bearer {token}"})).status_code


@pytest.mark.parametrize(
    ("change", "revokes"),
    [
        ({"password": "a brand new passphrase"}, True),
        ({"role": "staff", "partner_id": None}, True),
        ({"partner_id": "other"}, True),
        ({"active": False}, True),
        ({"username": "renamed.user"}, False),
        ({"active": True}, False),  # not a change
        ({"role": "liaison"}, False),  # not a change
    ],
)
async def test_changes_that_revoke_tokens(
    change: dict[str, Any],
    revokes: bool,
    client: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    factory: Factory,
) -> None:
    partner, other = await factory.partner(), await factory.partner()
    user = await factory.user(role="liaison", partner_id=partner.id)
    token = await _token(anon, user.username, Factory.PASSWORD)
    assert await _me(anon, token) == 200
    if change.get("partner_id") == "other":
        change = {"partner_id": other.id}
    response = await client.patch(f"/api/v1/users/{user.id}", json=change)
    assert response.status_code == 200, response.text
    assert await _me(anon, token) == (401 if revokes else 200)


async def test_reactivation_does_not_revive_tokens(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user(role="staff")
    old = await _token(anon, user.username, Factory.PASSWORD)
    url = f"/api/v1/users/{user.id}"
    assert (await client.patch(url, json={"active": False})).status_code == 200
    assert await _me(anon, old) == 401
    assert (await client.patch(url, json={"active": True})).status_code == 200
    assert await _me(anon, old) == 401  # before: 200 again
    new = await _token(anon, user.username, Factory.PASSWORD)
    assert await _me(anon, new) == 200


async def test_a_new_password_revokes_all_earlier_tokens_only(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user(role="viewer")
    first = await _token(anon, user.username, Factory.PASSWORD)
    second = await _token(anon, user.username, Factory.PASSWORD)
    new_password = "another long passphrase"
    assert (
        await client.patch(f"/api/v1/users/{user.id}", json={"password": new_password})
    ).status_code == 200
    assert [await _me(anon, first), await _me(anon, second)] == [401, 401]
    fresh = await _token(anon, user.username, new_password)
    assert await _me(anon, fresh) == 200


async def test_deletion_revokes(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user(role="viewer")
    token = await _token(anon, user.username, Factory.PASSWORD)
    assert (await client.delete(f"/api/v1/users/{user.id}")).status_code == 204
    assert await _me(anon, token) == 401


async def test_create_user_reset_revokes(
    settings: Settings,
    db: Db,
    anon: httpx.AsyncClient,
) -> None:
    name = _name(db)
    await _run(settings, username=name, role="staff")
    token = await _token(anon, name, CLI_PASSWORD)
    assert await _me(anon, token) == 200
    await _run(settings, username=name, role="staff", password="the reset passphrase")
    assert await _me(anon, token) == 401
    assert await _me(anon, await _token(anon, name, "the reset passphrase")) == 200
