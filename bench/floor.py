"""The floor: the least work that answers the benchmarked requests with the API's bytes.

A bare ASGI callable (no framework, no middleware, no token check, no transaction): it reads
the path and the query string, runs one prepared asyncpg statement and writes the JSON with
orjson (the reports: the service's own SQL, see below). ``python -m bench`` serves it with
uvicorn, with as many workers as the API, and checks first that both answer every
benchmarked request with the same body (and the same ETag, Link and Content-Type).

    DATABASE_URL=postgresql://postgres@127.0.0.1/ipcp_bench_http \\
    IPCP_SECRET_KEY=... uvicorn floor:app --app-dir bench --workers 2

Routes (GET only, as the admin would see them; anything else is 404):

- ``/api/v1/projects?programme_id=&limit=``: a page by code, with the total and the next
  cursor (the API's signed cursor, so the Link header matches too);
- ``/api/v1/projects/{id}``;
- ``/api/v1/milestones?project_id=&limit=``: a page by due date;
- ``/api/v1/programmes/{id}/report?as_of=`` (JSON or ``Accept: text/csv``) and
  ``/api/v1/reports/portfolio?as_of=``.

Every statement is the API's own, compiled once and executed as a prepared asyncpg
statement: the lists and the detail read from the specs of ``common/listing.py``
(``list_statement``, ``one_statement``: the page and its total together), the reports from
``programme_statements`` / ``portfolio_statement`` (the programme report is the service's 3
statements on one connection); pages are cut and cursors signed by ``common/pagination.py``
(``page_from_rows``), reports shaped by the service's own functions. Only the plumbing
differs, so the floor cannot win by running different SQL.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import asyncpg
import orjson

Send = Callable[[dict[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

JSON = b"application/json"
DEFAULT_LIMIT = 50

# The lists and the detail read run the statements of the API's own specs
# (``common/listing.py``: ``list_statement`` / ``one_statement`` of ``projects.LISTING`` and
# ``milestones.LISTING``), compiled once; a refactor of a spec moves both sides alike.
LISTS = {"projects": ("projects", "programme_id"), "milestones": ("milestones", "project_id")}


def _spec(collection: str) -> Any:
    from ipcp_api.milestones import service as milestones
    from ipcp_api.projects import service as projects

    return {"projects": projects.LISTING, "milestones": milestones.LISTING}[collection]


# --- the state of one worker -----------------------------------------------------------------


class State:
    pool: asyncpg.Pool
    cursor_key: bytes
    compiled: dict[str, list[Prepared]]


state = State()


async def _no_reset(_: asyncpg.Connection) -> None:
    """No RESET ALL round trip when a connection goes back to the pool: nothing is changed."""


async def startup() -> None:
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    state.pool = await asyncpg.create_pool(
        url,
        min_size=2,
        max_size=int(os.environ.get("FLOOR_POOL_SIZE", "10")),
        reset=_no_reset,
        server_settings={"jit": "off", "application_name": "ipcp-floor"},
    )
    secret = os.environ["IPCP_SECRET_KEY"]
    from ipcp_api.common.pagination import cursor_key

    state.cursor_key = cursor_key(secret)
    state.compiled = {}


def link(scope: dict[str, Any], query: list[tuple[str, str]], next_cursor: str) -> bytes:
    """The API's Link header: a relative reference (``common/listing.py: next_link``)."""
    params = dict(query)
    params["cursor"] = next_cursor
    return f'<{scope["path"]}?{urlencode(list(params.items()))}>; rel="next"'.encode()


def today() -> date:
    return datetime.now(UTC).date()


# --- handlers --------------------------------------------------------------------------------


async def page(
    scope: dict[str, Any], query: list[tuple[str, str]], collection: str
) -> tuple[int, Headers, bytes]:
    from ipcp_api.common import listing
    from ipcp_api.common.pagination import page_from_rows, parse_sort

    spec, parent = _spec(collection), LISTS[collection][1]
    args = dict(query)
    limit = int(args.get("limit", DEFAULT_LIMIT))
    order = parse_sort(None, spec.sort_fields, spec.default_sort)
    statements = _prepared(
        f"list:{collection}",
        lambda: [listing.list_statement(spec, False, (parent,), order.token, None)],
    )
    values = {parent: int(args[parent]), "page_limit": limit + 1, **spec.values()}
    (rows,) = await _run(statements, values)
    body = page_from_rows(rows, order, limit, state.cursor_key)
    headers: Headers = [(b"content-type", JSON)]
    if body["next_cursor"] is not None:
        headers.append((b"link", link(scope, query, body["next_cursor"])))
    return 200, headers, orjson.dumps(body, option=orjson.OPT_UTC_Z)


