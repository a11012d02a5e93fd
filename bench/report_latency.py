"""Report latency (p50/p95) for programmes of ~1,000, ~10,000 and ~100,000 milestones.

    DATABASE_URL=postgresql://postgres@127.0.0.1/ipcp_bench ipcp-api migrate
    python bench/generate.py --database-url postgresql://postgres@127.0.0.1/ipcp_bench \\
        --partners 100 --seed 1
    python bench/report_latency.py --database-url postgresql://postgres@127.0.0.1/ipcp_bench

The sized programmes (codes ``LAT-<size>``) are added on the first run, next to whatever the
database already holds (the "many other programmes" generate.py made). Each report is called
through the whole application (httpx + ASGITransport: token check, SQL, JSON or CSV
encoding) and, separately, as the bare service function (SQL + building the models), so the
two costs can be told apart. Prints one line per (report, size) and how latency grows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import REFERENCE_DAY, add_partner, add_programme, asyncpg_url, standard_pillars

from ipcp_api.app import create_app
from ipcp_api.auth.actor import Actor
from ipcp_api.auth.security import create_token, hash_password
from ipcp_api.config import load_settings, normalise_database_url
from ipcp_api.db.session import bind_database, make_engine
from ipcp_api.enums import Role
from ipcp_api.reports import service

AS_OF = REFERENCE_DAY
MILESTONES_PER_PROJECT = 12.5  # the mean of generate.py's 5-20


async def ensure_programmes(url: str, sizes: Sequence[int], seed: int) -> dict[int, Any]:
    """``{size: (programme_id, partner_id, projects, milestones)}``, creating what is missing."""
    conn = await asyncpg.connect(asyncpg_url(url))
    out: dict[int, Any] = {}
    try:
        pillar_ids = await standard_pillars(conn)
        for size in sizes:
            code = f"LAT-{size}"
            row = await conn.fetchrow(
                "SELECT id, partner_id FROM programmes WHERE code = $1", f"{code}-IPCP"
            )
            if row is None:
                rng = random.Random(seed + size)
                async with conn.transaction():
                    partner_id = await add_partner(conn, code, f"Latency partner {size}")
                    programme_id, _ = await add_programme(
                        conn,
                        rng,
                        partner_id=partner_id,
                        code=f"{code}-IPCP",
                        pillar_ids=pillar_ids,
                        n_projects=max(1, round(size / MILESTONES_PER_PROJECT)),
                        starts=date(2024, 1, 1),
                    )
                await conn.execute("ANALYZE projects, milestones")
            else:
                programme_id, partner_id = row["id"], row["partner_id"]
            counts = await conn.fetchrow(
                "SELECT count(DISTINCT p.id) AS projects, count(m.id) AS milestones "
                "FROM projects p LEFT JOIN milestones m ON m.project_id = p.id "
                "WHERE p.programme_id = $1",
                programme_id,
            )
            out[size] = (programme_id, partner_id, counts["projects"], counts["milestones"])
        totals = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM programmes) AS programmes, "
            "(SELECT count(*) FROM projects) AS projects, "
            "(SELECT count(*) FROM milestones) AS milestones"
        )
        print(
            f"database: {totals['programmes']} programmes, {totals['projects']} projects, "
            f"{totals['milestones']} milestones",
            flush=True,
        )
    finally:
        await conn.close()
    return out


async def bench_user(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        user_id = await conn.fetchval("SELECT id FROM users WHERE username = 'bench-admin'")
        if user_id is None:
            user_id = await conn.fetchval(
                "INSERT INTO users (username, password_hash, role, active) "
                "VALUES ('bench-admin', $1, 'admin', true) RETURNING id",
                hash_password(os.urandom(16).hex()),
            )
        return int(user_id)
    finally:
        await conn.close()


async def timed(call: Callable[[], Awaitable[Any]], warmup: int, repeat: int) -> list[float]:
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


async def run(url: str, sizes: Sequence[int], repeat: int, warmup: int, seed: int) -> None:
    programmes = await ensure_programmes(url, sizes, seed)
    user_id = await bench_user(url)
    settings = load_settings(
        database_url=normalise_database_url(url), secret_key="bench-" + "k" * 40
    )
    app = create_app(settings)
    engine = make_engine(settings)
    bind_database(app.state, engine)
    app.state.shutting_down = False
    token = create_token(app.state.secret_key, user_id=user_id, expires_in=3600)
    actor = Actor(user_id=user_id, username="bench-admin", role=Role.admin, partner_id=None)
    params = {"as_of": AS_OF.isoformat()}
    results: dict[str, dict[int, list[float]]] = {}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://bench",
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    ) as client:

        def http(path: str, accept: str = "application/json") -> Callable[[], Awaitable[Any]]:
            async def call() -> None:
                response = await client.get(path, params=params, headers={"Accept": accept})
                response.raise_for_status()
                _ = response.content

            return call

        def direct(fn: Callable[..., Awaitable[Any]], *args: Any) -> Callable[[], Awaitable[Any]]:
            async def call() -> None:
                async with app.state.sessionmaker() as session:
                    await fn(session, actor, *args, as_of=AS_OF)

            return call

        for size in sizes:
            programme_id, partner_id, projects, milestones = programmes[size]
            print(
                f"size {size}: programme {programme_id}, {projects} projects, "
                f"{milestones} milestones",
                flush=True,
            )
            cases = {
                "programme report, HTTP JSON": http(f"/api/v1/programmes/{programme_id}/report"),
                "programme report, HTTP CSV": http(
                    f"/api/v1/programmes/{programme_id}/report", "text/csv"
                ),
                "programme report, service only": direct(service.programme_report, programme_id),
                "partner report, HTTP JSON": http(f"/api/v1/partners/{partner_id}/report"),
            }
            for name, call in cases.items():
                results.setdefault(name, {})[size] = await timed(call, warmup, repeat)

        portfolio = await timed(http("/api/v1/reports/portfolio"), 1, max(5, repeat // 3))
    await engine.dispose()

    print()
    print(f"as_of {AS_OF}, {repeat} runs each after {warmup} warm-up runs; milliseconds")
    print(f"{'report':34} {'milestones':>10} {'p50':>9} {'p95':>9} {'p50 growth':>11}")
    for name, by_size in results.items():
        base = statistics.median(by_size[sizes[0]])
        for size in sizes:
            samples = by_size[size]
            median = statistics.median(samples)
            print(
                f"{name:34} {programmes[size][3]:>10} {median:9.1f} {p95(samples):9.1f} "
                f"{median / base:10.1f}x"
            )
    print(
        f"{'portfolio, whole database':34} {'all':>10} {statistics.median(portfolio):9.1f} "
        f"{p95(portfolio):9.1f}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=99)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    sizes = [int(s) for s in args.sizes.split(",")]
    asyncio.run(run(args.database_url, sizes, args.repeat, args.warmup, args.seed))


if __name__ == "__main__":
    main()
