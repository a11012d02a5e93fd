"""Generate a large, realistic data set for the report benchmarks.

    python bench/generate.py --database-url postgresql://postgres@127.0.0.1/ipcp_bench \\
        --partners 100 --seed 1

N partners, each with one programme across the three standard pillars, 50–2,000 projects per
programme and 5–20 milestones per project, with dates, weights and completion that look like
real work (most of what is long past is done, some of it late; a few projects and milestones
are cancelled). Rows go in with COPY, so a million milestones take seconds. Codes carry the
seed, so several seeds can share one database; running the same seed twice is refused.

The database must be migrated first (``DATABASE_URL=... ipcp-api migrate``).
``report_latency.py`` imports ``add_programme`` to build programmes of a chosen size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg

AREAS = (
    "counter-terrorism",
    "counter-piracy",
    "disaster-response",
    "border-security",
    "cyber-defence",
    "maritime-security",
    "energy-security",
    "medical-support",
    "education",
    "public-diplomacy",
)
LEADS = ("Ministry of Interior", "Ministry of Foreign Affairs", "Defence Force", None)
REFERENCE_DAY = date(2025, 6, 30)
"""The "now" of the data: milestones due well before it are mostly done."""


def asyncpg_url(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgres+asyncpg://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


async def reserve_ids(conn: asyncpg.Connection, table: str, n: int) -> list[int]:
    """``n`` ids from the table's own sequence, so later API inserts never collide."""
    rows = await conn.fetch(
        f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id "
        "FROM generate_series(1, $1)",
        n,
    )
    return [row["id"] for row in rows]


@dataclass
class Counts:
    projects: int = 0
    milestones: int = 0


def _programme_status(rng: random.Random, starts: date, ends: date) -> str:
    if ends < REFERENCE_DAY:
        return rng.choices(["completed", "cancelled"], [9, 1])[0]
    if starts > REFERENCE_DAY:
        return rng.choice(["draft", "submitted", "approved"])
    return rng.choices(["active", "approved", "cancelled"], [17, 2, 1])[0]


def _milestones(
    rng: random.Random, project_id: int, starts: date, ends: date, n: int, cancelled: bool
) -> list[tuple[Any, ...]]:
    span = (ends - starts).days
    rows = []
    for k in range(n):
        # spread over the project's period, with some jitter
        offset = int(span * (k + 1) / (n + 1) + rng.randint(-10, 10))
        due = starts + timedelta(days=min(max(offset, 0), span))
        weight = rng.choices([1, 2, 3, 5, 8, 13, 20], [30, 25, 15, 12, 8, 6, 4])[0]
        if rng.random() < 0.03:
            state, completed = "cancelled", None
        elif due < REFERENCE_DAY - timedelta(days=15) and not cancelled and rng.random() < 0.85:
            # done: mostly around the due date, sometimes weeks late
            delay = int(rng.gauss(3, 20))
            completed = min(due + timedelta(days=delay), REFERENCE_DAY)
            state = "done"
        elif due < REFERENCE_DAY and rng.random() < 0.3:
            completed = min(due + timedelta(days=rng.randint(-20, 10)), REFERENCE_DAY)
            state = "done"
        else:
            state, completed = "pending", None
        rows.append((project_id, f"Milestone {k + 1}", due, weight, state, completed))
    return rows


