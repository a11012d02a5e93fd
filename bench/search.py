"""``q`` over 200,000 projects: p50/p95 of a selective Arabic and a selective Latin term, the
plan (is the trigram index used?), and what a 1–2 character term costs.

    python bench/search.py --database-url postgresql://postgres@127.0.0.1:5432/ipcp_bench_search

Creates the database if it is missing, migrates it, and fills it once (``--projects``,
default 200,000) with projects whose titles, descriptions and Arabic/French translations are
drawn from word lists; 20 of them carry the selective terms «قرطاج» (Arabic) and
"Zanzibar" (Latin). Each term is then asked ``--runs`` times through the whole application
(``GET /api/v1/projects?q=...``: token check, the list statement with its total, JSON) and
once under ``EXPLAIN (ANALYZE, BUFFERS)`` for the plan.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ipcp_api.app import create_app
from ipcp_api.auth.actor import Actor
from ipcp_api.auth.security import create_token, hash_password
from ipcp_api.common import listing
from ipcp_api.common import search as folded
from ipcp_api.common.pagination import ListParams
from ipcp_api.config import load_settings, normalise_database_url
from ipcp_api.db.migrations import upgrade
from ipcp_api.db.session import bind_database, make_engine, make_sessionmaker
from ipcp_api.enums import Role
from ipcp_api.projects import service as projects

ENGLISH = [
    "counter",
    "terrorism",
    "training",
    "course",
    "maritime",
    "security",
    "cyber",
    "defence",
    "awareness",
    "seminar",
    "workshop",
    "exercise",
    "observation",
    "staff",
    "talks",
    "disaster",
    "response",
    "civil",
    "emergency",
    "planning",
    "energy",
    "security",
    "dialogue",
    "regional",
    "centre",
    "education",
    "seats",
    "review",
    "cycle",
    "public",
    "diplomacy",
]
ARABIC = [
    "التعاون",
    "الأمن",
    "البحري",
    "مكافحة",
    "الإرهاب",
    "دورة",
    "تدريبية",
    "ورشة",
    "عمل",
    "تمرين",
    "مراقبة",
    "محادثات",
    "الأركان",
    "الاستجابة",
    "للكوارث",
    "التخطيط",
    "للطوارئ",
    "المدنية",
    "أمن",
    "الطاقة",
    "الحوار",
    "المركز",
    "الإقليمي",
    "الدبلوماسية",
]
FRENCH = [
    "coopération",
    "sécurité",
    "maritime",
    "lutte",
    "contre",
    "le",
    "terrorisme",
    "cours",
    "formation",
    "atelier",
    "exercice",
    "observation",
    "réaction",
    "aux",
    "catastrophes",
    "planification",
    "énergie",
    "dialogue",
    "centre",
    "régional",
]
SELECTIVE = 20


def _pg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def prepare(url: str, projects: int) -> None:
    server = _pg_url(url).rsplit("/", 1)[0] + "/postgres"
    name = _pg_url(url).rsplit("/", 1)[1]
    admin = await asyncpg.connect(server)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await asyncio.to_thread(upgrade, normalise_database_url(url))
    conn = await asyncpg.connect(_pg_url(url))
    try:
        have = await conn.fetchval("SELECT count(*) FROM projects")
        if have >= projects:
            return
        started = time.perf_counter()
        async with conn.transaction():
            partner = await conn.fetchval(
                "INSERT INTO partners (code, kind, name) VALUES ('SRCH', 'organisation',"
                " 'Search bench') RETURNING id"
            )
            pillar = await conn.fetchval("SELECT min(id) FROM pillars")
            programmes = [
                await conn.fetchval(
                    "INSERT INTO programmes (partner_id, code, title, starts_on, ends_on)"
                    " VALUES ($1, $2, $3, '2016-01-01', '2030-12-31') RETURNING id",
                    partner,
                    f"SRCH-{i}",
                    f"Search programme {i}",
                )
                for i in range(100)
            ]
            # Titles from the word lists by arithmetic on the row number (no randomness, so a
            # rerun on another machine builds the same rows); every 10,000th row carries the
            # selective terms.
            await conn.execute(
                """
                INSERT INTO projects (programme_id, pillar_id, code, title, description,
                                      starts_on, ends_on, translations)
                SELECT ($1::bigint[])[1 + i % 100], $2, 'S-' || i,
                       e[1 + i % ne] || ' ' || e[1 + (i / 7) % ne] || ' ' || e[1 + (i / 13) % ne]
                         || CASE WHEN i % $6 = 0 THEN ' Zanzibar' ELSE '' END,
                       e[1 + (i / 3) % ne] || ' ' || e[1 + (i / 11) % ne] || ' ' || i,
                       '2016-01-01', '2030-12-31',
                       jsonb_build_object(
                         'ar', jsonb_build_object('title',
                           a[1 + i % na] || ' ' || a[1 + (i / 5) % na]
                           || ' ' || a[1 + (i / 17) % na]
                           || CASE WHEN i % $6 = 1 THEN ' قرطاج' ELSE '' END),
                         'fr', jsonb_build_object('title',
                           f[1 + i % nf] || ' ' || f[1 + (i / 19) % nf]))
                FROM generate_series(1, $7) AS i,
                     LATERAL (SELECT $3::text[] AS e, cardinality($3::text[]) AS ne,
                                     $4::text[] AS a, cardinality($4::text[]) AS na,
                                     $5::text[] AS f, cardinality($5::text[]) AS nf) AS words
                """,
                programmes,
                pillar,
                ENGLISH,
                ARABIC,
                FRENCH,
                projects // SELECTIVE,
                projects - have,
            )
            await conn.execute(
                "INSERT INTO users (username, password_hash, role) VALUES ('bench-search', $1,"
                " 'admin') ON CONFLICT DO NOTHING",
                hash_password("bench-search-password"),
            )
        await conn.execute("VACUUM ANALYZE projects")
        print(f"generated {projects - have:,} projects in {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()


async def measure(url: str, terms: list[str], runs: int) -> None:
    settings = load_settings(database_url=url, data_dir=Path("/tmp/ipcp-bench-search"))
    app = create_app(settings)
    bind_database(app.state, make_engine(settings))
    conn = await asyncpg.connect(_pg_url(url))
    user_id = await conn.fetchval("SELECT id FROM users WHERE username = 'bench-search'")
    total = await conn.fetchval("SELECT count(*) FROM projects")
    token = create_token(app.state.secret_key, user_id=user_id, expires_in=3600)
    headers = {"Authorization": f"Bearer {token}"}
    print(
        f"projects: {total:,}; {runs} runs per term after 5 warm-up runs; limit 50. "
        "api: GET /api/v1/projects?q= through the whole application; sql: the list statement "
        "(page + total + progress of the page's rows) alone"
    )
    print(
        f"{'q':<16} {'matches':>8} {'api p50':>8} {'api p95':>8} {'sql p50':>8} {'sql p95':>8}"
        f" {'generic':>8}  plan of the filter"
    )
    sessions = make_sessionmaker(app.state.engine)
    generic_engine = make_engine(settings)
    generic_sessions = make_sessionmaker(generic_engine)
    actor = Actor(user_id=user_id, username="bench-search", role=Role.admin, partner_id=None)
    params = ListParams(limit=50, cursor=None, key=app.state.cursor_key)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as client:
        for term in terms:
            api: list[float] = []
            sql: list[float] = []
            matches = 0
            for run in range(runs + 5):
                started = time.perf_counter()
                response = await client.get("/api/v1/projects", params={"q": term}, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.text
                matches = response.json()["total"]
                async with sessions() as session:
                    started = time.perf_counter()
                    await listing.list_rows(
                        session, projects.LISTING, actor, params, filters={"q": term}
                    )
                    in_sql = (time.perf_counter() - started) * 1000
                if run >= 5:
                    api.append(elapsed)
                    sql.append(in_sql)
            generic: list[float] = []
            for _ in range(5):
                async with generic_sessions() as session:
                    # what a cached generic plan of the statement costs (asyncpg prepares
                    # statements; PostgreSQL may switch to a generic plan after 5 runs)
                    await session.execute(text("SET plan_cache_mode = force_generic_plan"))
                    started = time.perf_counter()
                    await listing.list_rows(
                        session, projects.LISTING, actor, params, filters={"q": term}
                    )
                    generic.append((time.perf_counter() - started) * 1000)
                    await session.execute(text("RESET plan_cache_mode"))
            plan = await _plan(conn, term)
            print(
                f"{term:<16} {matches:>8,} {_p(api, 50):>8.2f} {_p(api, 95):>8.2f}"
                f" {_p(sql, 50):>8.2f} {_p(sql, 95):>8.2f} {_p(generic, 50):>8.2f}  {plan}"
            )
    await conn.close()
    await app.state.engine.dispose()
    await generic_engine.dispose()


def _p(values: list[float], percentile: int) -> float:
    ordered = sorted(values)
    if percentile == 50:
        return statistics.median(ordered)
    return ordered[round(percentile / 100 * (len(ordered) - 1))]


async def _plan(conn: Any, term: str) -> str:
    """How PostgreSQL finds the matching rows (the filter of the list, alone, as the service
    writes it for this term: an indexed LIKE, or a scan for a term with no trigram)."""
    if folded.shape(term):
        where = "strpos(search, ipcp_fold($1)) > 0"
    else:
        where = (
            "search LIKE '%' || replace(replace(replace(ipcp_fold($1), '\\', '\\\\'), '%', '\\%'),"
            " '_', '\\_') || '%'"
        )
    rows = await conn.fetch(
        f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT count(*) FROM projects WHERE {where}",
        term,
    )
    import json

    root = json.loads(rows[0][0])[0]
    nodes = []

    def walk(node: dict[str, Any]) -> None:
        label = node["Node Type"]
        if "Index Name" in node:
            label += f" on {node['Index Name']}"
        nodes.append(label)
        for child in node.get("Plans", []):
            walk(child)

    walk(root["Plan"])
    return f"{' > '.join(nodes)} ({root['Execution Time']:.1f} ms)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/ipcp_bench_search"
    )
    parser.add_argument("--projects", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(prepare(args.database_url, args.projects))
    terms = ["قرطاج", "Zanzibar", "zanzi", "قرطا", "training course", "البحري", "ab", "z", "ق"]
    asyncio.run(measure(args.database_url, terms, args.runs))


if __name__ == "__main__":
    main()
