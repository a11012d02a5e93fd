"""Key rotation: ``IPCP_SECRET_KEYS`` (comma-separated, newest first) signs tokens and list
cursors with the first key and accepts any of them; ``IPCP_SECRET_KEY`` stays the one-key form."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ipcp_api.app import create_app
from ipcp_api.auth.security import ALGORITHM, SecretKeyError, create_token, resolve_secret_keys
from ipcp_api.config import Settings

OLD = "old-signing-key-" + "o" * 40
NEW = "new-signing-key-" + "n" * 40
OTHER = "not-our-signing-key-" + "x" * 40
ME = "/api/v1/users/me"
FRAMEWORKS = "/api/v1/frameworks"


def _app(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    **keys: str | None,
) -> Any:
    app: Any = create_app(settings.model_copy(update=keys))
    app.state.engine = engine
    app.state.sessionmaker = app.state.read_sessionmaker = sessionmaker
    app.state.shutting_down = False
    return app


def _client(app: Any, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
    )


async def test_tokens_are_signed_with_the_first_key_and_accepted_with_any(
    settings: Settings, engine, sessionmaker, factory
) -> None:
    user = await factory.user(role="viewer")
    app = _app(settings, engine, sessionmaker, secret_keys=f"{NEW}, {OLD}")
    assert app.state.secret_key == NEW
    for key, expected in ((OLD, 200), (NEW, 200), (OTHER, 401)):
        token = create_token(key, user_id=user.id, expires_in=600)
        async with _client(app, token) as client:
            assert (await client.get(ME)).status_code == expected, key
    # what the app issues is signed with the newest key
    login = await _login(app, user.username, factory.PASSWORD)
    jwt.decode(login, NEW, algorithms=[ALGORITHM])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(login, OLD, algorithms=[ALGORITHM])


async def _login(app: Any, username: str, password: str) -> str:
    async with _client(app) as client:
        response = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def test_a_key_dropped_from_the_list_is_refused(
    settings: Settings, engine, sessionmaker, factory
) -> None:
    user = await factory.user(role="viewer")
    app = _app(settings, engine, sessionmaker, secret_keys=NEW)
    async with _client(app, create_token(OLD, user_id=user.id, expires_in=600)) as client:
        assert (await client.get(ME)).status_code == 401


async def test_cursors_signed_with_an_older_key_still_work(
    settings: Settings, engine, sessionmaker, factory
) -> None:
    user = await factory.user(role="admin")
    for n in range(3):
        await factory.framework(code=f"ROT{n}", name=f"Rotation {n}")
    before = _app(settings, engine, sessionmaker, secret_keys=OLD)
    rotated = _app(settings, engine, sessionmaker, secret_keys=f"{NEW},{OLD}")
    retired = _app(settings, engine, sessionmaker, secret_keys=NEW)
    params = {"limit": "1", "sort": "code", "q": "Rotation"}
    async with _client(before, create_token(OLD, user_id=user.id, expires_in=600)) as client:
        first = (await client.get(FRAMEWORKS, params=params)).json()
    assert first["next_cursor"]
    token = create_token(NEW, user_id=user.id, expires_in=600)
    async with _client(rotated, token) as client:
        second = await client.get(FRAMEWORKS, params={**params, "cursor": first["next_cursor"]})
        assert second.status_code == 200, second.text
        assert [item["code"] for item in second.json()["items"]] == ["ROT1"]
        new_cursor = second.json()["next_cursor"]
    async with _client(retired, token) as client:
        # the old key is gone: its cursor is refused; the one signed with the new key works
        old = await client.get(FRAMEWORKS, params={**params, "cursor": first["next_cursor"]})
        assert old.status_code == 422
        assert old.json()["errors"][0]["loc"] == ["query", "cursor"]
        third = await client.get(FRAMEWORKS, params={**params, "cursor": new_cursor})
        assert [item["code"] for item in third.json()["items"]] == ["ROT2"]


def test_the_one_key_form_and_the_list_together(settings: Settings) -> None:
    both = settings.model_copy(update={"secret_key": OLD, "secret_keys": NEW})
    assert resolve_secret_keys(both) == [NEW, OLD]
    listed = settings.model_copy(update={"secret_key": OLD, "secret_keys": f"{NEW},{OLD}"})
    assert resolve_secret_keys(listed) == [NEW, OLD]
    one = settings.model_copy(update={"secret_key": OLD, "secret_keys": None})
    assert resolve_secret_keys(one) == [OLD]


@pytest.mark.parametrize("keys", [f"{NEW},changeme", f"{NEW},short", "secret"])
def test_a_weak_key_in_the_list_names_the_setting(settings: Settings, keys: str) -> None:
    with pytest.raises(SecretKeyError, match=r"^invalid setting IPCP_SECRET_KEYS: "):
        resolve_secret_keys(settings.model_copy(update={"secret_keys": keys}))
