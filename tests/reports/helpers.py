"""Shared pieces of the report tests: expected figures written out by hand."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.models import Pillar


def figures(
    projects: int,
    milestones: int,
    done: int,
    overdue: int,
    progress: float | None,
    expected: float | None,
    variance: float | None,
    schedule: str,
) -> dict[str, Any]:
    """The summary fields, in API.md's order."""
    return {
        "projects": projects,
        "milestones": milestones,
        "milestones_done": done,
        "milestones_overdue": overdue,
        "progress": progress,
        "expected_progress": expected,
        "variance": variance,
        "schedule": schedule,
    }


def empty(projects: int = 0) -> dict[str, Any]:
    """A set with no counted weight: zeros, nulls and ``not_planned``."""
    return figures(projects, 0, 0, 0, None, None, None, "not_planned")


async def all_pillars(session: AsyncSession) -> list[Pillar]:
    return list((await session.scalars(select(Pillar).order_by(Pillar.position, Pillar.id))).all())


def pillar_row(pillar: Pillar, values: dict[str, Any]) -> dict[str, Any]:
    return {"pillar": {"id": pillar.id, "code": pillar.code, "name": pillar.name}, **values}
