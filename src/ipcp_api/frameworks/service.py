from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.audit import service as audit
from ipcp_api.auth.actor import Actor
from ipcp_api.common import i18n
from ipcp_api.common.crud import apply, delete_row, one_or_404, patch_values, text_search
from ipcp_api.common.http import check_if_match
from ipcp_api.common.pagination import ListParams, SortField, fetch_read_page, parse_sort
from ipcp_api.common.schemas import Page
from ipcp_api.frameworks.schemas import FrameworkCreate, FrameworkPatch, FrameworkRead
from ipcp_api.models import Framework

SORT_FIELDS = {
    "code": SortField(Framework.code, Framework.id),
    "name": SortField(Framework.name, Framework.id),
    "launched_on": SortField(Framework.launched_on, Framework.id, nullable=True, is_date=True),
}
NULLABLE = ("launched_on", "description", "translations")


def readable(_actor: Actor) -> Select[Any]:
    """Frameworks are reference data: every signed-in user may read them."""
    return select(Framework)


async def list_frameworks(
    session: AsyncSession, actor: Actor, *, q: str | None, sort: str | None, params: ListParams
) -> Page[FrameworkRead]:
    stmt = readable(actor)
    search = text_search((Framework.code, Framework.name, Framework.description), q)
    if search is not None:
        stmt = stmt.where(search)
    return await fetch_read_page(
        session, stmt, parse_sort(sort, SORT_FIELDS, "code"), params, FrameworkRead
    )


async def get_framework(
    session: AsyncSession, actor: Actor, framework_id: int, *, for_update: bool = False
) -> Framework:
    stmt = readable(actor).where(Framework.id == framework_id)
    if for_update:
        stmt = stmt.with_for_update()
    framework: Framework = await one_or_404(session, stmt, "framework", framework_id)
    return framework


async def create_framework(session: AsyncSession, actor: Actor, data: FrameworkCreate) -> Framework:
    i18n.check_new(data.lang, data.translations)
    framework = Framework(**data.model_dump())
    session.add(framework)
    await session.flush()
    audit.created(session, actor, framework)
    return framework


async def update_framework(
    session: AsyncSession,
    actor: Actor,
    framework_id: int,
    patch: FrameworkPatch,
    *,
    if_match: str | None,
) -> Framework:
    framework = await get_framework(session, actor, framework_id, for_update=True)
    check_if_match(if_match, framework.version)
    values = patch_values(patch, nullable=NULLABLE)
    i18n.merge(framework, values)
    before = audit.snapshot(framework)
    apply(framework, values)
    await session.flush()
    audit.updated(session, actor, framework, before)
    return framework


async def delete_framework(
    session: AsyncSession, actor: Actor, framework_id: int, *, if_match: str | None
) -> None:
    framework = await get_framework(session, actor, framework_id, for_update=True)
    check_if_match(if_match, framework.version)
    before = audit.snapshot(framework)
    await delete_row(session, framework)
    audit.deleted(session, actor, framework, before)
