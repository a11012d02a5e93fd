"""The migration that adds CHECK (isfinite(...)) first repairs infinite dates (issue 14)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ipcp_api.db.migrations import upgrade
from tests.test_migrations import scratch_url  # noqa: F401  (the fixture)

BEFORE = "cab33c716aee"  # the initial schema, before the finite-date checks


async def _run(url: str, *statements: str) -> list[tuple[str, ...]]:
    engine = create_async_engine(url, poolclass=NullPool)
    rows: list[tuple[str, ...]] = []
    async with engine.begin() as connection:
        for statement in statements:
            result = await connection.execute(text(statement))
            if result.returns_rows:
                rows.extend(tuple(row) for row in result.all())
    await engine.dispose()
    return rows


def test_infinite_dates_are_repaired(scratch_url: str) -> None:  # noqa: F811
    upgrade(scratch_url, BEFORE)
    asyncio.run(
        _run(
            scratch_url,
            "INSERT INTO frameworks (code, name, launched_on) VALUES ('INF', 'x', '-infinity')",
            "INSERT INTO partners (code, kind, name) VALUES ('INF', 'organisation', 'x')",
            "INSERT INTO framework_memberships (partner_id, framework_id, joined_on)"
            " SELECT p.id, f.id, 'infinity' FROM partners p, frameworks f",
            "INSERT INTO programmes (partner_id, code, title, starts_on, ends_on)"
            " SELECT id, 'INF-1', 't', '-infinity', 'infinity' FROM partners",
            "INSERT INTO projects (programme_id, pillar_id, code, title, starts_on, ends_on)"
            " SELECT (SELECT id FROM programmes), (SELECT min(id) FROM pillars), 'P', 't',"
            " '-infinity', 'infinity'",
            "INSERT INTO milestones (project_id, title, due_on) SELECT id, 'm', '-infinity'"
            " FROM projects",
            "INSERT INTO milestones (project_id, title, due_on, state, completed_on)"
            " SELECT id, 'n', '2017-01-01', 'done', '-infinity' FROM projects",
        )
    )
    upgrade(scratch_url)
    rows = asyncio.run(
        _run(
            scratch_url,
            "SELECT launched_on::text FROM frameworks",
            "SELECT joined_on::text FROM framework_memberships",
            "SELECT starts_on::text || ' ' || ends_on::text FROM programmes",
            "SELECT starts_on::text || ' ' || ends_on::text FROM projects",
            "SELECT coalesce(completed_on::text, due_on::text) FROM milestones ORDER BY id",
        )
    )
    assert [row[0] for row in rows] == [
        "0001-01-01",
        "9999-12-31",
        "0001-01-01 9999-12-31",
        "0001-01-01 9999-12-31",
        "0001-01-01",
        "0001-01-01",
    ]
    checks = asyncio.run(
        _run(
            scratch_url,
            "SELECT count(*)::text FROM pg_constraint WHERE conname LIKE '%\\_finite\\_check'"
            # the tables of that migration (later ones add date columns with their own checks)
            " AND conrelid::regclass::text IN ('frameworks', 'framework_memberships',"
            " 'programmes', 'projects', 'milestones')",
        )
    )
    assert checks == [("9",)]
