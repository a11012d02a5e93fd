"""Reads run without a transaction, writes inside one — on the real engine, real commits.

The rolled-back ``connection`` fixture runs every request inside the test's own transaction,
so it cannot show what the production app sends around a request. Here the app is wired as its
lifespan wires it (``committing``), on a pool of one connection so that every request reuses
the same one, and every statement it executes is recorded with whether asyncpg had a
transaction open when it ran.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

FRAMEWORKS = "/api/v1/frameworks"


@pytest.fixture
def executed(engine_of_one: AsyncEngine) -> Iterator[list[tuple[str, bool]]]:
    """(statement, in a transaction?) for every statement the engine runs meanwhile."""
    seen: list[tuple[str, bool]] = []

    def record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        driver = conn.connection.driver_connection
        seen.append((statement.split(None, 1)[0].upper(), driver.is_in_transaction()))

    event.listen(engine_of_one.sync_engine, "after_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine_of_one.sync_engine, "after_cursor_execute", record)


def _code(app: Any) -> str:
    return f"{app.tag}-{uuid.uuid4().hex[:4]}".upper()


async def test_a_get_runs_outside_any_transaction(
    committing: Any, executed: list[tuple[str, bool]]
) -> None:
    response = await committing.client.get(FRAMEWORKS)
    assert response.status_code == 200
    # the token's user lookup, then the page and its total (one statement): each on its own
    assert [statement for statement, _ in executed] == ["SELECT", "SELECT"]
    assert not any(in_transaction for _, in_transaction in executed), executed


async def test_a_write_runs_inside_one_transaction(
    committing: Any, executed: list[tuple[str, bool]]
) -> None:
    client, code = committing.client, _code(committing)
    response = await client.post(FRAMEWORKS, json={"code": code, "name": "Sessions"})
    assert response.status_code == 201, response.text
    assert executed, "the POST ran no statement"
    assert all(in_transaction for _, in_transaction in executed), executed
    # committed for real: a read after it (no transaction) sees it
    executed.clear()
    listed = await client.get(FRAMEWORKS, params={"q": code})
    assert [item["code"] for item in listed.json()["items"]] == [code]
    assert not any(in_transaction for _, in_transaction in executed), executed


async def test_a_read_leaves_the_pooled_connection_transactional(
    committing: Any, engine_of_one: AsyncEngine, executed: list[tuple[str, bool]]
) -> None:
    """The autocommit mode is per checkout: the next write on the same pooled connection
    (the pool holds one) opens its transaction again: SQLAlchemy resets the level when the
    read gives the connection back."""
    assert engine_of_one.pool.size() == 1
    client = committing.client
    assert (await client.get(FRAMEWORKS)).status_code == 200
    executed.clear()
    created = await client.post(FRAMEWORKS, json={"code": _code(committing), "name": "After"})
    assert created.status_code == 201, created.text
    assert executed
    assert all(in_transaction for _, in_transaction in executed), executed
