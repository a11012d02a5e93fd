"""Two replicas behave as one: two separate ``ipcp-api serve`` processes on two ports, one
database. Whatever they share lives in PostgreSQL: the login throttle, users (a deactivation
through one is refused at once by the other), and Idempotency-Keys.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ipcp_api.auth.security import create_token, hash_password
from ipcp_api.auth.throttle import username_key
from ipcp_api.models import AuditEvent, Framework, IdempotencyKey, LoginThrottleEntry, User
from tests.replication import ApiProcess

pytestmark = pytest.mark.failover

SECRET = "replicas-test-secret-key-" + "r" * 32
TOKEN = "/api/v1/auth/token"
PASSWORD = "replica password, long enough"


@pytest.fixture(scope="module")
def replicas(database_url: str) -> Iterator[tuple[ApiProcess, ApiProcess]]:
    with ApiProcess(database_url, SECRET) as one, ApiProcess(database_url, SECRET) as two:
        yield one, two


@pytest.fixture
async def people(engine: AsyncEngine) -> AsyncIterator[dict[str, User]]:
    """An admin and two staff users, committed; they and what they made go at the end."""
    tag = uuid.uuid4().hex[:6]
    maker = async_sessionmaker(engine, expire_on_commit=False)
    password_hash = await asyncio.to_thread(hash_password, PASSWORD)
    users = {
        role: User(username=f"rep.{role}.{tag}", password_hash=password_hash, role=kind)
        for role, kind in (("admin", "admin"), ("target", "staff"), ("leaver", "staff"))
    }
    async with maker() as session:
        session.add_all(users.values())
        await session.commit()
    yield users
    ids = [user.id for user in users.values()]
    async with maker() as session:
        await _cleanup(session, ids, [user.username for user in users.values()], tag)
        await session.commit()


async def _cleanup(session: AsyncSession, ids: list[int], names: list[str], tag: str) -> None:
    await session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id.in_(ids)))
    await session.execute(
        delete(AuditEvent).where(or_(AuditEvent.user_id.in_(ids), AuditEvent.entity_id.in_(ids)))
    )
    await session.execute(delete(Framework).where(Framework.code == f"REP-{tag}".upper()))
    keys = [username_key(name) for name in names]
    await session.execute(delete(LoginThrottleEntry).where(LoginThrottleEntry.key.in_(keys)))
    await session.execute(delete(User).where(User.id.in_(ids)))


def _client(api: ApiProcess, user: User | None = None) -> httpx.AsyncClient:
    headers = {}
    if user is not None:
        token = create_token(SECRET, user_id=user.id, expires_in=600)
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(base_url=api.base_url, headers=headers, timeout=30)


async def test_failed_logins_split_across_replicas_lock_on_both(
    replicas: tuple[ApiProcess, ApiProcess], people: dict[str, User]
) -> None:
    one, two = replicas
    name = people["target"].username
    async with _client(one) as a, _client(two) as b:
        for client in (a, b, a, b, a):  # 5 failures: 3 on one replica, 2 on the other
            wrong = await client.post(TOKEN, data={"username": name, "password": "not it at all"})
            assert wrong.status_code == 401
        for client in (a, b):
            refused = await client.post(TOKEN, data={"username": name, "password": PASSWORD})
            assert refused.status_code == 429, refused.text
            assert 0 < int(refused.headers["retry-after"]) <= 300


async def test_a_user_deactivated_through_one_is_refused_by_the_other(
    replicas: tuple[ApiProcess, ApiProcess], people: dict[str, User]
) -> None:
    one, two = replicas
    leaver = people["leaver"]
    async with _client(one, people["admin"]) as admin_on_one, _client(two) as anon_on_two:
        login = await anon_on_two.post(
            TOKEN, data={"username": leaver.username, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert (await anon_on_two.get("/api/v1/users/me", headers=headers)).status_code == 200
        patched = await admin_on_one.patch(f"/api/v1/users/{leaver.id}", json={"active": False})
        assert patched.status_code == 200, patched.text
        # at once: the other replica had verified (and remembered) the token a moment ago
        assert (await anon_on_two.get("/api/v1/users/me", headers=headers)).status_code == 401


async def test_an_idempotency_key_replays_on_the_other_replica(
    replicas: tuple[ApiProcess, ApiProcess], people: dict[str, User], engine: AsyncEngine
) -> None:
    one, two = replicas
    code = "REP-" + people["admin"].username.rsplit(".", 1)[1].upper()
    body: dict[str, Any] = {"code": code, "name": "Created once"}
    key = {"Idempotency-Key": f"replica-{code}"}
    async with _client(one, people["admin"]) as a, _client(two, people["admin"]) as b:
        first = await a.post("/api/v1/frameworks", json=body, headers=key)
        assert first.status_code == 201, first.text
        again = await b.post("/api/v1/frameworks", json=body, headers=key)
        assert again.status_code == 201, again.text
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
    async with engine.connect() as connection:
        count = await connection.scalar(
            select(func.count()).select_from(Framework).where(Framework.code == code)
        )
    assert count == 1
