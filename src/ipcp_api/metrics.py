"""Prometheus metrics at ``GET /metrics``: requests per route template, latency, the pool.

- ``ipcp_http_requests_total{method, route, status}`` and
  ``ipcp_http_request_duration_seconds{method, route, status}`` (a histogram). ``route`` is the
  route's template (``/api/v1/projects/{project_id}``), never the raw path, so ids, search
  terms and partner names never become label values; a path no route matches is
  ``unmatched`` and an unknown method ``other``, so clients cannot grow the series.
- ``ipcp_http_requests_in_progress``.
- ``ipcp_db_pool_*``: the connection pool (checked out, idle, size, overflow, max), read from
  the engine when scraped.
- ``ipcp_reports_building`` and ``ipcp_reports_waiting``: the report slots (reports/slots.py).

Several uvicorn workers are several processes, each with its own counters. When
``PROMETHEUS_MULTIPROC_DIR`` is set (to an empty directory writable by every worker, before the
server starts), prometheus_client keeps the values in files there and ``/metrics`` adds up
every worker's, whichever worker answers the scrape. Pool gauges are then the sum over live
workers, each as of its latest request or scrape; a worker that exits cleanly removes its
own. See docs/operations.md.
"""

from __future__ import annotations

import hmac
import os
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ipcp_api.errors import Unauthorized

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
"""Decided at import, as prometheus_client itself decides where values live."""

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "ipcp_http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "ipcp_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, in seconds.",
    ["method", "route", "status"],
    buckets=BUCKETS,
)
IN_PROGRESS = Gauge(
    "ipcp_http_requests_in_progress",
    "HTTP requests being served now.",
    multiprocess_mode="livesum",
)
POOL_CHECKED_OUT = Gauge(
    "ipcp_db_pool_checked_out",
    "Database connections in use by requests.",
    multiprocess_mode="livesum",
)
POOL_CHECKED_IN = Gauge(
    "ipcp_db_pool_checked_in",
    "Open database connections idle in the pool.",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "ipcp_db_pool_size",
    "Connections the pool keeps open (IPCP_DB_POOL_SIZE).",
    multiprocess_mode="livesum",
)
POOL_OVERFLOW = Gauge(
    "ipcp_db_pool_overflow",
    "Connections open beyond the pool size (at most IPCP_DB_MAX_OVERFLOW).",
    multiprocess_mode="livesum",
)
POOL_MAX = Gauge(
    "ipcp_db_pool_max",
    "Connections the pool may open at most: size + max overflow. A request that finds them"
    " all checked out waits IPCP_DB_POOL_TIMEOUT seconds, then gets 503.",
    multiprocess_mode="livesum",
)

REPORTS_BUILDING = Gauge(
    "ipcp_reports_building",
    "Progress reports being built now (at most IPCP_REPORT_CONCURRENCY per worker).",
    multiprocess_mode="livesum",
)
REPORTS_WAITING = Gauge(
    "ipcp_reports_waiting",
    "Progress reports waiting for a free slot, holding no database connection.",
    multiprocess_mode="livesum",
)


def observe_pool(app: Any) -> None:
    """Copy the pool's figures into the gauges (cheap: a few attribute reads)."""
    engine = getattr(app.state, "engine", None)
    pool = getattr(engine, "pool", None)
    if pool is None or not hasattr(pool, "checkedout"):
        return
    size = int(pool.size())
    POOL_CHECKED_OUT.set(pool.checkedout())
    POOL_CHECKED_IN.set(pool.checkedin())
    POOL_SIZE.set(size)
    # SQLAlchemy counts overflow from -size (connections not opened yet); report what is open.
    POOL_OVERFLOW.set(max(0, int(pool.overflow())))
    settings = getattr(app.state, "settings", None)
    max_overflow = getattr(settings, "db_max_overflow", 0)
    POOL_MAX.set(size + max_overflow)


def full_paths(app: Any) -> dict[int, str]:
    """id(route) -> its full path template.

    Since FastAPI keeps included routers nested, a route's own ``path`` lacks the prefixes
    it was included under (``/projects/{project_id}``, not ``/api/v1/projects/{project_id}``);
    the route contexts carry the full one. Older versions flattened routes, whose ``path``
    is then already complete.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI without route contexts
        return {}
    paths: dict[int, str] = {}
    for context in iter_route_contexts(app.router.routes):
        if context.path is not None:
            paths.setdefault(id(context.route), context.path)
    return paths


def route_template(scope: Scope, paths: dict[int, str]) -> str:
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    path = paths.get(id(route), getattr(route, "path", None))
    return path if isinstance(path, str) else UNMATCHED


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.paths: dict[int, str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            IN_PROGRESS.dec()
            method = scope["method"] if scope["method"] in METHODS else "other"
            if self.paths is None:
                self.paths = full_paths(scope["app"])
            labels = (method, route_template(scope, self.paths), str(status))
            REQUESTS.labels(*labels).inc()
            DURATION.labels(*labels).observe(time.perf_counter() - started)
            if MULTIPROCESS:
                # the scrape reaches one worker: the others publish their pool as they go
                observe_pool(scope["app"])


def render() -> bytes:
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def worker_exiting() -> None:
    """Drop this process's live gauges (multiprocess mode); the lifespan calls it on exit."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format: counts and timings per route template and the pool's figures
    (no data about partners or programmes). Open unless ``IPCP_METRICS_TOKEN`` is set; then
    it needs ``Authorization: Bearer <that token>`` (401 without)."""
    expected = request.app.state.settings.metrics_token
    if expected:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), expected.encode()
        ):
            raise Unauthorized("/metrics needs the metrics bearer token")
    observe_pool(request.app)
    return Response(render(), media_type=CONTENT_TYPE_LATEST)
