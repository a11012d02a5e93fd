"""The migrations are the schema: upgrade, compare with the models, downgrade, upgrade again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ipcp_api.db.migrations import downgrade, head_revision, upgrade
from ipcp_api.models import Base
from tests.conftest import _admin


@pytest.fixture
def scratch_url(server_url: str) -> Iterator[str]:
    name = f"ipcp_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _inspect(url: str) -> tuple[list[Any], list[str], str | None]:
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
        tables = (
            await connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            )
        ).all()
        version = None
        if "alembic_version" in tables:
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        pillars = []
        if "pillars" in tables:
            pillars = (
                await connection.scalars(text("SELECT code FROM pillars ORDER BY position"))
            ).all()
    await engine.dispose()
    return diff, [*tables, *(f"pillar:{p}" for p in pillars)], version


def test_round_trip(scratch_url: str) -> None:
    upgrade(scratch_url)
    diff, tables, version = asyncio.run(_inspect(scratch_url))
    assert diff == [], f"models and migrations differ: {diff}"
    assert version == head_revision()
    assert "pillar:political-diplomatic" in tables
    assert tables[-3:] == [
        "pillar:political-diplomatic",
        "pillar:defence-security-expertise",
        "pillar:emerging-challenges",
    ]

    downgrade(scratch_url, "base")
    _, tables, version = asyncio.run(_inspect(scratch_url))
    assert tables == ["alembic_version"]
    assert version is None

    upgrade(scratch_url)
    diff, _, version = asyncio.run(_inspect(scratch_url))
    assert diff == []
    assert version == head_revision()
    upgrade(scratch_url)  # idempotent