async def add_programme(
    conn: asyncpg.Connection,
    rng: random.Random,
    *,
    partner_id: int,
    code: str,
    pillar_ids: Sequence[int],
    n_projects: int,
    milestones: tuple[int, int] = (5, 20),
    starts: date | None = None,
) -> tuple[int, Counts]:
    """One programme with ``n_projects`` projects spread over the pillars; returns its id."""
    if starts is None:
        starts = date(rng.randint(2008, 2026), rng.choice([1, 4, 7, 10]), 1)
    ends = date(starts.year + 3, starts.month, 1) - timedelta(days=1)
    status = _programme_status(rng, starts, ends)
    approved = (
        starts - timedelta(days=rng.randint(20, 120))
        if status in ("approved", "active", "completed")
        else None
    )
    (programme_id,) = await reserve_ids(conn, "programmes", 1)
    await conn.copy_records_to_table(
        "programmes",
        records=[
            (
                programme_id,
                partner_id,
                code,
                f"Individual Partnership and Cooperation Programme {code}",
                "IPCP",
                starts,
                ends,
                status,
                approved,
            )
        ],
        columns=[
            "id",
            "partner_id",
            "code",
            "title",
            "kind",
            "starts_on",
            "ends_on",
            "status",
            "approved_on",
        ],
    )
    project_ids = await reserve_ids(conn, "projects", n_projects)
    span = (ends - starts).days
    projects, milestone_rows = [], []
    for n, project_id in enumerate(project_ids):
        p_start = starts + timedelta(days=rng.randint(0, span // 2))
        p_end = min(p_start + timedelta(days=rng.randint(90, 900)), ends)
        cancelled = rng.random() < 0.03
        if cancelled:
            status_ = "cancelled"
        elif p_end < REFERENCE_DAY:
            status_ = rng.choices(["completed", "in_progress"], [4, 1])[0]
        elif p_start > REFERENCE_DAY:
            status_ = "planned"
        else:
            status_ = rng.choices(["in_progress", "on_hold"], [9, 1])[0]
        projects.append(
            (
                project_id,
                programme_id,
                rng.choice(pillar_ids),
                f"PRJ-{n + 1:05d}",
                f"Project {n + 1} of {code}",
                rng.choice(LEADS),
                rng.sample(AREAS, rng.randint(0, 3)),
                p_start,
                p_end,
                status_,
            )
        )
        milestone_rows += _milestones(
            rng, project_id, p_start, p_end, rng.randint(*milestones), cancelled
        )
    await conn.copy_records_to_table(
        "projects",
        records=projects,
        columns=[
            "id",
            "programme_id",
            "pillar_id",
            "code",
            "title",
            "lead",
            "areas",
            "starts_on",
            "ends_on",
            "status",
        ],
    )
    await conn.copy_records_to_table(
        "milestones",
        records=milestone_rows,
        columns=["project_id", "title", "due_on", "weight", "state", "completed_on"],
    )
    return programme_id, Counts(len(projects), len(milestone_rows))


async def standard_pillars(conn: asyncpg.Connection) -> list[int]:
    rows = await conn.fetch("SELECT id FROM pillars ORDER BY position, id LIMIT 3")
    return [row["id"] for row in rows]


async def add_partner(conn: asyncpg.Connection, code: str, name: str) -> int:
    (partner_id,) = await reserve_ids(conn, "partners", 1)
    await conn.execute(
        "INSERT INTO partners (id, code, kind, name) VALUES ($1, $2, 'organisation', $3)",
        partner_id,
        code,
        name,
    )
    return partner_id


async def generate(url: str, partners: int, seed: int, projects: tuple[int, int]) -> Counts:
    rng = random.Random(seed)
    total = Counts()
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        pillar_ids = await standard_pillars(conn)
        if len(pillar_ids) < 3:
            raise SystemExit("the database has no pillars: run `ipcp-api migrate` first")
        prefix = f"G{seed}"
        if await conn.fetchval("SELECT 1 FROM frameworks WHERE code = $1", f"{prefix}-A"):
            raise SystemExit(f"seed {seed} was already generated in this database")
        async with conn.transaction():
            frameworks = []
            for suffix in ("A", "B"):
                (framework_id,) = await reserve_ids(conn, "frameworks", 1)
                await conn.execute(
                    "INSERT INTO frameworks (id, code, name) VALUES ($1, $2, $3)",
                    framework_id,
                    f"{prefix}-{suffix}",
                    f"Benchmark framework {suffix} (seed {seed})",
                )
                frameworks.append(framework_id)
            for i in range(partners):
                code = f"{prefix}-{i + 1:05d}"
                partner_id = await add_partner(conn, code, f"Benchmark partner {i + 1}")
                await conn.execute(
                    "INSERT INTO framework_memberships (partner_id, framework_id, joined_on) "
                    "VALUES ($1, $2, $3)",
                    partner_id,
                    rng.choice(frameworks),
                    date(rng.randint(1994, 2015), 1, 1),
                )
                _, counts = await add_programme(
                    conn,
                    rng,
                    partner_id=partner_id,
                    code=f"{code}-IPCP",
                    pillar_ids=pillar_ids,
                    n_projects=rng.randint(*projects),
                )
                total.projects += counts.projects
                total.milestones += counts.milestones
        await conn.execute("ANALYZE partners, programmes, projects, milestones")
    finally:
        await conn.close()
    return total


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--partners", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-projects", type=int, default=50)
    parser.add_argument("--max-projects", type=int, default=2000)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    started = time.perf_counter()
    counts = asyncio.run(
        generate(
            args.database_url, args.partners, args.seed, (args.min_projects, args.max_projects)
        )
    )
    print(
        f"{args.partners} partners, {args.partners} programmes, {counts.projects} projects, "
        f"{counts.milestones} milestones in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
