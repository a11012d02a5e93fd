"""Reports from a streaming standby (``IPCP_DATABASE_READ_URL``), with a real primary and
standby: served by the standby while its replay lag is within ``IPCP_READ_MAX_LAG_SECONDS``,
by the primary otherwise, and ``X-Served-By`` says which. An idle primary is not lag.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.app import create_app
from ipcp_api.auth.security import create_token
from ipcp_api.config import load_settings
from ipcp_api.db.migrations import upgrade
from ipcp_api.db.replica import StandbyReads
from ipcp_api.db.session import make_engine
from tests.replication import Cluster, primary_and_standby

pytestmark = pytest.mark.failover

SECRET = "standby-reads-secret-key-" + "s" * 32
PORTFOLIO = "/api/v1/reports/portfolio"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with primary_and_standby(synchronous=True) as cluster:
        upgrade(cluster.primary.dsn().replace("postgresql://", "postgresql+asyncpg://"))
        yield cluster


async def _sql(dsn: str, statement: str) -> Any:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
async def admin_id(cluster: Cluster) -> int:
    return int(
        await _sql(
            cluster.primary.dsn(),
            "INSERT INTO users (username, password_hash, role)"
            " VALUES ('standby.admin', 'not-a-hash', 'admin') RETURNING id",
        )
    )


async def _client(cluster: Cluster, admin_id: int, max_lag: float) -> AsyncIterator[Any]:
    settings = load_settings(
        database_url=cluster.primary.dsn(),
        database_read_url=cluster.standby.dsn(),
        read_max_lag_seconds=max_lag,
        secret_key=SECRET,
        data_dir=str(cluster.root / "app"),
        db_connect_timeout=2,
    )
    app: Any = create_app(settings)
    async with app.router.lifespan_context(app):
        token = create_token(SECRET, user_id=admin_id, expires_in=600)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            yield client


@pytest.fixture
async def client(cluster: Cluster, admin_id: int) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(cluster, admin_id, max_lag=1):
        yield client


async def _served_by(client: httpx.AsyncClient, url: str = PORTFOLIO, **params: str) -> str:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.headers["x-served-by"]


async def _eventually(client: httpx.AsyncClient, expected: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (served := await _served_by(client)) != expected:
        assert time.monotonic() < deadline, f"still {served}"
        await asyncio.sleep(0.2)


async def test_reports_come_from_a_caught_up_standby(client: httpx.AsyncClient) -> None:
    await _eventually(client, "standby")
    for fmt in ("application/json", "text/csv"):
        response = await client.get(PORTFOLIO, headers={"Accept": fmt})
        assert response.status_code == 200
        assert response.headers["x-served-by"] == "standby"


async def test_an_idle_primary_is_not_lag(client: httpx.AsyncClient) -> None:
    """Nothing written for longer than the allowed lag: ``now() - last replayed commit``
    grows, but the standby has replayed everything the primary has, so it still serves."""
    await _eventually(client, "standby")
    await asyncio.sleep(2.5)
    assert await _served_by(client) == "standby"


async def test_a_lagging_standby_hands_reports_to_the_primary(
    client: httpx.AsyncClient, cluster: Cluster
) -> None:
    await _eventually(client, "standby")
    await _sql(cluster.standby.dsn(), "SELECT pg_wal_replay_pause()")
    try:
        await _sql(
            cluster.primary.dsn(),
            "INSERT INTO partners (code, kind, name) VALUES ('LAG', 'organisation', 'Lagging')",
        )
        await _eventually(client, "primary")  # once the lag is over a second
    finally:
        await _sql(cluster.standby.dsn(), "SELECT pg_wal_replay_resume()")
    await _eventually(client, "standby")  # caught up again: back to the standby


async def test_something_too_new_for_the_standby_comes_from_the_primary(
    cluster: Cluster, admin_id: int
) -> None:
    """Within the allowed lag the standby may not have a programme created a moment ago:
    its 404 is not the answer; the primary's report is."""
    async for client in _client(cluster, admin_id, max_lag=60):
        await _eventually(client, "standby")
        await _sql(cluster.standby.dsn(), "SELECT pg_wal_replay_pause()")
        try:
            partner = await client.post(
                "/api/v1/partners", json={"code": "NEW", "kind": "organisation", "name": "New"}
            )
            assert partner.status_code == 201, partner.text
            url = f"/api/v1/partners/{partner.json()['id']}/report"
            assert await _served_by(client, url) == "primary"
            assert await _served_by(client) == "standby"  # still within 60 s of lag
        finally:
            await _sql(cluster.standby.dsn(), "SELECT pg_wal_replay_resume()")


async def test_a_standby_that_is_down_hands_reports_to_the_primary(
    client: httpx.AsyncClient, cluster: Cluster
) -> None:
    await _eventually(client, "standby")
    await asyncio.to_thread(cluster.standby.stop, "fast")
    try:
        await _eventually(client, "primary")
    finally:
        await asyncio.to_thread(cluster.standby.start)


async def test_a_recovery_conflict_is_retried_once_on_the_primary(cluster: Cluster) -> None:
    """A real conflict: the standby's query holds a lock on a table the primary truncates
    (its AccessExclusiveLock is replayed), with ``max_standby_streaming_delay = 0``: the
    standby cancels the query (SQLSTATE 40001) and the work is done again on the primary."""
    primary, standby = cluster.primary.dsn(), cluster.standby.dsn()
    await _exec(primary, "CREATE TABLE scratch (n int)", "INSERT INTO scratch VALUES (1)")
    await _exec(
        standby, "ALTER SYSTEM SET max_standby_streaming_delay = 0", "SELECT pg_reload_conf()"
    )
    settings = load_settings(
        database_url=primary, database_read_url=standby, secret_key=SECRET, db_connect_timeout=2
    )
    reads = StandbyReads.from_settings(settings)
    engine = make_engine(settings)
    # the standby sleeps inside the query (holding its lock); the primary does not
    slow = text(
        "SELECT count(*) FROM scratch, LATERAL (SELECT 1 FROM"
        " pg_sleep(CASE WHEN pg_is_in_recovery() THEN 20 ELSE 0 END)) AS nap"
    )

    async def build(session: AsyncSession) -> int:
        return int(await session.scalar(slow) or 0)

    try:
        deadline = time.monotonic() + 10
        while await _sql(standby, "SELECT to_regclass('scratch') IS NULL"):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        async with AsyncSession(engine) as session:
            running = asyncio.create_task(reads.run(session, build))
            await asyncio.sleep(1.0)  # the standby's query is asleep, holding its lock
            assert not running.done()
            # one transaction: the retry on the primary waits for it, then sees both rows
            await _exec(primary, "TRUNCATE scratch; INSERT INTO scratch VALUES (1), (2)")
            count, served_by = await asyncio.wait_for(running, 15)
        assert served_by == "primary"
        assert count == 2  # the primary's rows
    finally:
        await reads.dispose()
        await engine.dispose()
        await _exec(standby, "ALTER SYSTEM RESET max_standby_streaming_delay")
        await _exec(standby, "SELECT pg_reload_conf()")
        await _exec(primary, "DROP TABLE IF EXISTS scratch")


async def _exec(dsn: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()
