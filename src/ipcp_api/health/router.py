"""Liveness and readiness: the only routes that answer without a token."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from ipcp_api.common.responses import errors
from ipcp_api.db.migrations import head_revision
from ipcp_api.errors import Unavailable

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    status: Literal["ready"] = "ready"
    revision: str


@router.get("/healthz", summary="Liveness", response_model=Health)
async def healthz() -> Health:
    """200 while the process runs; never touches the database."""
    return Health()


@router.get("/readyz", summary="Readiness", response_model=Ready, responses=errors(503))
async def readyz(request: Request) -> Ready:
    """200 when the database answers and its schema is at the latest migration, else 503."""
    if getattr(request.app.state, "shutting_down", False):
        raise Unavailable("the server is shutting down")
    try:
        async with request.app.state.engine.connect() as connection:
            exists = await connection.scalar(text("SELECT to_regclass('alembic_version')"))
            current = (
                await connection.scalar(text("SELECT version_num FROM alembic_version"))
                if exists
                else None
            )
    except Exception as exc:
        raise Unavailable("the database is unreachable") from exc
    head = head_revision()
    if current != head:
        raise Unavailable(
            f"the database schema is at {current or 'no revision'}, not {head}:"
            " run `ipcp-api migrate`"
        )
    return Ready(revision=head)
