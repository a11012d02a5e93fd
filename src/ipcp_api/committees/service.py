"""Committees: reference data, the bodies that review programmes."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.auth.actor import Actor
from ipcp_api.committees.schemas import CommitteeCreate, CommitteePatch, CommitteeRead
from ipcp_api.common import i18n, listing
from ipcp_api.common.crud import (
    delete_audited,
    insert_audited,
    lock_or_404,
    patch_values,
    update_audited,
)
from ipcp_api.common.listing import equals, missing_translation, search
from ipcp_api.models import Committee


class CommitteeSort(StrEnum):
    code = "code"
    name = "name"


LISTING = listing.Spec(
    name="committee",
    model=Committee,
    read=CommitteeRead,
    sort=CommitteeSort,
    default_sort="code",
    filters={
        "q": search(Committee),
        "missing_translation": missing_translation(Committee),
        "code": equals(Committee.code),
    },
)
"""Committees are reference data: every signed-in user may read them."""
NULLABLE = ("description", "translations")


def _locked(ident: int) -> Select[Any]:
    return select(Committee).where(Committee.id == ident)


async def create_committee(session: AsyncSession, actor: Actor, data: CommitteeCreate) -> Committee:
    i18n.check_new(data.lang, data.translations)
    return await insert_audited(session, actor, Committee(**data.model_dump()))


async def update_committee(
    session: AsyncSession,
    actor: Actor,
    committee_id: int,
    patch: CommitteePatch,
    *,
    if_match: str | None,
) -> Committee:
    committee = await lock_or_404(
        session, _locked(committee_id), "committee", committee_id, if_match=if_match
    )
    values = patch_values(patch, nullable=NULLABLE)
    i18n.merge(committee, values)
    return await update_audited(session, actor, committee, values)


async def delete_committee(
    session: AsyncSession, actor: Actor, committee_id: int, *, if_match: str | None
) -> None:
    committee = await lock_or_404(
        session, _locked(committee_id), "committee", committee_id, if_match=if_match
    )
    await delete_audited(session, actor, committee)
