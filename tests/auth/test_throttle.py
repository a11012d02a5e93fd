"""The login throttle lives in PostgreSQL: shared, atomic, bounded, and never cleared by a spray.

Bounds are lowered through settings (``IPCP_LOGIN_*``), never by patching the code.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select

from ipcp_api.app import create_app
from ipcp_api.auth.security import hash_password
from ipcp_api.auth.throttle import LoginThrottle, username_key
from ipcp_api.config import Settings
from ipcp_api.db.session import bind_database, make_engine
from ipcp_api.models import LoginThrottleEntry, User

TOKEN = "/api/v1/auth/token"
PASSWORD = "the right password, at last"


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(TOKEN, data={"username": username, "password": password})


def _lowered(app: Any, **bounds: int) -> None:
    """The test app's throttle, built from settings with lowered bounds."""
    settings = app.state.settings.model_copy(update=bounds)
    app.state.login_throttle = LoginThrottle.from_settings(settings)


async def _row(session: Any, username: str) -> LoginThrottleEntry | None:
    return await session.get(LoginThrottleEntry, username_key(username), populate_existing=True)


async def test_case_and_compatibility_forms_share_one_count(anon: httpx.AsyncClient) -> None:
    fullwidth = "ｇｈｏｓｔ.ｗｒｉｔｅｒ"
    for name in ("Ghost.Writer", "GHOST.WRITER", fullwidth, "ghost.writer", "GhOsT.wRiTeR"):
        assert (await _login(anon, name, "wrong password!!")).status_code == 401
    refused = await _login(anon, "ghost.writer", "wrong password!!")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 300


async def test_a_lowered_bound_from_the_settings(anon: httpx.AsyncClient, factory, app) -> None:
    _lowered(app, login_max_failures=2, login_lock_seconds=60)
    await factory.user(role="staff", username="two.strikes")
    for _ in range(2):
        assert (await _login(anon, "two.strikes", "wrong password!!")).status_code == 401
    refused = await _login(anon, "two.strikes", factory.PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 60


async def test_a_lock_ends_and_the_count_starts_again(
    anon: httpx.AsyncClient, factory, app
) -> None:
    _lowered(app, login_max_failures=2, login_lock_seconds=1)
    await factory.user(role="staff", username="patient")
    for _ in range(2):
        assert (await _login(anon, "patient", "wrong password!!")).status_code == 401
    assert (await _login(anon, "patient", factory.PASSWORD)).status_code == 429
    await asyncio.sleep(1.2)
    # the lock is over; a fresh window: one failure does not lock again
    assert (await _login(anon, "patient", "wrong password!!")).status_code == 401
    assert (await _login(anon, "patient", factory.PASSWORD)).status_code == 200


async def test_failures_outside_the_window_do_not_add_up(
    anon: httpx.AsyncClient, factory, app
) -> None:
    _lowered(app, login_max_failures=3, login_window_seconds=1)
    await factory.user(role="staff", username="slowpoke")
    for _ in range(2):
        assert (await _login(anon, "slowpoke", "wrong password!!")).status_code == 401
    await asyncio.sleep(1.2)
    for _ in range(2):
        assert (await _login(anon, "slowpoke", "wrong password!!")).status_code == 401
    assert (await _login(anon, "slowpoke", factory.PASSWORD)).status_code == 200


async def test_a_spray_of_other_usernames_does_not_clear_a_lock(
    anon: httpx.AsyncClient, factory, app, session
) -> None:
    """The in-memory throttle was cleared whole at 100,000 usernames. Here nothing is ever
    cleared wholesale, even with the purge running on every attempt."""
    _lowered(app, login_purge_every=1)
    throttle: LoginThrottle = app.state.login_throttle
    await factory.user(role="staff", username="victim")
    for _ in range(5):
        assert (await _login(anon, "victim", "wrong password!!")).status_code == 401
    for n in range(1500):  # the throttle's own calls: argon2 for each would take minutes
        name = f"spray{n}-{uuid.uuid4().hex[:6]}"
        assert (await throttle.attempt(session, name)).retry_after == 0
        await throttle.failed(session, name)
    assert (await _login(anon, "victim", factory.PASSWORD)).status_code == 429


async def test_rows_are_bounded_in_size(anon: httpx.AsyncClient, session) -> None:
    before = await session.scalar(select(func.count()).select_from(LoginThrottleEntry))
    for name, field in (("x" * 1_000_000, "username"), ("y" * 257, "username")):
        response = await _login(anon, name, "wrong password!!")
        assert response.status_code == 422, response.status_code
        assert response.json()["errors"][0]["loc"] == ["body", field]
    response = await anon.post(TOKEN, data={"username": "someone", "password": "p" * 5000})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "password"]
    # refused before anything is stored
    after = await session.scalar(select(func.count()).select_from(LoginThrottleEntry))
    assert after == before
    # the longest accepted username is stored as a 32-byte digest
    longest = "z" * 256
    assert (await _login(anon, longest, "wrong password!!")).status_code == 401
    row = await _row(session, longest)
    assert row is not None
    assert len(row.key) == 32
    assert row.attempts == 1


