"""Test fixtures: a real PostgreSQL, one database per session built by the migrations,
each test inside an outer transaction that is rolled back afterwards."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from ipcp_api.app import create_app
from ipcp_api.auth.security import create_token
from ipcp_api.auth.throttle import LoginThrottle
from ipcp_api.config import Settings, load_settings, normalise_database_url
from ipcp_api.db import embedded
from ipcp_api.db.migrations import upgrade
from ipcp_api.db.session import bind_database, make_engine
from ipcp_api.models import AuditEvent, Framework, User
from tests.factories import Factory


def _server_url() -> Iterator[str]:
    """A maintenance URL (database ``postgres``) on the test server."""
    configured = os.environ.get("IPCP_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if configured:
        yield normalise_database_url(configured)
        return
    data_dir = Path(os.environ.get("IPCP_TEST_DATA_DIR", Path(tempfile.gettempdir()) / "ipcp-test"))
    server, _ = embedded.start(data_dir, "postgres")
    try:
        yield embedded.server_url(server, "postgres")
    finally:
        embedded.stop(server)


async def _admin(url: str, *statements: str) -> None:
    engine = make_engine(load_settings(database_url=url), url)
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for statement in statements:
            await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    yield from _server_url()


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database for this test session, built by ``alembic upgrade head``."""
    name = f"ipcp_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(
        _admin(server_url, f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    )
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        secret_key="test-secret-key-" + "x" * 40,
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(settings)
    yield engine
    await engine.dispose()


class StatementCounter:
    """Counts SQL statements sent to the database (for the per-request budget tests)."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            return
        self.count += 1
        self.statements.append(statement)

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The outer transaction every test runs in; rolled back at the end."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture
def statements(connection: AsyncConnection) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(connection.sync_connection, "before_cursor_execute", counter)
    yield counter
    event.remove(connection.sync_connection, "before_cursor_execute", counter)


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture(scope="session")
def base_app(settings: Settings) -> Any:
    """One app for the session (building one takes ~0.5 s); each test gives it its own
    transaction-bound sessionmaker and a fresh login throttle."""
    return create_app(settings)


@pytest.fixture
def app(base_app: Any, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]) -> Any:
    base_app.state.engine = engine
    base_app.state.sessionmaker = sessionmaker
    # GETs too run in the test's transaction (bind_database gives the real app an
    # autocommit maker for them: tests/test_sessions.py checks that one on real commits).
    base_app.state.read_sessionmaker = sessionmaker
    base_app.state.read_connect = None  # so the read path too uses that transaction
    base_app.state.shutting_down = False
    base_app.state.login_throttle = LoginThrottle.from_settings(base_app.state.settings)
    return base_app


@pytest.fixture
async def anon(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no token."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def factory(session: AsyncSession) -> Factory:
    return Factory(session)


async def _client_for(
    app: Any, factory: Factory, role: str, partner_id: int | None = None
) -> httpx.AsyncClient:
    """A client signed in as a new user of ``role`` (token minted directly: argon2 is slow;
    the token endpoint itself is tested in tests/auth)."""
    user = await factory.user(role=role, partner_id=partner_id)
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://test")
    token = create_token(app.state.secret_key, user_id=user.id, expires_in=600)
    client.headers["Authorization"] = f"Bearer {token}"
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.fixture
async def client(app: Any, factory: Factory) -> AsyncIterator[httpx.AsyncClient]:
    """An admin's client: may do everything."""
    client = await _client_for(app, factory, "admin")
    yield client
    await client.aclose()


@pytest.fixture
def client_for(app: Any, factory: Factory) -> Any:
    """``await client_for("liaison", partner_id=...)``: a client signed in with that role."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: str, partner_id: int | None = None) -> httpx.AsyncClient:
        client = await _client_for(app, factory, role, partner_id)
        clients.append(client)
        return client

    return make


# --- an app on real commits, with a pool of one connection --------------------------------------


@pytest.fixture
async def engine_of_one(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine whose pool holds one connection: every request reuses it, and a request that
    keeps it blocks the next (``IPCP_DB_POOL_TIMEOUT`` later: 503)."""
    one = make_engine(settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}))
    yield one
    await one.dispose()


@pytest.fixture
async def committing(settings: Settings, engine_of_one: AsyncEngine) -> AsyncIterator[Any]:
    """The app as its lifespan wires it (``bind_database``) on ``engine_of_one``: writes
    commit for real. Yields the app; its ``client`` is signed in as a fresh staff user, and
    the user, its audit records and the frameworks coded ``<tag>-…`` go at the end."""
    app: Any = create_app(settings)
    bind_database(app.state, engine_of_one)
    app.state.shutting_down = False
    app.tag = f"S{uuid.uuid4().hex[:6]}".upper()
    async with app.state.sessionmaker() as session:
        user = User(username=app.tag.lower(), password_hash="unused", role="staff", active=True)
        session.add(user)
        await session.commit()
    token = create_token(app.state.secret_key, user_id=user.id, expires_in=600)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {token}"},
    ) as app.client:
        yield app
    async with app.state.sessionmaker() as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.user_id == user.id))
        await session.execute(delete(Framework).where(Framework.code.startswith(app.tag)))
        await session.execute(delete(User).where(User.id == user.id))
        await session.commit()
