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

The list and detail statements are written here by hand: one statement each (the page and
its total together), the progress definitions of API.md inlined. The reports run the SQL
the service builds (``programme_statements``, ``portfolio_statement``), compiled once and
executed as prepared statements (the programme report is the service's 3 statements on one
connection), and are shaped by the service's own functions: a report's cost is mostly its
SQL, and the floor must not win by running different SQL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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

# --- the progress definitions (API.md), over milestones m of project p as of $as_of ---------

_COUNTED = "m.state <> 'cancelled' AND p.status <> 'cancelled'"
_DONE = "coalesce(m.state = 'done' AND m.completed_on <= {d}, false)"
_METRICS = """
CROSS JOIN LATERAL (
  SELECT round(a.done_w::numeric / nullif(a.w, 0), 4)::float8 AS progress,
         round(a.due_w::numeric / nullif(a.w, 0), 4)::float8 AS expected_progress,
         CASE WHEN a.w = 0 THEN 'not_planned'
              WHEN a.n_done = a.n THEN 'complete'
              WHEN a.worst > 30 THEN 'late'
              WHEN a.n_overdue > 0 THEN 'behind'
              ELSE 'on_track' END AS schedule
  FROM (
    SELECT coalesce(sum(m.weight) FILTER (WHERE {c}), 0) AS w,
           coalesce(sum(m.weight) FILTER (WHERE {c} AND {done}), 0) AS done_w,
           coalesce(sum(m.weight) FILTER (WHERE {c} AND m.due_on <= {d}), 0) AS due_w,
           count(*) FILTER (WHERE {c}) AS n,
           count(*) FILTER (WHERE {c} AND {done}) AS n_done,
           count(*) FILTER (WHERE {c} AND m.due_on < {d} AND NOT {done}) AS n_overdue,
           max({d} - m.due_on) FILTER (WHERE {c} AND m.due_on < {d} AND NOT {done}) AS worst
    FROM milestones m WHERE m.project_id = p.id
  ) a
) mt"""


def _metrics(as_of: str) -> str:
    return _METRICS.format(c=_COUNTED, done=_DONE.format(d=as_of), d=as_of)


_PROJECT_COLUMNS = """p.id, p.created_at, p.updated_at, p.version, p.programme_id, p.pillar_id,
  p.code, p.title, p.description, p.lead, p.areas, p.starts_on, p.ends_on, p.status,
  mt.progress, mt.expected_progress, mt.schedule"""

# $1 programme, $2 limit + 1, $3 today. The total rides on every row (NULL page: no rows).
PROJECT_PAGE = f"""
SELECT t.total, page.* FROM (SELECT count(*) AS total FROM projects WHERE programme_id = $1) t
LEFT JOIN LATERAL (
  SELECT {_PROJECT_COLUMNS} FROM projects p {_metrics("$3::date")}
  WHERE p.programme_id = $1 ORDER BY p.code, p.id LIMIT $2
) page ON true
ORDER BY page.code, page.id"""

# $1 project, $2 today
PROJECT = f"SELECT {_PROJECT_COLUMNS} FROM projects p {_metrics('$2::date')} WHERE p.id = $1"

# $1 project, $2 limit + 1, $3 today
MILESTONE_PAGE = f"""
SELECT t.total, page.* FROM (SELECT count(*) AS total FROM milestones WHERE project_id = $1) t
LEFT JOIN LATERAL (
  SELECT m.id, m.created_at, m.updated_at, m.version, m.project_id, m.title, m.due_on,
         m.weight, m.state, m.completed_on,
         ({_COUNTED} AND m.due_on < $3::date AND NOT {_DONE.format(d="$3::date")}) AS overdue
  FROM milestones m JOIN projects p ON p.id = m.project_id
  WHERE m.project_id = $1 ORDER BY m.due_on, m.id LIMIT $2
) page ON true
ORDER BY page.due_on, page.id"""


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
    state.cursor_key = hashlib.sha256(b"cursor:" + secret.encode()).digest()
    state.compiled = {}


def cursor(token: str, value: Any, last_id: int) -> str:
    """The API's keyset cursor (common/pagination.py: encode_cursor)."""
    if isinstance(value, date):
        value = value.isoformat()
    payload = orjson.dumps([token, value, last_id])
    signature = hmac.new(state.cursor_key, payload, hashlib.sha256).hexdigest()[:24]
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + signature


def link(scope: dict[str, Any], host: str, query: list[tuple[str, str]], next_cursor: str) -> bytes:
    params = dict(query)
    params["cursor"] = next_cursor
    url = f"http://{host}{scope['path']}?{urlencode(list(params.items()))}"
    return f'<{url}>; rel="next"'.encode()


def today() -> date:
    return datetime.now(UTC).date()


# --- handlers --------------------------------------------------------------------------------


async def page(
    scope: dict[str, Any],
    host: str,
    query: list[tuple[str, str]],
    sql: str,
    parent: str,
    sort: str,
) -> tuple[int, Headers, bytes]:
    args = dict(query)
    limit = int(args.get("limit", DEFAULT_LIMIT))
    rows = await state.pool.fetch(sql, int(args[parent]), limit + 1, today())
    total = rows[0]["total"]
    items = [dict(row) for row in rows if row["id"] is not None]
    headers: Headers = [(b"content-type", JSON)]
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = cursor(sort, items[-1][sort], items[-1]["id"])
        headers.append((b"link", link(scope, host, query, next_cursor)))
    for item in items:
        del item["total"]
    body = {"items": items, "total": total, "limit": limit, "next_cursor": next_cursor}
    return 200, headers, orjson.dumps(body, option=orjson.OPT_UTC_Z)


async def project(project_id: int) -> tuple[int, Headers, bytes]:
    row = await state.pool.fetchrow(PROJECT, project_id, today())
    if row is None:
        return 404, [], b""
    headers = [(b"content-type", JSON), (b"etag", f'"{row["version"]}"'.encode())]
    return 200, headers, orjson.dumps(dict(row), option=orjson.OPT_UTC_Z)


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
    host = headers.get(b"host", b"").decode("latin-1")
    parts = path.strip("/").split("/")
    if path == "/healthz":
        return 200, [(b"content-type", JSON)], b'{"status":"ok"}'
    if parts[:2] != ["api", "v1"] or scope["method"] != "GET":
        return 404, [], b""
    rest = parts[2:]
    if rest == ["projects"]:
        return await page(scope, host, query, PROJECT_PAGE, "programme_id", "code")
    if len(rest) == 2 and rest[0] == "projects":
        return await project(int(rest[1]))
    if rest == ["milestones"]:
        return await page(scope, host, query, MILESTONE_PAGE, "project_id", "due_on")
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
