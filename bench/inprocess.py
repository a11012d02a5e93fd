"""CPU per request in process, and a profile: the ASGI app called directly, sequentially.

    python bench/inprocess.py detail                   # the API: ms of wall and CPU per request
    python bench/inprocess.py detail --floor           # the same request on floor.py
    python bench/inprocess.py list --profile out.txt   # pyinstrument's call tree (dev extra)

No HTTP server and no load generator: ``app(scope, receive, send)`` in a loop, one request at a
time, on the database ``python -m bench`` filled (``--database-url``, default its
``ipcp_bench_http``; the ids are ``harness.targets``'s). What this shows is the Python work of
one request, without wrk's and uvicorn's share of the two cores: the numbers quoted in
bench/README.md ("Where the time goes now") come from here. Run it on a quiet machine and more
than once; single runs move by ±10 %.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from report_latency import bench_user  # noqa: E402

from ipcp_api.app import create_app  # noqa: E402
from ipcp_api.auth.security import create_token  # noqa: E402
from ipcp_api.config import load_settings, normalise_database_url  # noqa: E402
from ipcp_api.db.session import bind_database, make_engine  # noqa: E402

REQUESTS = {
    "detail": ("/api/v1/projects/{project}", ""),
    "list": ("/api/v1/projects", "programme_id={programme}&limit=50"),
    "milestones": ("/api/v1/milestones", "project_id={project}"),
    "report": ("/api/v1/programmes/{lat1000}/report", f"as_of={harness.AS_OF}"),
    "partners": ("/api/v1/partners", "limit=50"),
    "partner": ("/api/v1/partners/{partner}", ""),
}


async def build(url: str, floor: bool, secret: str) -> Any:
    if floor:
        os.environ["DATABASE_URL"] = url
        os.environ["IPCP_SECRET_KEY"] = secret
        import floor as floor_app

        await floor_app.startup()
        return floor_app.app
    settings = load_settings(
        database_url=normalise_database_url(url), secret_key=secret, log_level="WARNING"
    )
    app: Any = create_app(settings)
    bind_database(app.state, make_engine(settings))
    app.state.shutting_down = False
    return app


async def _first_partner(url: str) -> int:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return int(await connection.fetchval("SELECT min(id) FROM partners"))
    finally:
        await connection.close()


async def run(args: argparse.Namespace) -> None:
    ids = await harness.targets(args.database_url)
    ids.setdefault("partner", await _first_partner(args.database_url))
    secret = secrets.token_urlsafe(48)
    token = create_token(secret, user_id=await bench_user(args.database_url), expires_in=3600)
    app = await build(args.database_url, args.floor, secret)
    path, query = (part.format(**ids) for part in REQUESTS[args.request])
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"accept", b"application/json"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for _ in range(args.warmup):
        await app(dict(scope), receive, send)
    if set(statuses) != {200}:
        raise SystemExit(f"{path}?{query} answered {sorted(set(statuses))}, not 200")
    profiler: Any = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001, async_mode="disabled")
        profiler.start()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.repeat):
        await app(dict(scope), receive, send)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profiler is not None:
        profiler.stop()
        args.profile.write_text(profiler.output_text(unicode=False, show_all=True))
    side = "floor" if args.floor else "api"
    print(
        f"{side} {args.request}: {args.repeat} requests, wall {1e3 * wall / args.repeat:.3f} ms,"
        f" CPU {1e3 * cpu / args.repeat:.3f} ms per request"
        + (" (under the profiler)" if profiler is not None else "")
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("request", choices=sorted(REQUESTS))
    parser.add_argument("--database-url", default=harness.DEFAULT_URL)
    parser.add_argument("--floor", action="store_true", help="call floor.py instead of the API")
    parser.add_argument("--repeat", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--profile", type=Path, help="write pyinstrument's call tree here")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
