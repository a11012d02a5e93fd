"""Pillars: reference data shared by every programme; ``position`` orders them in reports."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.auth.actor import Actor
from ipcp_api.common import i18n, listing
from ipcp_api.common.crud import (
    delete_audited,
    insert_audited,
    lock_or_404,
    patch_values,
    update_audited,
)
from ipcp_api.common.listing import equals, missing_translation, search
from ipcp_api.models import Pillar
from ipcp_api.pillars.schemas import PillarCreate, PillarPatch, PillarRead


class PillarSort(StrEnum):
    position = "position"
    code = "code"
    name = "name"


LISTING = listing.Spec(
    name="pillar",
    model=Pillar,
    read=PillarRead,
    sort=PillarSort,
    default_sort="position",
    filters={
        "q": search(Pillar),
        "missing_translation": missing_translation(Pillar),
        "code": equals(Pillar.code),
    },
)
"""Pillars are reference data: every signed-in user may read them."""
NULLABLE = ("description", "translations")


def _locked(ident: int) -> Select[Any]:
    return select(Pillar).where(Pillar.id == ident)


async def create_pillar(session: AsyncSession, actor: Actor, data: PillarCreate) -> Pillar:
    i18n.check_new(data.lang, data.translations)
    return await insert_audited(session, actor, Pillar(**data.model_dump()))


async def update_pillar(
    session: AsyncSession,
    actor: Actor,
    pillar_id: int,
    patch: PillarPatch,
    *,
    if_match: str | None,
) -> Pillar:
    pillar = await lock_or_404(session, _locked(pillar_id), "pillar", pillar_id, if_match=if_match)
    values = patch_values(patch, nullable=NULLABLE)
    i18n.merge(pillar, values)
    return await update_audited(session, actor, pillar, values)


async def delete_pillar(
    session: AsyncSession, actor: Actor, pillar_id: int, *, if_match: str | None
) -> None:
    pillar = await lock_or_404(session, _locked(pillar_id), "pillar", pillar_id, if_match=if_match)
    await delete_audited(session, actor, pillar)
