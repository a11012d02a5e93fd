"""Two admins demoting (deactivating, deleting) each other at the same moment: one 200, one
409 — never zero admins (issue 14, item 7). Real commits on a database of its own, so that
no other admin can exist."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from ipcp_api.app import create_app
from ipcp_api.auth.security import create_token
from ipcp_api.config import Settings
from ipcp_api.db.migrations import upgrade
from ipcp_api.db.session import bind_database, make_engine
from ipcp_api.models import User
from tests.test_migrations import scratch_url  # noqa: F401  (the fixture)


@pytest.fixture
async def app(scratch_url: str, settings: Settings) -> AsyncIterator[Any]:  # noqa: F811
    await asyncio.to_thread(upgrade, scratch_url)
    own = settings.model_copy(update={"database_url": scratch_url})
    app: Any = create_app(own)
    engine = make_engine(own)
    bind_database(app.state, engine)
    app.state.shutting_down = False
    yield app
    await engine.dispose()


class Admin(httpx.AsyncClient):
    user_id: int


async def _admin(app: Any, name: str) -> Admin:
    async with app.state.sessionmaker() as session, session.begin():
        user = User(username=name, password_hash="unused", role="admin", active=True)
        session.add(user)
    token = create_token(app.state.secret_key, user_id=user.id, expires_in=600)
    client = Admin(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {token}"},
    )
    client.user_id = user.id
    return client


async def _waiting_for_locks(app: Any, count: int) -> None:
    """Until ``count`` other sessions wait for a row lock (the two requests are past their
    authentication and queued on the admins' rows)."""
    for _ in range(200):
        async with app.state.sessionmaker() as session:
            waiting = await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            )
        if waiting == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} requests never waited for the lock")


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("PATCH", {"role": "staff"}),
        ("PATCH", {"active": False}),
        ("DELETE", None),
    ],
)
async def test_two_admins_removing_each_other(app: Any, method: str, body: Any) -> None:
    a, b = await _admin(app, "admin.a"), await _admin(app, "admin.b")
    # Hold both admins' rows so that the two requests start together and queue up, then let
    # them go at the same moment.
    async with app.state.sessionmaker() as holder, holder.begin():
        await holder.execute(select(User.id).where(User.role == "admin").with_for_update())
        requests = [
            asyncio.create_task(
                caller.request(method, f"/api/v1/users/{target.user_id}", json=body)
            )
            for caller, target in ((a, b), (b, a))
        ]
        await _waiting_for_locks(app, 2)
    answers = await asyncio.gather(*requests)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200 if method == "PATCH" else 204, 409], [r.text for r in answers]
    loser = next(r for r in answers if r.status_code == 409)
    assert loser.json()["detail"] == "there must always be at least one active admin"
    async with app.state.sessionmaker() as session:
        admins = await session.scalar(
            select(func.count()).select_from(User).where(User.role == "admin", User.active)
        )
    assert admins == 1
    await a.aclose()
    await b.aclose()


async def test_the_last_admin_stays(app: Any) -> None:
    a, b = await _admin(app, "admin.a"), await _admin(app, "admin.b")
    assert (await a.patch(f"/api/v1/users/{b.user_id}", json={"role": "staff"})).status_code == 200
    # b is staff now; a is the last admin and cannot be removed by anyone, nor by itself
    staff_b = b
    assert (
        await staff_b.patch(f"/api/v1/users/{a.user_id}", json={"active": False})
    ).status_code in {401, 403}
    assert (await a.patch(f"/api/v1/users/{a.user_id}", json={"role": "staff"})).status_code == 409
    # an inactive admin does not count: reactivating b as admin, then demoting works again
    assert (await a.patch(f"/api/v1/users/{b.user_id}", json={"role": "admin"})).status_code == 200
    assert (await a.patch(f"/api/v1/users/{b.user_id}", json={"active": False})).status_code == 200
    await a.aclose()
    await b.aclose()
