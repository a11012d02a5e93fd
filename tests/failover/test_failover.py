"""Failover to a promoted standby, on one machine, with real PostgreSQL servers.

A primary and a synchronous streaming standby (tests/replication.py); ``ipcp-api serve`` as
its own process on the two-host URL; a bounded load of creates, each with an Idempotency-Key.
The primary is stopped at once (``pg_ctl stop -m immediate``): the API answers 503 with
Retry-After, never 500. The standby is promoted: writes succeed again within seconds, with no
restart of the API. Afterwards every create answered 2xx is in the database, and retrying every
one with its key creates nothing twice.

Deselect locally with ``-m "not failover"``; CI runs it (the suite's default).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from ipcp_api.auth.security import create_token
from ipcp_api.db.migrations import upgrade
from tests.replication import ApiProcess, Cluster, primary_and_standby

pytestmark = pytest.mark.failover

SECRET = "failover-test-secret-key-" + "f" * 32
FRAMEWORKS = "/api/v1/frameworks"
WORKERS = 4
MAX_REQUESTS = 600
BACK_WITHIN = 15.0  # seconds from the promotion to the first write that succeeds


@dataclass
class Outcome:
    n: int
    started: float
    status: int | None  # None: no HTTP answer (the test fails on that)
    replayed: bool = False


@dataclass
class Load:
    outcomes: list[Outcome] = field(default_factory=list)
    next_n: int = 0
    stop: bool = False

    def body(self, n: int) -> dict[str, str]:
        return {"code": f"FO-{n}", "name": f"Failover {n}"}

    def key(self, n: int) -> str:
        return f"failover-{n}"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with primary_and_standby(synchronous=True) as cluster:
        upgrade(cluster.primary.dsn().replace("postgresql://", "postgresql+asyncpg://"))
        yield cluster


async def _admin_id(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval(
                "INSERT INTO users (username, password_hash, role)"
                " VALUES ('failover.admin', 'not-a-hash', 'admin') RETURNING id"
            )
        )
    finally:
        await connection.close()


async def _worker(client: httpx.AsyncClient, load: Load) -> None:
    while not load.stop and load.next_n < MAX_REQUESTS:
        n = load.next_n
        load.next_n += 1
        started = time.monotonic()
        try:
            response = await client.post(
                FRAMEWORKS, json=load.body(n), headers={"Idempotency-Key": load.key(n)}
            )
            status: int | None = response.status_code
            if status == 503:
                assert int(response.headers["retry-after"]) > 0
                assert response.headers["content-type"] == "application/problem+json"
        except httpx.TransportError:
            status = None
        load.outcomes.append(Outcome(n, started, status))
        if status == 503:
            await asyncio.sleep(0.1)


async def _until(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


async def test_failover_to_a_promoted_standby(cluster: Cluster) -> None:
    admin = await _admin_id(cluster.primary.dsn())
    token = create_token(SECRET, user_id=admin, expires_in=600)
    load = Load()
    with ApiProcess(
        cluster.two_host_url(), SECRET, IPCP_DB_CONNECT_TIMEOUT="2", IPCP_DB_POOL_TIMEOUT="2"
    ) as api:
        async with httpx.AsyncClient(
            base_url=api.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            workers = [asyncio.create_task(_worker(client, load)) for _ in range(WORKERS)]
            try:
                await _until(lambda: sum(o.status == 201 for o in load.outcomes) >= 20, 30)
                await asyncio.to_thread(cluster.primary.stop, "immediate")
                stopped = time.monotonic()
                # no host accepts writes now: 503s, and no 2xx
                await _until(
                    lambda: any(o.status == 503 and o.started > stopped for o in load.outcomes),
                    15,
                )
                await asyncio.sleep(0.5)
                await asyncio.to_thread(cluster.standby.promote)
                promoted = time.monotonic()
                await _until(
                    lambda: any(o.status == 201 and o.started > promoted for o in load.outcomes),
                    BACK_WITHIN,
                )
                back = min(
                    o.started for o in load.outcomes if o.status == 201 and o.started > promoted
                )
                await _until(
                    lambda: (
                        sum(o.status == 201 and o.started > promoted for o in load.outcomes) >= 20
                    ),
                    15,
                )
            finally:
                load.stop = True
                await asyncio.gather(*workers)
            statuses = {o.status for o in load.outcomes}
            assert statuses <= {201, 503}, (sorted(statuses, key=str), api.log())
            assert any(o.status == 503 for o in load.outcomes)
            assert back - promoted < BACK_WITHIN

            # every create answered 2xx is in the (new primary's) database
            connection = await asyncpg.connect(cluster.standby.dsn())
            try:
                stored = {
                    r["code"]
                    for r in await connection.fetch(
                        "SELECT code FROM frameworks WHERE code LIKE 'FO-%'"
                    )
                }
            finally:
                await connection.close()
            acknowledged = {load.body(o.n)["code"] for o in load.outcomes if o.status == 201}
            assert acknowledged <= stored, acknowledged - stored

            # retrying every request with its key: the 201s replay, the others are created
            # once (or replayed, if their commit made it before the primary went)
            for outcome in sorted(load.outcomes, key=lambda o: o.n):
                retry = await client.post(
                    FRAMEWORKS,
                    json=load.body(outcome.n),
                    headers={"Idempotency-Key": load.key(outcome.n)},
                )
                assert retry.status_code == 201, (outcome, retry.text)
                if outcome.status == 201:
                    assert retry.headers.get("idempotent-replayed") == "true"
    connection = await asyncpg.connect(cluster.standby.dsn())
    try:
        rows = await connection.fetchval("SELECT count(*) FROM frameworks WHERE code LIKE 'FO-%'")
        distinct = await connection.fetchval(
            "SELECT count(DISTINCT name) FROM frameworks WHERE code LIKE 'FO-%'"
        )
    finally:
        await connection.close()
    assert rows == distinct == len(load.outcomes)
