"""The API with parts of its plumbing switched off, to see what each costs.

    BENCH_VARIANT=no-ping,no-metrics python -m bench --reuse --api-factory variants:create_app

Flags (comma separated in ``BENCH_VARIANT``); none of them is a proposal as it stands, each
only answers "how much of the gap to the floor is this?":

- ``no-ping``: no pool pre-ping (a ``SELECT 1`` round trip at every checkout);
- ``autocommit``: no BEGIN/COMMIT around the request (two round trips);
- ``no-metrics``: without the Prometheus middleware;
- ``no-access-log``: without the JSON access-log line;
- ``no-context``: without RequestContextMiddleware (request id, body limit, no-store, log);
- ``fast-auth`` and ``no-auth`` replace the dependency through ``dependency_overrides``, which
  FastAPI resolves again on every request (inspect.signature & co): compare them with each
  other, not with the plain app;
- ``fast-auth``: the same token check and user lookup, with the statement built once, run on
  the session's connection (Core, not the ORM) and the verified token's claims cached until
  it expires (same answers: the user row is still read on every request);
- ``no-auth``: no token check at all, every caller an admin (attribution only).
"""

import logging
import os
from typing import Any

from fastapi import FastAPI


def flags() -> set[str]:
    return {f.strip() for f in os.environ.get("BENCH_VARIANT", "").split(",") if f.strip()}


def create_app() -> FastAPI:
    from ipcp_api.app import create_app as create
    from ipcp_api.db.session import make_engine, make_sessionmaker

    chosen = flags()
    app = create()
    if "no-ping" in chosen or "autocommit" in chosen:
        # The app's own lifespan uses an engine it finds on app.state (and leaves it open).
        engine: Any = make_engine(app.state.settings)
        if "no-ping" in chosen:
            engine.sync_engine.pool._pre_ping = False
        if "autocommit" in chosen:
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
    dropped = set()
    if "no-metrics" in chosen:
        dropped.add("MetricsMiddleware")
    if "no-context" in chosen:
        dropped.add("RequestContextMiddleware")
    app.user_middleware = [m for m in app.user_middleware if m.cls.__name__ not in dropped]
    if "no-access-log" in chosen:
        logging.getLogger("ipcp_api.access").disabled = True
    if "fast-auth" in chosen or "no-auth" in chosen:
        from ipcp_api.auth.dependencies import current_actor

        replacement = _no_auth if "no-auth" in chosen else _fast_current_actor()
        app.dependency_overrides[current_actor] = replacement
    return app


async def _no_auth() -> Any:
    from ipcp_api.auth.actor import Actor
    from ipcp_api.enums import Role

    return Actor(user_id=1, username="bench-admin", role=Role.admin, partner_id=None)


def _fast_current_actor() -> Any:
    import time
    from typing import Annotated

    from fastapi import Depends, Request
    from sqlalchemy import bindparam, select

    from ipcp_api.auth.actor import Actor
    from ipcp_api.auth.dependencies import oauth2_scheme
    from ipcp_api.auth.security import decode_token
    from ipcp_api.common.types import MAX_BIGINT
    from ipcp_api.db.session import SessionDep
    from ipcp_api.enums import Role
    from ipcp_api.errors import Unauthorized
    from ipcp_api.models import User

    stmt = select(User.id, User.username, User.role, User.partner_id, User.active).where(
        User.id == bindparam("user_id")
    )
    verified: dict[str, tuple[int, float]] = {}  # token -> (user id, exp)

    async def fast_current_actor(
        request: Request,
        session: SessionDep,
        token: Annotated[str | None, Depends(oauth2_scheme)],
    ) -> Actor:
        if not token:
            raise Unauthorized("missing bearer token")
        known = verified.get(token)
        if known is None or known[1] <= time.time():
            claims = decode_token(request.app.state.secret_key, token)
            sub = claims.get("sub") if claims else None
            if not isinstance(sub, str) or not sub.isdigit() or int(sub) > MAX_BIGINT:
                raise Unauthorized("invalid or expired token")
            assert claims is not None
            known = verified[token] = (int(sub), float(claims["exp"]))
        connection = await session.connection()
        row = (await connection.execute(stmt, {"user_id": known[0]})).first()
        if row is None or not row.active:
            raise Unauthorized("invalid or expired token")
        actor = Actor(
            user_id=row.id, username=row.username, role=Role(row.role), partner_id=row.partner_id
        )
        request.state.user_id = actor.user_id
        return actor

    return fast_current_actor


def fastapi_asyncpg() -> FastAPI:
    """Calibration, not the API: FastAPI with one route (``GET /api/v1/projects/{id}``) that
    runs the floor's prepared statement on an asyncpg pool and returns orjson bytes: no
    token, no session, no middleware. Run with ``--only detail``. What the framework alone
    costs against the bare ASGI floor on this machine."""
    from contextlib import asynccontextmanager

    import floor
    import orjson
    from fastapi import Response

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        await floor.startup()
        yield
        await floor.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/api/v1/projects/{project_id}")
    async def project(project_id: int) -> Response:
        row = await floor.state.pool.fetchrow(floor.PROJECT, project_id, floor.today())
        if row is None:
            return Response(status_code=404)
        return Response(
            orjson.dumps(dict(row), option=orjson.OPT_UTC_Z),
            media_type="application/json",
            headers={"ETag": f'"{row["version"]}"'},
        )

    return app
