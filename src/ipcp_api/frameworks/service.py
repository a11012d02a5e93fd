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
from ipcp_api.frameworks.schemas import FrameworkCreate, FrameworkPatch, FrameworkRead
from ipcp_api.models import Framework


class FrameworkSort(StrEnum):
    code = "code"
    name = "name"
    launched_on = "launched_on"


LISTING = listing.Spec(
    name="framework",
    model=Framework,
    read=FrameworkRead,
    sort=FrameworkSort,
    default_sort="code",
    filters={
        "q": search(Framework),
        "missing_translation": missing_translation(Framework),
        "code": equals(Framework.code),
    },
)
"""Frameworks are reference data: every signed-in user may read them."""
NULLABLE = ("launched_on", "description", "translations")


def _locked(ident: int) -> Select[Any]:
    return select(Framework).where(Framework.id == ident)


async def create_framework(session: AsyncSession, actor: Actor, data: FrameworkCreate) -> Framework:
    i18n.check_new(data.lang, data.translations)
    return await insert_audited(session, actor, Framework(**data.model_dump()))


async def update_framework(
    session: AsyncSession,
    actor: Actor,
    framework_id: int,
    patch: FrameworkPatch,
    *,
    if_match: str | None,
) -> Framework:
    framework = await lock_or_404(
        session, _locked(framework_id), "framework", framework_id, if_match=if_match
    )
    values = patch_values(patch, nullable=NULLABLE)
    i18n.merge(framework, values)
    return await update_audited(session, actor, framework, values)


async def delete_framework(
    session: AsyncSession, actor: Actor, framework_id: int, *, if_match: str | None
) -> None:
    framework = await lock_or_404(
        session, _locked(framework_id), "framework", framework_id, if_match=if_match
    )
    await delete_audited(session, actor, framework)
