"""Reads run without a transaction, writes inside one — on the real engine, real commits.

The rolled-back ``connection`` fixture runs every request inside the test's own transaction,
so it cannot show what the production app sends around a request. Here the app gets an engine
of its own through ``bind_database`` (as its lifespan does), with a pool of one connection so
that every request reuses the same one, and every statement it executes is recorded with
whether asyncpg had a transaction open when it ran.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, event
from sqlalchemy.ext.asyncio import AsyncEngine

from ipcp_api.app import create_app
from ipcp_api.auth.security import create_token
from ipcp_api.config import Settings
from ipcp_api.db.session import bind_database, make_engine
from ipcp_api.models import AuditEvent, Framework, User

FRAMEWORKS = "/api/v1/frameworks"


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    one = make_engine(settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}))
    yield one
    await one.dispose()


@pytest.fixture
def executed(engine: AsyncEngine) -> Iterator[list[tuple[str, bool]]]:
    """(statement, in a transaction?) for every statement the engine runs meanwhile."""
    seen: list[tuple[str, bool]] = []

    def record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        driver = conn.connection.driver_connection
        seen.append((statement.split(None, 1)[0].upper(), driver.is_in_transaction()))

    event.listen(engine.sync_engine, "after_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "after_cursor_execute", record)


@pytest.fixture
async def client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app: Any = create_app(settings)
    bind_database(app.state, engine)
    app.state.shutting_down = False
    tag = uuid.uuid4().hex[:8]
    async with app.state.sessionmaker() as session:
        user = User(username=f"sessions{tag}", password_hash="unused", role="staff", active=True)
        session.add(user)
        await session.commit()
    token = create_token(app.state.secret_key, user_id=user.id, expires_in=600)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http
    async with app.state.sessionmaker() as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.user_id == user.id))
        await session.execute(delete(Framework).where(Framework.code == f"S-{tag}".upper()))
        await session.execute(delete(User).where(User.id == user.id))
        await session.commit()


async def test_a_get_runs_outside_any_transaction(
    client: httpx.AsyncClient, executed: list[tuple[str, bool]]
) -> None:
    response = await client.get(FRAMEWORKS)
    assert response.status_code == 200
    # the token's user lookup, the count and the page: every one on its own
    assert [statement for statement, _ in executed] == ["SELECT", "SELECT", "SELECT"]
    assert not any(in_transaction for _, in_transaction in executed), executed


async def test_a_write_runs_inside_one_transaction(
    client: httpx.AsyncClient, executed: list[tuple[str, bool]]
) -> None:
    code = f"S-{uuid.uuid4().hex[:6]}".upper()
    response = await client.post(FRAMEWORKS, json={"code": code, "name": "Sessions"})
    assert response.status_code == 201, response.text
    assert executed, "the POST ran no statement"
    assert all(in_transaction for _, in_transaction in executed), executed
    # committed for real: a read after it (no transaction) sees it
    executed.clear()
    listed = await client.get(FRAMEWORKS, params={"q": code})
    assert [item["code"] for item in listed.json()["items"]] == [code]
    assert not any(in_transaction for _, in_transaction in executed), executed
    await client.delete(f"{FRAMEWORKS}/{response.json()['id']}")


async def test_a_read_leaves_the_pooled_connection_transactional(
    client: httpx.AsyncClient, engine: AsyncEngine, executed: list[tuple[str, bool]]
) -> None:
    """The autocommit mode is per checkout: the next write on the same pooled connection
    (the pool holds one) opens its transaction again: SQLAlchemy resets the level when the
    read gives the connection back."""
    assert engine.pool.size() == 1
    assert (await client.get(FRAMEWORKS)).status_code == 200
    executed.clear()
    code = f"S-{uuid.uuid4().hex[:6]}".upper()
    created = await client.post(FRAMEWORKS, json={"code": code, "name": "After a read"})
    assert created.status_code == 201, created.text
    assert executed
    assert all(in_transaction for _, in_transaction in executed), executed
    await client.delete(f"{FRAMEWORKS}/{created.json()['id']}")
