"""Action items: follow-up agreed at a review; ``overdue`` computed as of today in SQL."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, bindparam, case, select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.action_items.schemas import ActionItemCreate, ActionItemPatch, ActionItemRead
from ipcp_api.auth import scope
from ipcp_api.auth.actor import Actor
from ipcp_api.common import i18n, listing, metrics
from ipcp_api.common.crud import (
    delete_audited,
    insert_audited,
    one_or_404,
    patch_values,
    update_audited,
)
from ipcp_api.common.http import check_if_match, in_id_range
from ipcp_api.common.listing import Filter, equals, flag, missing_translation, search
from ipcp_api.common.metrics import AS_OF
from ipcp_api.decisions.service import check_project_of
from ipcp_api.enums import ActionStatus, OwnerSide, ReviewStatus, Role
from ipcp_api.errors import Conflict, Forbidden, Invalid, invalid_fields
from ipcp_api.models import ActionItem, Decision, Milestone, Programme, Project, Review
from ipcp_api.reviews import service as reviews

NULLABLE = ("decision_id", "completed_on", "project_id", "milestone_id", "translations")
LIAISON_FIELDS = frozenset({"status", "completed_on"})
"""What a liaison may change, on its partner's items owned by the partner."""


def overdue(item: Any, as_of: Any) -> ColumnElement[bool]:
    """Open and due before ``as_of``."""
    result: ColumnElement[bool] = and_(item.status == ActionStatus.open.value, item.due_on < as_of)
    return result


def days_overdue(item: Any, as_of: Any) -> ColumnElement[Any]:
    return case((overdue(item, as_of), as_of - item.due_on), else_=None)


class ActionItemSort(StrEnum):
    due_on = "due_on"
    status = "status"


def _overdue() -> ColumnElement[bool]:
    return overdue(ActionItem, AS_OF)


LISTING = listing.Spec(
    name="action item",
    model=ActionItem,
    read=ActionItemRead,
    sort=ActionItemSort,
    default_sort="due_on",
    computed={"overdue": _overdue, "days_overdue": lambda: days_overdue(ActionItem, AS_OF)},
    joins=(
        listing.Join(Review, lambda: Review.id == ActionItem.review_id),
        listing.Join(Programme, lambda: Programme.id == Review.programme_id),
    ),
    scope_via=Programme.partner_id,
    filters={
        "q": search(ActionItem),
        "missing_translation": missing_translation(ActionItem),
        "review_id": equals(ActionItem.review_id),
        "programme_id": equals(Review.programme_id, "programme_id", joins=1),
        "partner_id": equals(Programme.partner_id, "partner_id", joins=2),
        "status": equals(ActionItem.status),
        "overdue": flag(_overdue),
        "due_before": Filter(lambda: ActionItem.due_on < bindparam("due_before", type_=Date)),
        "due_after": Filter(lambda: ActionItem.due_on > bindparam("due_after", type_=Date)),
        "owner_side": equals(ActionItem.owner_side),
    },
    values=metrics.as_of_today,
)
"""Action items, through review -> programme -> partner; ``overdue`` as of today."""


async def get_action_item(session: AsyncSession, actor: Actor, item_id: int) -> ActionItemRead:
    row = await listing.read_row(session, LISTING, actor, item_id)
    return ActionItemRead.model_validate(row)


# --- rules ------------------------------------------------------------------------------------


def _check_review_met(review: Review) -> None:
    if review.status not in (ReviewStatus.held, ReviewStatus.closed):
        raise Conflict(
            f"action items are agreed at a held or closed review (review {review.id} is "
            f"{review.status.value})",
            errors=[{"loc": ["body", "review_id"], "msg": f"the review is {review.status.value}"}],
        )


