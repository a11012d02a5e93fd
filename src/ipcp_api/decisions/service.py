"""Decisions of a review: changed only while the review is ``held``."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.auth import scope
from ipcp_api.auth.actor import Actor
from ipcp_api.common import i18n, listing
from ipcp_api.common.crud import (
    delete_audited,
    insert_audited,
    one_or_404,
    patch_values,
    update_audited,
)
from ipcp_api.common.http import check_if_match, in_id_range
from ipcp_api.common.listing import equals, missing_translation, search
from ipcp_api.decisions.schemas import DecisionCreate, DecisionPatch, DecisionRead
from ipcp_api.enums import ReviewStatus
from ipcp_api.errors import Conflict, Invalid
from ipcp_api.models import Decision, Programme, Project, Review
from ipcp_api.reviews import service as reviews

NULLABLE = ("project_id", "translations")


class DecisionSort(StrEnum):
    position = "position"
    kind = "kind"


LISTING = listing.Spec(
    name="decision",
    model=Decision,
    read=DecisionRead,
    sort=DecisionSort,
    default_sort="position",
    joins=(
        listing.Join(Review, lambda: Review.id == Decision.review_id),
        listing.Join(Programme, lambda: Programme.id == Review.programme_id),
    ),
    scope_via=Programme.partner_id,
    filters={
        "q": search(Decision),
        "missing_translation": missing_translation(Decision),
        "review_id": equals(Decision.review_id),
        "programme_id": equals(Review.programme_id, "programme_id", joins=1),
        "kind": equals(Decision.kind),
    },
)
"""Decisions, through review -> programme -> partner."""


async def get_decision(session: AsyncSession, actor: Actor, decision_id: int) -> DecisionRead:
    row = await listing.read_row(session, LISTING, actor, decision_id)
    return DecisionRead.model_validate(row)


def check_review_held(review: Review, field: str = "review_id") -> None:
    """Decisions are created, changed or deleted only while their review is ``held``."""
    if review.status is not ReviewStatus.held:
        raise Conflict(
            f"decisions change only while their review is held (review {review.id} is "
            f"{review.status.value})",
            errors=[{"loc": ["body", field], "msg": f"the review is {review.status.value}"}],
        )


async def check_project_of(
    session: AsyncSession, review: Review, project_id: int | None, field: str = "project_id"
) -> None:
    """``project_id`` must be a project of the review's programme (else 422 naming it)."""
    if project_id is None:
        return
    found = None
    if in_id_range(project_id):
        found = await session.scalar(
            select(Project.id).where(
                Project.id == project_id, Project.programme_id == review.programme_id
            )
        )
    if found is None:
        raise Invalid(
            ("body", field), f"{field} {project_id} is not a project of the review's programme"
        )


async def _lock_decision(session: AsyncSession, actor: Actor, decision_id: int) -> Decision:
    stmt = scope.restrict(
        select(Decision)
        .join(Review, Review.id == Decision.review_id)
        .join(Programme, Programme.id == Review.programme_id),
        actor,
        via=Programme.partner_id,
    ).where(Decision.id == decision_id)
    stmt = stmt.with_for_update(of=Decision).execution_options(populate_existing=True)
    decision: Decision = await one_or_404(session, stmt, "decision", decision_id)
    return decision


async def create_decision(
    session: AsyncSession, actor: Actor, data: DecisionCreate
) -> DecisionRead:
    i18n.check_new(data.lang, data.translations)
    review = await reviews.review_for_child(session, actor, data.review_id)
    check_review_held(review)
    await check_project_of(session, review, data.project_id)
    decision = await insert_audited(session, actor, Decision(**data.model_dump()))
    return await get_decision(session, actor, decision.id)


async def update_decision(
    session: AsyncSession,
    actor: Actor,
    decision_id: int,
    patch: DecisionPatch,
    *,
    if_match: str | None,
) -> DecisionRead:
    decision = await _lock_decision(session, actor, decision_id)
    check_if_match(if_match, decision.version)
    values = patch_values(patch, nullable=NULLABLE)
    i18n.merge(decision, values)
    if all(getattr(decision, name) == value for name, value in values.items()):
        return await get_decision(session, actor, decision.id)  # nothing changes
    review = await reviews.review_for_child(session, actor, decision.review_id)
    check_review_held(review)
    if values.get("review_id", decision.review_id) != decision.review_id:
        review = await reviews.review_for_child(session, actor, values["review_id"])
        check_review_held(review)
    merged: dict[str, Any] = {
        name: values.get(name, getattr(decision, name)) for name in ("review_id", "project_id")
    }
    await check_project_of(session, review, merged["project_id"])
    await update_audited(session, actor, decision, values)
    return await get_decision(session, actor, decision.id)


async def delete_decision(
    session: AsyncSession, actor: Actor, decision_id: int, *, if_match: str | None
) -> None:
    decision = await _lock_decision(session, actor, decision_id)
    check_if_match(if_match, decision.version)
    review = await reviews.review_for_child(session, actor, decision.review_id)
    check_review_held(review)
    # action items that refer to it (ON DELETE RESTRICT): 409, nothing deleted
    await delete_audited(session, actor, decision)
