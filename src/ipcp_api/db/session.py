"""Engine, sessions and the one-transaction-per-request dependency."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from ipcp_api.config import Settings


def bounded_ping(timeout: float) -> Callable[[Any], bool]:
    """The pool's pre-ping, with a deadline.

    SQLAlchemy's own ping waits as long as asyncpg's ``command_timeout`` (the statement
    timeout + 5 s): with a hung server or a network partition, every request would wait 20 s
    before its 503 (tests/faults/test_database.py::test_frozen_database_answers_503_fast).
    A ping that gets no answer within ``timeout`` marks the connection dead; the pool then
    drops it and connects afresh, which the connect timeout bounds too. The dead connection
    is terminated here: SQLAlchemy would first try a graceful close, which waits 2 s more on
    a server that does not answer.
    """

    def do_ping(dbapi_connection: Any) -> bool:
        try:
            # Simple-query protocol: no prepared statement (pgbouncer-safe), one round trip.
            dbapi_connection.run_async(lambda raw: raw.execute("SELECT 1", timeout=timeout))
        except Exception:
            dbapi_connection.driver_connection.terminate()
            return False
        return True

    return do_ping


# PostgreSQL's binary ``date``: a signed 32-bit count of days since 2000-01-01, where the two
# extreme values mean -infinity and infinity.
_PG_EPOCH = date(2000, 1, 1).toordinal()
_DAYS = struct.Struct("!i")
_PG_INFINITY = 2**31 - 1
_PG_MINUS_INFINITY = -(2**31)


def encode_date(value: date) -> bytes:
    """A date exactly as it is: ``date.min`` is 0001-01-01 and ``date.max`` 9999-12-31.

    asyncpg's own codec sends ``date.min`` / ``date.max`` as -infinity / infinity, so a client
    that stored 0001-01-01 would read back an infinite date, and every report computing with
    it would fail (``cannot subtract infinite dates``).
    """
    return _DAYS.pack(value.toordinal() - _PG_EPOCH)


def decode_date(data: bytes) -> date:
    days = _DAYS.unpack(data)[0]
    # No infinite date can be stored (CHECK isfinite on every date column); an infinite value
    # computed in SQL still reads as the extreme date, as asyncpg would read it.
    if days == _PG_INFINITY:
        return date.max
    if days == _PG_MINUS_INFINITY:
        return date.min
    return date.fromordinal(days + _PG_EPOCH)


def install_date_codec(engine: AsyncEngine) -> None:
    """On every new connection of ``engine``, read and write dates exactly (``encode_date``)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _set_date_codec(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.run_async(
            lambda raw: raw.set_type_codec(
                "date",
                schema="pg_catalog",
                encoder=encode_date,
                decoder=decode_date,
                format="binary",
            )
        )


def make_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    """An engine with short timeouts: a down database answers 503 fast, never hangs."""
    engine = create_async_engine(
        url or str(settings.require_url().render_as_string(hide_password=False)),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=True,
        connect_args={
            "timeout": settings.db_connect_timeout,
            "command_timeout": settings.db_statement_timeout_ms / 1000 + 5,
            "server_settings": {
                "application_name": "ipcp-api",
                # JIT is pure compile overhead for our report aggregates (DESIGN.md).
                "jit": "off",
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "idle_in_transaction_session_timeout": "60000",
                "lock_timeout": "10000",
            },
        },
    )
    # Dialect.do_ping is the documented hook the pre-ping calls; bound it (see above).
    engine.sync_engine.dialect.do_ping = bounded_ping(  # type: ignore[method-assign,assignment]
        settings.db_connect_timeout
    )
    install_date_codec(engine)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


READ_METHODS = frozenset({"GET", "HEAD"})


def bind_database(state: Any, engine: AsyncEngine) -> None:
    """Give an app (its ``state``) the engine and its two kinds of session.

    ``sessionmaker``: one transaction per request (every write). ``read_sessionmaker``: the same
    pool in autocommit mode, for GET and HEAD, which never write. At READ COMMITTED (the
    server's default, never changed here) every statement takes its own snapshot whether or
    not it runs inside a transaction, so a read loses nothing without one, and saves two
    round trips (``BEGIN`` and ``COMMIT``) out of a detail request's five (bench/README.md).
    The connection goes back to the pool in its usual mode (SQLAlchemy resets the level).
    """
    state.engine = engine
    state.sessionmaker = make_sessionmaker(engine)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    state.read_sessionmaker = make_sessionmaker(autocommit)
    state.read_connect = autocommit.connect


@asynccontextmanager
async def read_connection(state: Any) -> AsyncIterator[AsyncConnection]:
    """A plain connection in autocommit for one read (``common/listing.py``): no
    ``AsyncSession`` to open and close, no dependency to resolve; back to the pool on exit.

    An app whose ``state.read_connect`` is None (the tests: every request in the test's own
    transaction) reads on a session of its ``read_sessionmaker`` instead."""
    connect = getattr(state, "read_connect", None)
    if connect is None:
        maker: async_sessionmaker[AsyncSession] = state.read_sessionmaker
        async with maker() as session:
            yield await session.connection()
        return
    async with connect() as connection:
        yield connection


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; for writes one transaction, committed before the response
    is sent.

    Used with ``Depends(..., scope="function")``: the code after ``yield`` runs once the
    endpoint has returned and its response is built, but before it is sent, so a commit
    that fails becomes an error response instead of a 2xx. GET and HEAD get an autocommit
    session (``bind_database``) and no commit.
    """
    state = request.app.state
    if request.method in READ_METHODS:
        read_maker: async_sessionmaker[AsyncSession] = state.read_sessionmaker
        async with read_maker() as session:
            yield session  # nothing to commit: closing gives the connection back
        return
    maker: async_sessionmaker[AsyncSession] = state.sessionmaker
    async with maker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
