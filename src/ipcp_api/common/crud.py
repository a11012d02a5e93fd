"""Small pieces every service uses: text search, load-or-404, merge patches, audited writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.audit import service as audit
from ipcp_api.auth.actor import Actor
from ipcp_api.common.http import check_if_match, in_id_range
from ipcp_api.common.pagination import Column
from ipcp_api.db.integrity import from_db_error
from ipcp_api.errors import Invalid, NotFound

T = TypeVar("T")


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_search(columns: Iterable[Column], q: str | None) -> ColumnElement[bool] | None:
    """Case-insensitive substring search over ``columns`` (ILIKE folds case in any script)."""
    if q is None or q == "":
        return None
    pattern = f"%{escape_like(q)}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


async def one_or_404(session: AsyncSession, stmt: Select[Any], what: str, ident: int) -> Any:
    """The first column of the only row of ``stmt``, or 404 (ids out of range are 404 too)."""
    if not in_id_range(ident):
        raise NotFound(f"{what} {ident} does not exist")
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound(f"{what} {ident} does not exist")
    return row[0] if len(row) == 1 else row


def patch_values(patch: BaseModel, *, nullable: Iterable[str] = ()) -> dict[str, Any]:
    """The fields a merge patch sets; ``null`` only where the field may be cleared."""
    values = patch.model_dump(exclude_unset=True)
    allowed_null = set(nullable)
    for name, value in values.items():
        if value is None and name not in allowed_null:
            raise Invalid(("body", name), "may not be null")
    return values


def apply(obj: Any, values: dict[str, Any]) -> None:
    """Set only the attributes whose value changes (so an empty change leaves ``version``)."""
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)


async def check_exists(
    session: AsyncSession, stmt: Select[Any], field: str, ident: int | None
) -> None:
    """A body's reference to another resource must exist and be visible, else 422 naming it."""
    if ident is None:
        return
    if not in_id_range(ident) or (await session.execute(stmt)).first() is None:
        raise Invalid(("body", field), f"{field} {ident} does not exist")


async def delete_row(session: AsyncSession, obj: Any) -> None:
    """Delete now; rows still referring to it (ON DELETE RESTRICT) make it 409, not 500."""
    await session.delete(obj)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise from_db_error(exc, deleting=True) from exc


# --- audited writes (the ORM: ``version_id_col``, the audit row in the same transaction) -------


async def lock_or_404(
    session: AsyncSession, stmt: Select[Any], what: str, ident: int, *, if_match: str | None
) -> Any:
    """The row of ``stmt`` locked FOR UPDATE (404 if none), checked against ``If-Match``."""
    obj = await one_or_404(session, stmt.with_for_update(), what, ident)
    check_if_match(if_match, obj.version)
    return obj


async def insert_audited(session: AsyncSession, actor: Actor, obj: T) -> T:
    session.add(obj)
    await session.flush()
    audit.created(session, actor, obj)
    return obj


async def update_audited(session: AsyncSession, actor: Actor, obj: T, values: dict[str, Any]) -> T:
    """Set what changes (``apply``), flush, and record the change (nothing changed: no row)."""
    before = audit.snapshot(obj)
    apply(obj, values)
    await session.flush()
    audit.updated(session, actor, obj, before)
    return obj


async def delete_audited(session: AsyncSession, actor: Actor, obj: Any) -> None:
    before = audit.snapshot(obj)
    await delete_row(session, obj)
    audit.deleted(session, actor, obj, before)
