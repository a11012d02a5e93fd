"""``Idempotency-Key`` on POST: replay the first response, stored in the same transaction.

The guard (a dependency of every protected route) takes a transaction-scoped advisory lock on
(user, route, key) — a second request while the first is in flight gets 409 — then either
replays the stored response, rejects a different body with 422, or records the key. The route
class stores the response in that row before the request's transaction commits, so a write and
its key commit together or not at all (a failed request stores nothing and may be retried).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.auth.actor import Actor
from ipcp_api.auth.dependencies import CurrentActor
from ipcp_api.db.session import SessionDep
from ipcp_api.enums import Role
from ipcp_api.errors import ConflictInFlight, Forbidden, Invalid
from ipcp_api.models import IdempotencyKey

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
_REPLAYED_HEADERS = ("content-type", "location", "etag")


class Replay(Exception):
    """Carries the stored first response (built before the transaction ends)."""

    def __init__(self, row: IdempotencyKey) -> None:
        super().__init__("replay")
        headers = dict(row.headers or {})
        headers["Idempotent-Replayed"] = "true"
        self.response = Response(
            content=row.body or b"", status_code=row.status_code or 200, headers=headers
        )


# Who may create what (API.md, Access), by route: checked here too, so that a write the role
# may not make is refused before anything else — a replay included (a user demoted to viewer
# must not get the 201 of a key it used as a liaison). The routes check it again.
_CREATORS: dict[str, frozenset[Role]] = {
    "/users": frozenset({Role.admin}),
    "/frameworks": frozenset({Role.admin, Role.staff}),
    "/partners": frozenset({Role.admin, Role.staff}),
    "/pillars": frozenset({Role.admin, Role.staff}),
    "/committees": frozenset({Role.admin, Role.staff}),
    "/reviews": frozenset({Role.admin, Role.staff}),
    "/decisions": frozenset({Role.admin, Role.staff}),
    "/action-items": frozenset({Role.admin, Role.staff}),
}
_ANY_WRITER = frozenset({Role.admin, Role.staff, Role.liaison})


def check_may_create(actor: Actor, route_path: str) -> None:
    """403 unless the actor's role may create at this route (``/frameworks``, with or
    without the ``/api/v1`` prefix)."""
    if actor.role not in _CREATORS.get(route_path.removeprefix("/api/v1"), _ANY_WRITER):
        raise Forbidden(f"a {actor.role.value} user may not create this")


def _lock_key(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def idempotency_guard(request: Request, session: SessionDep, actor: CurrentActor) -> None:
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return
    route: Any = request.scope.get("route")
    route_path = getattr(route, "path", request.url.path)
    check_may_create(actor, route_path)
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise Invalid(("header", "Idempotency-Key"), "must be 1 to 255 characters")
    route_name = f"POST {route_path}"
    body_hash = hashlib.sha256(await request.body()).hexdigest()
    locked = await session.scalar(
        select(func.pg_try_advisory_xact_lock(_lock_key(str(actor.user_id), route_name, key)))
    )
    if not locked:
        raise ConflictInFlight("a request with this Idempotency-Key is still in progress")
    row = await session.get(IdempotencyKey, (actor.user_id, route_name, key))
    if row is not None:
        if row.request_hash != body_hash:
            raise Invalid(
                ("header", "Idempotency-Key"), "this key was used with a different request body"
            )
        raise Replay(row)
    row = IdempotencyKey(user_id=actor.user_id, route=route_name, key=key, request_hash=body_hash)
    session.add(row)
    await purge_now_and_then(request, session)
    request.state.idempotency = (session, row)


# Keys are kept 7 days (API.md: "at least 24 hours"; "kept 7 days, then purged"). No separate
# service: every ``IPCP_IDEMPOTENCY_PURGE_EVERY``-th new key of a process deletes a batch of
# expired ones in its own request's transaction (index on created_at; SKIP LOCKED, so two
# purges never wait for each other or deadlock).
RETENTION_DAYS = 7
PURGE_BATCH = 1000
_PURGE = text(
    """
    DELETE FROM idempotency_keys WHERE (user_id, route, key) IN (
        SELECT user_id, route, key FROM idempotency_keys
        WHERE created_at < now() - make_interval(days => :days)
        LIMIT :batch FOR UPDATE SKIP LOCKED
    )
    """
)


async def purge_expired(session: AsyncSession) -> int:
    result: Any = await session.execute(_PURGE, {"days": RETENTION_DAYS, "batch": PURGE_BATCH})
    return int(result.rowcount)


async def purge_now_and_then(request: Request, session: AsyncSession) -> None:
    state = request.app.state
    state.idempotency_keys_made = getattr(state, "idempotency_keys_made", 0) + 1
    if state.idempotency_keys_made % state.settings.idempotency_purge_every == 0:
        await purge_expired(session)


class ApiRoute(APIRoute):
    """Stores the response of a POST made with an Idempotency-Key before the commit.

    A POST route gets ``idempotency_guard`` as a dependency (after the router's own): other
    methods never read the header, so they do not resolve it (nor the session and the user it
    needs: a list or detail read checks the user in its own statement)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if "POST" in (kwargs.get("methods") or ()):
            dependencies = list(kwargs.get("dependencies") or ())
            if not any(d.dependency is idempotency_guard for d in dependencies):
                dependencies.append(Depends(idempotency_guard))
            kwargs["dependencies"] = dependencies
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            response = await handler(request)
            pending = getattr(request.state, "idempotency", None)
            if pending is not None and response.status_code < 400:
                session, row = pending
                row.status_code = response.status_code
                row.headers = {
                    k: v for k, v in response.headers.items() if k.lower() in _REPLAYED_HEADERS
                }
                row.body = bytes(response.body)
                await session.flush()
            return response

        return route_handler