async def project(project_id: int) -> tuple[int, Headers, bytes]:
    from ipcp_api.common import listing

    spec = _spec("projects")
    statements = _prepared("one:projects", lambda: [listing.one_statement(spec, False)])
    (rows,) = await _run(statements, {"id": project_id, **spec.values()})
    if not rows:
        return 404, [], b""
    row = rows[0]
    headers = [(b"content-type", JSON), (b"etag", f'"{row["version"]}"'.encode())]
    return 200, headers, orjson.dumps(row, option=orjson.OPT_UTC_Z)


class Prepared:
    """A statement of the service compiled once: its SQL and how to order its arguments."""

    def __init__(self, stmt: Any) -> None:
        from sqlalchemy.dialects.postgresql.asyncpg import dialect

        compiled = stmt.compile(dialect=dialect())
        self.sql = str(compiled)
        self.names = list(compiled.positiontup)
        self.defaults = compiled.params  # the constants the statement carries

    def args(self, values: dict[str, Any]) -> list[Any]:
        return [values[n] if n in values else self.defaults[n] for n in self.names]


def _prepared(key: str, build: Callable[[], Any]) -> list[Prepared]:
    prepared = state.compiled.get(key)
    if prepared is None:
        prepared = state.compiled[key] = [Prepared(stmt) for stmt in build()]
    return prepared


async def _run(statements: list[Prepared], values: dict[str, Any]) -> list[list[dict[str, Any]]]:
    async with state.pool.acquire() as conn:
        return [[dict(row) for row in await conn.fetch(p.sql, *p.args(values))] for p in statements]


def _values(as_of: date, **ids: Any) -> dict[str, Any]:
    from ipcp_api.auth.actor import Actor
    from ipcp_api.enums import Role
    from ipcp_api.reports import service

    admin = Actor(user_id=0, username="floor", role=Role.admin, partner_id=None)
    return service.report_values(admin, as_of, **ids)


async def programme_report(programme_id: int, as_of: date, csv: bool) -> tuple[int, Headers, bytes]:
    from ipcp_api.reports import csv as report_csv
    from ipcp_api.reports import service

    statements = _prepared("programme", lambda: service.programme_statements(False))
    header, rows, listed = await _run(statements, _values(as_of, programme_id=programme_id))
    if not header:
        return 404, [], b""
    report = service.shape_programme_report(as_of, header[0], rows, listed)
    if csv:
        name = f"programme-{report['programme']['code']}-{as_of}.csv"
        return (
            200,
            [
                (b"content-type", b"text/csv; charset=utf-8"),
                (b"content-disposition", f'attachment; filename="{name}"'.encode()),
                (b"vary", b"Accept"),
            ],
            report_csv.programme_csv(report).encode(),
        )
    return 200, [(b"content-type", JSON), (b"vary", b"Accept")], orjson.dumps(report)


async def portfolio_report(as_of: date) -> tuple[int, Headers, bytes]:
    from ipcp_api.reports import service

    statements = _prepared("portfolio", lambda: [service.portfolio_statement(False, False, False)])
    (rows,) = await _run(statements, _values(as_of))
    report = service.shape_portfolio_report(as_of, rows)
    return 200, [(b"content-type", JSON), (b"vary", b"Accept")], orjson.dumps(report)


async def route(scope: dict[str, Any]) -> tuple[int, Headers, bytes]:
    path: str = scope["path"]
    query = parse_qsl(scope["query_string"].decode("latin-1"))
    headers = dict(scope["headers"])
    parts = path.strip("/").split("/")
    if path == "/healthz":
        return 200, [(b"content-type", JSON)], b'{"status":"ok"}'
    if parts[:2] != ["api", "v1"] or scope["method"] != "GET":
        return 404, [], b""
    rest = parts[2:]
    if rest == ["projects"]:
        return await page(scope, query, "projects")
    if len(rest) == 2 and rest[0] == "projects":
        return await project(int(rest[1]))
    if rest == ["milestones"]:
        return await page(scope, query, "milestones")
    as_of = date.fromisoformat(dict(query).get("as_of") or today().isoformat())
    if len(rest) == 3 and rest[0] == "programmes" and rest[2] == "report":
        csv = b"text/csv" in headers.get(b"accept", b"")
        return await programme_report(int(rest[1]), as_of, csv)
    if rest == ["reports", "portfolio"]:
        return await portfolio_report(as_of)
    return 404, [], b""


async def app(scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await state.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    status, headers, body = await route(scope)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
