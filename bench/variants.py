"""The API with parts of its plumbing switched off, to see what each costs.

    BENCH_VARIANT=no-ping,no-metrics python -m bench --reuse --api-factory variants:create_app

Flags (comma separated in ``BENCH_VARIANT``); none of them is a proposal as it stands, each
only answers "how much of the gap to the floor is this?":

- ``no-ping``: no pool pre-ping (a ``SELECT 1`` round trip at every checkout);
- ``transaction``: GETs inside BEGIN/COMMIT, as before reads ran in autocommit (two round
  trips more);
- ``no-metrics``: without the Prometheus middleware;
- ``no-access-log``: without the JSON access-log line;
- ``no-context``: without RequestContextMiddleware (request id, body limit, no-store, log);
- ``no-auth``: no token check at all, every caller an admin (attribution only; through
  ``dependency_overrides``, which FastAPI resolves again on every request, so it costs a
  little more than it saves elsewhere).
"""

import logging
import os
from typing import Any

from fastapi import FastAPI


def flags() -> set[str]:
    return {f.strip() for f in os.environ.get("BENCH_VARIANT", "").split(",") if f.strip()}


def create_app() -> FastAPI:
    from ipcp_api.app import create_app as create
    from ipcp_api.db.session import bind_database, make_engine

    chosen = flags()
    app = create()
    if "no-ping" in chosen or "transaction" in chosen:
        # The app's own lifespan uses an engine it finds on app.state (and leaves it open).
        engine: Any = make_engine(app.state.settings)
        if "no-ping" in chosen:
            engine.sync_engine.pool._pre_ping = False
        bind_database(app.state, engine)
        if "transaction" in chosen:
            app.state.read_sessionmaker = app.state.sessionmaker
            app.state.read_connect = None  # the list and detail reads use that maker too
    dropped = set()
    if "no-metrics" in chosen:
        dropped.add("MetricsMiddleware")
    if "no-context" in chosen:
        dropped.add("RequestContextMiddleware")
    app.user_middleware = [m for m in app.user_middleware if m.cls.__name__ not in dropped]
    if "no-access-log" in chosen:
        logging.getLogger("ipcp_api.access").disabled = True
    if "no-auth" in chosen:
        # Routes that read the user on its own only: the list and detail reads check it in
        # their own statement (common/listing.py), which no override reaches.
        from ipcp_api.auth.dependencies import current_actor

        app.dependency_overrides[current_actor] = _no_auth
    return app


async def _no_auth() -> Any:
    from ipcp_api.auth.actor import Actor
    from ipcp_api.enums import Role

    return Actor(user_id=1, username="bench-admin", role=Role.admin, partner_id=None)


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