async def test_old_rows_are_purged_and_live_ones_kept(session, app) -> None:
    throttle: LoginThrottle = app.state.login_throttle
    now = datetime.now(UTC)
    old = [f"old-{uuid.uuid4().hex}" for _ in range(3)]
    for name in old:
        session.add(
            LoginThrottleEntry(
                key=username_key(name),
                attempts=5,
                window_start=now - timedelta(hours=2),
                locked_until=now - timedelta(hours=1),
                expires_at=now - timedelta(minutes=1),
            )
        )
    await session.flush()
    for _ in range(5):  # a live lock
        await throttle.attempt(session, "still-locked")
        await throttle.failed(session, "still-locked")
    assert await throttle.purge(session) >= 3
    for name in old:
        assert await _row(session, name) is None
    live = await _row(session, "still-locked")
    assert live is not None
    assert live.locked_until is not None


async def test_a_login_purges_old_rows_by_itself(anon: httpx.AsyncClient, session, app) -> None:
    _lowered(app, login_purge_every=1)
    now = datetime.now(UTC)
    session.add(
        LoginThrottleEntry(
            key=username_key("long-gone"),
            attempts=1,
            window_start=now - timedelta(days=1),
            locked_until=None,
            expires_at=now - timedelta(hours=1),
        )
    )
    await session.flush()
    assert (await _login(anon, "someone.else", "wrong password!!")).status_code == 401
    assert await _row(session, "long-gone") is None


# --- on real commits: concurrent guesses ---------------------------------------------------


@pytest.fixture
async def committing_login(settings: Settings) -> AsyncIterator[Any]:
    """An app on its own engine (real commits, a pool for concurrent requests) with a
    lowered bound; the throttle rows it makes go at the end."""
    lowered = settings.model_copy(update={"login_max_failures": 3, "password_concurrency": 2})
    engine = make_engine(lowered.model_copy(update={"db_pool_size": 20}))
    app: Any = create_app(lowered)
    bind_database(app.state, engine)
    app.state.shutting_down = False
    app.usernames = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as app.client:
        yield app
    async with app.state.sessionmaker() as session:
        keys = [username_key(name) for name in app.usernames]
        await session.execute(delete(LoginThrottleEntry).where(LoginThrottleEntry.key.in_(keys)))
        await session.commit()
    await engine.dispose()


async def test_concurrent_guesses_cannot_pass_the_bound(committing_login: Any) -> None:
    """Review found 12-31 of 31 concurrent guesses passed where 5 should: the count was read
    before the password check and written after it. Now each attempt is counted atomically
    first, and only the first ``max_failures`` reach the password check."""
    app = committing_login
    name = f"burst-{uuid.uuid4().hex[:8]}"
    app.usernames.append(name)
    responses = await asyncio.gather(
        *(_login(app.client, name, f"guess number {i:04d}") for i in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [401] * 3 + [429] * 17, statuses
    # committed for real, although every one of those requests failed
    async with app.state.sessionmaker() as session:
        row = await _row(session, name)
    assert row is not None
    assert row.locked_until is not None
    assert row.locked_until > datetime.now(UTC)


async def test_concurrent_right_logins_do_not_lock(committing_login: Any) -> None:
    """Beyond the bound, concurrent attempts are refused for a moment (Retry-After: 1) but
    only failures lock: the user signs in right after."""
    app = committing_login
    name = f"busy-{uuid.uuid4().hex[:8]}"
    app.usernames.append(name)
    async with app.state.sessionmaker() as session:
        user = User(username=name, password_hash=hash_password(PASSWORD), role="staff")
        session.add(user)
        await session.commit()
    try:
        responses = await asyncio.gather(*(_login(app.client, name, PASSWORD) for _ in range(8)))
        assert {r.status_code for r in responses} <= {200, 429}
        assert sum(r.status_code == 200 for r in responses) >= 1
        assert all(r.headers["retry-after"] == "1" for r in responses if r.status_code == 429)
        assert (await _login(app.client, name, PASSWORD)).status_code == 200
    finally:
        async with app.state.sessionmaker() as session:
            await session.execute(delete(User).where(User.username == name))
            await session.commit()
