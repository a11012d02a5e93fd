"""Pillars: reference data shared by every programme; ``position`` orders them in reports."""

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
from ipcp_api.models import Pillar
from ipcp_api.pillars.schemas import PillarCreate, PillarPatch, PillarRead

SORT_FIELDS = {
    "position": SortField(Pillar.position, Pillar.id),
    "code": SortField(Pillar.code, Pillar.id),
    "name": SortField(Pillar.name, Pillar.id),
}
NULLABLE = ("description", "translations")


def readable(_actor: Actor) -> Select[Any]:
    """Pillars are reference data: every signed-in user may read them."""
    return select(Pillar)


async def list_pillars(
    session: AsyncSession, actor: Actor, *, q: str | None, sort: str | None, params: ListParams
) -> Page[PillarRead]:
    stmt = readable(actor)
    search = text_search((Pillar.code, Pillar.name, Pillar.description), q)
    if search is not None:
        stmt = stmt.where(search)
    return await fetch_read_page(
        session, stmt, parse_sort(sort, SORT_FIELDS, "position"), params, PillarRead
    )


async def get_pillar(
    session: AsyncSession, actor: Actor, pillar_id: int, *, for_update: bool = False
) -> Pillar:
    stmt = readable(actor).where(Pillar.id == pillar_id)
    if for_update:
        stmt = stmt.with_for_update()
    pillar: Pillar = await one_or_404(session, stmt, "pillar", pillar_id)
    return pillar


async def create_pillar(session: AsyncSession, actor: Actor, data: PillarCreate) -> Pillar:
    i18n.check_new(data.lang, data.translations)
    pillar = Pillar(**data.model_dump())
    session.add(pillar)
    await session.flush()
    audit.created(session, actor, pillar)
    return pillar


async def update_pillar(
    session: AsyncSession,
    actor: Actor,
    pillar_id: int,
    patch: PillarPatch,
    *,
    if_match: str | None,
) -> Pillar:
    pillar = await get_pillar(session, actor, pillar_id, for_update=True)
    check_if_match(if_match, pillar.version)
    values = patch_values(patch, nullable=NULLABLE)
    i18n.merge(pillar, values)
    before = audit.snapshot(pillar)
    apply(pillar, values)
    await session.flush()
    audit.updated(session, actor, pillar, before)
    return pillar


async def delete_pillar(
    session: AsyncSession, actor: Actor, pillar_id: int, *, if_match: str | None
) -> None:
    """409 while projects use it."""
    pillar = await get_pillar(session, actor, pillar_id, for_update=True)
    check_if_match(if_match, pillar.version)
    before = audit.snapshot(pillar)
    await delete_row(session, pillar)
    audit.deleted(session, actor, pillar, before)
