"""Lists and detail reads check the caller's user in the statement that reads the rows (one
round trip; ``common/listing.py: list_visible / read_visible``). What must still hold: a
deactivated user or a revoked token is refused at once (401, never the rows, never a 404),
on every app instance; a row the user may not see is 404; and the per-process guess of the
user's scope never widens what anybody sees when it is stale."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from ipcp_api.app import create_app
from ipcp_api.auth.security import create_token
from ipcp_api.config import Settings
from tests.factories import Factory


async def _world(factory: Factory) -> dict[str, Any]:
    mine, other = await factory.partner(), await factory.partner()
    programme = await factory.programme(partner_id=mine.id)
    theirs = await factory.programme(partner_id=other.id)
    return {
        "mine": mine,
        "other": other,
        "programme": programme,
        "theirs": theirs,
        "project": await factory.project(programme_id=programme.id),
        "their_project": await factory.project(programme_id=theirs.id),
    }


def _reads(world: dict[str, Any]) -> list[str]:
    return [
        "/api/v1/projects",
        f"/api/v1/projects/{world['project'].id}",
        "/api/v1/programmes",
        f"/api/v1/programmes/{world['programme'].id}",
        f"/api/v1/milestones?project_id={world['project'].id}",
        f"/api/v1/partners/{world['mine'].id}",
    ]


@pytest.mark.parametrize(
    "change", [{"active": False}, {"password": "a brand new passphrase"}, "delete"]
)
async def test_a_refused_user_gets_401_from_every_read_at_once(
    change: Any, client: httpx.AsyncClient, client_for: Any, factory: Factory
) -> None:
    world = await _world(factory)
    liaison = await client_for("liaison", partner_id=world["mine"].id)
    for url in _reads(world):  # the user is known to this process from here on
        assert (await liaison.get(url)).status_code == 200, url
    url = f"/api/v1/users/{liaison.user.id}"
    if change == "delete":
        assert (await client.delete(url)).status_code == 204
    else:
        assert (await client.patch(url, json=change)).status_code == 200
    for url in [*_reads(world), "/api/v1/projects/999999999", "/api/v1/projects/0"]:
        response = await liaison.get(url)
        assert response.status_code == 401, (url, response.text)
        assert "items" not in response.text
    etag = '"1"'
    response = await liaison.get(
        f"/api/v1/projects/{world['project'].id}", headers={"If-None-Match": etag}
    )
    assert response.status_code == 401


async def test_not_visible_is_404_and_a_known_user_reads_in_one_statement(
    client_for: Any, factory: Factory, statements: Any
) -> None:
    world = await _world(factory)
    liaison = await client_for("liaison", partner_id=world["mine"].id)
    statements.reset()
    assert (await liaison.get(f"/api/v1/projects/{world['project'].id}")).status_code == 200
    assert statements.count == 2, [s[:80] for s in statements.statements]  # the user first
    for url, expected in [
        (f"/api/v1/projects/{world['their_project'].id}", 404),
        ("/api/v1/projects/999999999", 404),
        (f"/api/v1/programmes/{world['theirs'].id}", 404),
        (f"/api/v1/programmes/{world['programme'].id}", 200),
    ]:
        statements.reset()
        response = await liaison.get(url)
        assert response.status_code == expected, (url, response.text)
        assert statements.count == 1, statements.statements
        assert "FROM users AS caller_user" in statements.statements[0]


@pytest.mark.parametrize("was", ["admin", "liaison"])
async def test_a_stale_guess_of_the_scope_is_read_again_with_the_users_scope(
    was: str, client_for: Any, factory: Factory, statements: Any
) -> None:
    """A change of role or partner that bumped no token version (a direct UPDATE): the rows
    read with the remembered scope are discarded and read again with the user's own."""
    world = await _world(factory)
    caller = await client_for(was, partner_id=world["other"].id if was == "liaison" else None)
    listed = (await caller.get("/api/v1/programmes", params={"limit": 200})).json()["items"]
    assert world["theirs"].id in {row["id"] for row in listed}
    await factory.session.execute(
        text("UPDATE users SET role = 'liaison', partner_id = :partner WHERE id = :id"),
        {"partner": world["mine"].id, "id": caller.user.id},
    )
    statements.reset()
    listed = (await caller.get("/api/v1/programmes", params={"limit": 200})).json()
    assert [row["id"] for row in listed["items"]] == [world["programme"].id]
    assert listed["total"] == 1
    assert statements.count == 2  # the stale guess, then the right scope
    statements.reset()
    theirs = await caller.get(f"/api/v1/programmes/{world['theirs'].id}")
    assert theirs.status_code == 404
    assert statements.count == 1  # the guess is now the user's scope


async def test_deactivation_on_another_instance_locks_the_token_out(
    settings: Settings, app: Any, client: httpx.AsyncClient, client_for: Any, factory: Factory
) -> None:
    """Two instances of the app (two workers or replicas), each with its own memory of users:
    a deactivation made through one is refused at once by the other."""
    world = await _world(factory)
    liaison = await client_for("liaison", partner_id=world["mine"].id)
    assert (await liaison.get("/api/v1/projects")).status_code == 200
    other: Any = create_app(settings)
    for name in ("engine", "sessionmaker", "read_sessionmaker", "read_connect", "login_throttle"):
        setattr(other.state, name, getattr(app.state, name))
    other.state.shutting_down = False
    token = create_token(other.state.secret_key, user_id=client.user.id, expires_in=600)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other),
        base_url="http://test",
        headers={"Authorization": f"Bearer {token}"},
    ) as admin_elsewhere:
        url = f"/api/v1/users/{liaison.user.id}"
        assert (await admin_elsewhere.patch(url, json={"active": False})).status_code == 200
    for url in _reads(world):
        assert (await liaison.get(url)).status_code == 401, url


def test_every_protected_route_checks_the_user() -> None:
    """Behind the router's token check (no database), each route checks the user: through
    ``current_actor``, or, for a list or detail read, in its own statement."""
    import inspect

    from fastapi.routing import APIRoute, iter_route_contexts

    from ipcp_api.auth.dependencies import current_actor, token_caller
    from ipcp_api.common.idempotency import idempotency_guard
    from ipcp_api.config import load_settings

    def calls(dependant: Any) -> list[Any]:
        found = []
        for sub in dependant.dependencies:
            found += [sub.call, *calls(sub)]
        return found

    app = create_app(load_settings(secret_key="route-table-" + "x" * 40))
    checked = gated = 0
    for context in iter_route_contexts(app.router.routes):
        route = context.route
        if not isinstance(route, APIRoute) or not context.path.startswith("/api/v1/"):
            continue
        if context.path == "/api/v1/auth/token":
            continue
        found = calls(route.dependant)
        assert token_caller in found, context.path
        if "POST" in route.methods:  # the Idempotency-Key guard: on every POST (ApiRoute)
            assert idempotency_guard in found, context.path
        if current_actor in found:
            checked += 1
            continue
        source = inspect.getsource(route.endpoint)
        assert "listing.list_visible(" in source or "listing.read_visible(" in source, (
            route.methods,
            context.path,
        )
        gated += 1
    assert gated == 12
    assert checked > 20
