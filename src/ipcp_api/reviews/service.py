"""Reviews: scoped reads with ``format_label`` computed in the same statement, and writes."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Date, String, bindparam, case, cast, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.auth import scope
from ipcp_api.auth.actor import Actor
from ipcp_api.common import i18n, listing, metrics
from ipcp_api.common.crud import (
    check_exists,
    delete_audited,
    insert_audited,
    one_or_404,
    patch_values,
    update_audited,
)
from ipcp_api.common.http import check_if_match, in_id_range
from ipcp_api.common.listing import Filter, equals, missing_translation, search
from ipcp_api.enums import ReviewFormat, ReviewStatus
from ipcp_api.errors import Conflict, Invalid
from ipcp_api.models import ActionItem, Committee, Decision, Programme, Review
from ipcp_api.reviews import workflow
from ipcp_api.reviews.schemas import ReviewCreate, ReviewPatch, ReviewRead

NULLABLE = ("allies_count", "place", "summary", "translations")


def format_label(review: Any) -> ColumnElement[str | None]:
    """``"<n>+1"`` for ``allies_plus_partner`` with n allies, ``"<n>"`` for ``allies_only``,
    else null (``review`` is the model or an alias of ``reviews``)."""
    count = cast(review.allies_count, String)
    label: ColumnElement[str | None] = case(
        (review.format == ReviewFormat.allies_plus_partner.value, count + "+1"),
        (review.format == ReviewFormat.allies_only.value, count),
        else_=None,
    )
    return label


# --- reads ------------------------------------------------------------------------------------


class ReviewSort(StrEnum):
    held_on = "held_on"
    status = "status"


LISTING = listing.Spec(
    name="review",
    model=Review,
    read=ReviewRead,
    sort=ReviewSort,
    default_sort="held_on",
    computed={"format_label": lambda: format_label(Review)},
    joins=(listing.Join(Programme, lambda: Programme.id == Review.programme_id),),
    scope_via=Programme.partner_id,
    filters={
        "q": search(Review),
        "missing_translation": missing_translation(Review),
        "programme_id": equals(Review.programme_id),
        "partner_id": equals(Programme.partner_id, "partner_id", joins=1),
        "committee_id": equals(Review.committee_id),
        "status": equals(Review.status),
        "held_after": Filter(lambda: Review.held_on > bindparam("held_after", type_=Date)),
        "held_before": Filter(lambda: Review.held_on < bindparam("held_before", type_=Date)),
    },
)
"""Reviews, through programme -> partner."""


async def get_review(session: AsyncSession, actor: Actor, review_id: int) -> ReviewRead:
    row = await listing.read_row(session, LISTING, actor, review_id)
    return ReviewRead.model_validate(row)


# --- rules ------------------------------------------------------------------------------------


async def lock_programme(session: AsyncSession, actor: Actor, programme_id: int) -> Programme:
    """The visible programme, locked FOR SHARE; not visible -> 422 naming ``programme_id``."""
    programme: Programme | None = None
    if in_id_range(programme_id):
        stmt = (
            scope.visible_programmes(actor)
            .where(Programme.id == programme_id)
            .with_for_update(read=True)
        )
        programme = (await session.execute(stmt)).scalar_one_or_none()
    if programme is None:
        raise Invalid(("body", "programme_id"), f"programme_id {programme_id} does not exist")
    return programme


async def lock_review(
    session: AsyncSession, actor: Actor, review_id: int, *, share: bool = False
) -> Review:
    """The visible review locked (FOR UPDATE, or FOR SHARE), else 404."""
    stmt = scope.restrict(
        select(Review).join(Programme, Programme.id == Review.programme_id),
        actor,
        via=Programme.partner_id,
    ).where(Review.id == review_id)
    stmt = stmt.with_for_update(of=Review, read=share).execution_options(populate_existing=True)
    review: Review = await one_or_404(session, stmt, "review", review_id)
    return review


async def review_for_child(session: AsyncSession, actor: Actor, review_id: int) -> Review:
    """A body's ``review_id``: the visible review, locked FOR SHARE (its status holds until
    commit); not visible -> 422 naming ``review_id``."""
    review = None
    if in_id_range(review_id):
        stmt = scope.restrict(
            select(Review).join(Programme, Programme.id == Review.programme_id),
            actor,
            via=Programme.partner_id,
        ).where(Review.id == review_id)
        stmt = stmt.with_for_update(of=Review, read=True).execution_options(populate_existing=True)
        review = (await session.execute(stmt)).scalar_one_or_none()
    if review is None:
        raise Invalid(("body", "review_id"), f"review_id {review_id} does not exist")
    return review


def _check_held_on(status: ReviewStatus, held_on: date) -> None:
    if status in workflow.MET and held_on > metrics.today():
        raise Conflict(
            f"a review can be {status.value} only when held_on is not after today",
            errors=[{"loc": ["body", "held_on"], "msg": "is after today"}],
        )


async def _has_children(session: AsyncSession, review_id: int) -> bool:
    stmt = select(
        or_(
            exists().where(Decision.review_id == review_id),
            exists().where(ActionItem.review_id == review_id),
        )
    )
    return bool(await session.scalar(stmt))


# --- writes -----------------------------------------------------------------------------------


async def create_review(session: AsyncSession, actor: Actor, data: ReviewCreate) -> ReviewRead:
    if data.status not in (ReviewStatus.planned, ReviewStatus.held):
        raise Invalid(
            ("body", "status"),
            "a new review is planned, or held when it records a past meeting",
        )
    i18n.check_new(data.lang, data.translations)
    await lock_programme(session, actor, data.programme_id)
    await check_exists(
        session,
        select(Committee.id).where(Committee.id == data.committee_id),
        "committee_id",
        data.committee_id,
    )
    _check_held_on(data.status, data.held_on)
    values = data.model_dump()
    review = await insert_audited(session, actor, Review(**values))
    return await get_review(session, actor, review.id)


async def update_review(
    session: AsyncSession,
    actor: Actor,
    review_id: int,
    patch: ReviewPatch,
    *,
    if_match: str | None,
) -> ReviewRead:
    review = await lock_review(session, actor, review_id)
    check_if_match(if_match, review.version)
    values = patch_values(patch, nullable=NULLABLE)
    if patch.chairs is not None:
        # a chair replaces the stored one whole: every field, an omitted position as null
        # (``patch_values`` leaves unset fields out, nested ones included)
        values["chairs"] = [chair.model_dump() for chair in patch.chairs]
    i18n.merge(review, values)
    changed = {name for name, value in values.items() if getattr(review, name) != value}
    status = values.get("status", review.status)
    workflow.check_transition(actor, review.status, status)
    workflow.check_frozen(review.status, changed)
    if "programme_id" in changed:
        await lock_programme(session, actor, values["programme_id"])
        if await _has_children(session, review.id):
            raise Conflict(
                "a review with decisions or action items cannot move to another programme",
                errors=[{"loc": ["body", "programme_id"], "msg": "the review has decisions"}],
            )
    if "committee_id" in changed:
        await check_exists(
            session,
            select(Committee.id).where(Committee.id == values["committee_id"]),
            "committee_id",
            values["committee_id"],
        )
    _check_held_on(status, values.get("held_on", review.held_on))
    await update_audited(session, actor, review, values)
    return await get_review(session, actor, review.id)


async def delete_review(
    session: AsyncSession, actor: Actor, review_id: int, *, if_match: str | None
) -> None:
    review = await lock_review(session, actor, review_id)
    check_if_match(if_match, review.version)
    if review.status is ReviewStatus.closed:
        raise Conflict("a closed review cannot be deleted (an admin may reopen it first)")
    # decisions and action items refer to it (ON DELETE RESTRICT): 409, nothing deleted
    await delete_audited(session, actor, review)
