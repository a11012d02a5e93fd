"""The programme report with ``baseline=approval`` beside the report without it (issue 17).

    DATABASE_URL=postgresql://postgres@127.0.0.1/ipcp_bench ipcp-api migrate
    python bench/baseline_latency.py --database-url postgresql://postgres@127.0.0.1/ipcp_bench

Uses ``report_latency.py``'s sized programmes (``LAT-<size>-IPCP``, created when missing). On
the first run each gets an approval baseline taken by the service's own copy statement, then
its live plan drifts: 20% of the milestones move 1–120 days later, 5% are reweighted, 5%
cancelled, 2% deleted, and 2% as many are added — so every figure has work to do. Prints p50
and p95 of both reports through the whole application (HTTP, JSON) and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import asyncpg_url
from report_latency import AS_OF, bench_user, ensure_programmes, p95, timed

from ipcp_api.app import create_app
from ipcp_api.auth.actor import Actor
from ipcp_api.auth.security import create_token
from ipcp_api.baselines import service as baselines
from ipcp_api.config import load_settings, normalise_database_url
from ipcp_api.db.session import bind_database, make_engine
from ipcp_api.enums import Role
from ipcp_api.models import Programme

DRIFT = """
UPDATE milestones m SET due_on = m.due_on + (1 + m.id % 120)::int
  FROM projects p WHERE p.id = m.project_id AND p.programme_id = $1 AND m.id % 5 = 0;
UPDATE milestones m SET weight = 1 + (m.weight % 7)
  FROM projects p WHERE p.id = m.project_id AND p.programme_id = $1 AND m.id % 20 = 1;
UPDATE milestones m SET state = 'cancelled', completed_on = NULL
  FROM projects p WHERE p.id = m.project_id AND p.programme_id = $1 AND m.id % 20 = 2;
DELETE FROM milestones m USING projects p
  WHERE p.id = m.project_id AND p.programme_id = $1 AND m.id % 50 = 3;
INSERT INTO milestones (project_id, title, due_on, weight, state)
  SELECT m.project_id, 'added ' || m.id, m.due_on + 7, 2, 'pending'
  FROM milestones m JOIN projects p ON p.id = m.project_id
  WHERE p.programme_id = $1 AND m.id % 50 = 4;
"""


async def ensure_baselines(url: str, programme_ids: Sequence[int], actor: Actor) -> None:
    settings = load_settings(database_url=normalise_database_url(url), secret_key="b" * 40)
    engine = make_engine(settings)
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        for programme_id in programme_ids:
            taken = await conn.fetchval(
                "SELECT id FROM baselines WHERE programme_id = $1 AND kind = 'approval'",
                programme_id,
            )
            if taken is not None:
                continue
            async with async_sessionmaker(engine)() as session, session.begin():
                programme = await session.get_one(Programme, programme_id)
                await baselines.take_approval(session, actor, programme)
            for statement in DRIFT.strip().split(";\n"):
                await conn.execute(statement.rstrip(";"), programme_id)
        await conn.execute("ANALYZE milestones, baselines, baseline_projects, baseline_milestones")
    finally:
        await conn.close()
        await engine.dispose()


async def run(url: str, sizes: Sequence[int], repeat: int, warmup: int, seed: int) -> None:
    programmes = await ensure_programmes(url, sizes, seed)
    user_id = await bench_user(url)
    actor = Actor(user_id=user_id, username="bench-admin", role=Role.admin, partner_id=None)
    await ensure_baselines(url, [programmes[size][0] for size in sizes], actor)
    settings = load_settings(database_url=normalise_database_url(url), secret_key="k" * 46)
    app = create_app(settings)
    engine = make_engine(settings)
    bind_database(app.state, engine)
    app.state.shutting_down = False
    token = create_token(app.state.secret_key, user_id=user_id, expires_in=3600)
    rows = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://bench",
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    ) as client:
        for size in sizes:
            programme_id = programmes[size][0]
            timings = {}
            for label, extra in (("without", {}), ("baseline=approval", {"baseline": "approval"})):

                async def call(extra: dict[str, str] = extra, pid: int = programme_id) -> None:
                    response = await client.get(
                        f"/api/v1/programmes/{pid}/report",
                        params={"as_of": AS_OF.isoformat(), **extra},
                    )
                    response.raise_for_status()

                timings[label] = await timed(call, warmup, repeat)
            summary = (
                await client.get(
                    f"/api/v1/programmes/{programme_id}/report",
                    params={"as_of": AS_OF.isoformat(), "baseline": "approval"},
                )
            ).json()["summary"]
            rows.append((size, programmes[size][3], timings, summary))
    await engine.dispose()
    print(f"\nas_of {AS_OF}, {repeat} runs each after {warmup} warm-up runs; milliseconds")
    print(f"{'milestones':>10} {'without p50/p95':>16} {'with p50/p95':>16} {'ratio p50':>10}")
    for _size, milestones, timings, summary in rows:
        without, with_ = timings["without"], timings["baseline=approval"]
        print(
            f"{milestones:>10} {statistics.median(without):7.1f}/{p95(without):7.1f}"
            f" {statistics.median(with_):7.1f}/{p95(with_):7.1f}"
            f" {statistics.median(with_) / statistics.median(without):9.2f}x"
            f"   (slipped {summary['milestones_slipped']}, added {summary['milestones_added']},"
            f" removed {summary['milestones_removed']})"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=99)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    sizes = [int(s) for s in args.sizes.split(",")]
    asyncio.run(run(args.database_url, sizes, args.repeat, args.warmup, args.seed))


if __name__ == "__main__":
    main()