async def _check_refs(session: AsyncSession, review: Review, merged: dict[str, Any]) -> None:
    """``decision_id`` of the same review, ``project_id`` and ``milestone_id`` of the review's
    programme (422 naming the field)."""
    decision_id = merged["decision_id"]
    if decision_id is not None:
        found = None
        if in_id_range(decision_id):
            found = await session.scalar(
                select(Decision.id).where(
                    Decision.id == decision_id, Decision.review_id == review.id
                )
            )
        if found is None:
            raise Invalid(
                ("body", "decision_id"),
                f"decision_id {decision_id} is not a decision of review {review.id}",
            )
    await check_project_of(session, review, merged["project_id"])
    milestone_id = merged["milestone_id"]
    if milestone_id is not None:
        found = None
        if in_id_range(milestone_id):
            found = await session.scalar(
                select(Milestone.id)
                .join(Project, Project.id == Milestone.project_id)
                .where(Milestone.id == milestone_id, Project.programme_id == review.programme_id)
            )
        if found is None:
            raise Invalid(
                ("body", "milestone_id"),
                f"milestone_id {milestone_id} is not a milestone of the review's programme",
            )


def _check_completion(status: ActionStatus, completed_on: date | None) -> None:
    errors: list[tuple[str, str]] = []
    if status is ActionStatus.done:
        if completed_on is None:
            errors.append(("completed_on", "is required when status is done"))
        elif completed_on > metrics.today():
            errors.append(("completed_on", "must not be after today"))
    elif completed_on is not None:
        errors.append(("completed_on", "must be null unless status is done"))
    if errors:
        raise invalid_fields(errors)


async def _lock_item(session: AsyncSession, actor: Actor, item_id: int) -> ActionItem:
    stmt = scope.restrict(
        select(ActionItem)
        .join(Review, Review.id == ActionItem.review_id)
        .join(Programme, Programme.id == Review.programme_id),
        actor,
        via=Programme.partner_id,
    ).where(ActionItem.id == item_id)
    stmt = stmt.with_for_update(of=ActionItem).execution_options(populate_existing=True)
    item: ActionItem = await one_or_404(session, stmt, "action item", item_id)
    return item


# --- writes -----------------------------------------------------------------------------------


async def create_action_item(
    session: AsyncSession, actor: Actor, data: ActionItemCreate
) -> ActionItemRead:
    i18n.check_new(data.lang, data.translations)
    values = data.model_dump()
    _check_completion(values["status"], values["completed_on"])
    review = await reviews.review_for_child(session, actor, data.review_id)
    _check_review_met(review)
    await _check_refs(session, review, values)
    item = await insert_audited(session, actor, ActionItem(**values))
    return await get_action_item(session, actor, item.id)


def _check_liaison_fields(actor: Actor, patch: ActionItemPatch) -> None:
    if actor.role is Role.viewer:
        raise Forbidden("a viewer may not change action items")
    if actor.role is Role.liaison and not patch.model_fields_set <= LIAISON_FIELDS:
        fields = ", ".join(sorted(patch.model_fields_set - LIAISON_FIELDS))
        raise Forbidden(
            "a liaison officer may change only status and completed_on of its partner's "
            f"action items (not {fields})"
        )


async def update_action_item(
    session: AsyncSession,
    actor: Actor,
    item_id: int,
    patch: ActionItemPatch,
    *,
    if_match: str | None,
) -> ActionItemRead:
    _check_liaison_fields(actor, patch)
    item = await _lock_item(session, actor, item_id)
    if actor.role is Role.liaison and item.owner_side is not OwnerSide.partner:
        raise Forbidden("a liaison officer may not change an action item owned by the alliance")
    check_if_match(if_match, item.version)
    values = patch_values(patch, nullable=NULLABLE)
    i18n.merge(item, values)
    merged = {name: values.get(name, getattr(item, name)) for name in ActionItem.audited_fields}
    _check_completion(merged["status"], merged["completed_on"])
    references = ("review_id", "decision_id", "project_id", "milestone_id")
    if any(merged[name] != getattr(item, name) for name in references):
        review = await reviews.review_for_child(session, actor, merged["review_id"])
        if merged["review_id"] != item.review_id:
            _check_review_met(review)
        await _check_refs(session, review, merged)
    await update_audited(session, actor, item, values)
    return await get_action_item(session, actor, item.id)


async def delete_action_item(
    session: AsyncSession, actor: Actor, item_id: int, *, if_match: str | None
) -> None:
    item = await _lock_item(session, actor, item_id)
    check_if_match(if_match, item.version)
    await delete_audited(session, actor, item)
