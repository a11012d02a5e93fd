from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from ipcp_api.action_items import service
from ipcp_api.action_items.schemas import (
    ActionItemCreate,
    ActionItemPage,
    ActionItemPatch,
    ActionItemRead,
)
from ipcp_api.auth.dependencies import CurrentActor, StaffActor
from ipcp_api.common import listing
from ipcp_api.common.http import etag
from ipcp_api.common.i18n import MissingTranslation
from ipcp_api.common.idempotency import ApiRoute
from ipcp_api.common.listing import filter_id, page_response, row_response, sort_query
from ipcp_api.common.params import IfMatch, IfNoneMatch, PageParams, ResourceId, Search
from ipcp_api.common.responses import CREATE, DELETE, LIST, READ, UPDATE, errors
from ipcp_api.common.types import IsoDate
from ipcp_api.db.session import SessionDep
from ipcp_api.enums import ActionStatus, OwnerSide

router = APIRouter(prefix="/action-items", tags=["action items"], route_class=ApiRoute)

_RULES = (
    "Created only once the review is `held` or `closed` (else 409), and followed up after it "
    "closes. `decision_id` must be a decision of the same review, `project_id` and "
    "`milestone_id` of the review's programme (else 422 naming the field); `completed_on` is "
    "required when `status` is `done`, null otherwise, and not after today (422)."
)


@router.get(
    "",
    response_model=ActionItemPage,
    summary="List action items",
    description=(
        "Follow-up agreed at the reviews the caller can see. `overdue` and `days_overdue` "
        "(read-only) are computed as of today (UTC): an open item due before today."
    ),
    responses=errors(*LIST),
)
async def list_action_items(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    page: PageParams,
    review_id: Annotated[int | None, filter_id("Only this review's action items.")] = None,
    programme_id: Annotated[
        int | None, filter_id("Only action items of this programme's reviews.")
    ] = None,
    partner_id: Annotated[
        int | None, filter_id("Only action items of this partner's programmes.")
    ] = None,
    status: Annotated[ActionStatus | None, Query(description="Only this status.")] = None,
    overdue: Annotated[
        bool | None, Query(description="Only action items that are (or are not) overdue today.")
    ] = None,
    due_before: Annotated[
        IsoDate | None, Query(description="Only items due before this date (exclusive).")
    ] = None,
    due_after: Annotated[
        IsoDate | None, Query(description="Only items due after this date (exclusive).")
    ] = None,
    owner_side: Annotated[
        OwnerSide | None, Query(description="Only items owned by this side.")
    ] = None,
    q: Search = None,
    missing_translation: MissingTranslation = None,
    sort: Annotated[str | None, sort_query(service.LISTING)] = None,
) -> Response:
    result = await listing.list_rows(
        session,
        service.LISTING,
        actor,
        page,
        sort=sort,
        filters={
            "q": q,
            "missing_translation": missing_translation,
            "review_id": review_id,
            "programme_id": programme_id,
            "partner_id": partner_id,
            "status": status,
            "overdue": overdue,
            "due_before": due_before,
            "due_after": due_after,
            "owner_side": owner_side,
        },
    )
    return page_response(request, result)


@router.get(
    "/{action_item_id}",
    response_model=ActionItemRead,
    summary="Get an action item",
    responses=errors(304, *READ),
)
async def get_action_item(
    session: SessionDep,
    actor: CurrentActor,
    action_item_id: ResourceId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    return row_response(
        await listing.read_row(session, service.LISTING, actor, action_item_id), if_none_match
    )


@router.post(
    "",
    response_model=ActionItemRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create an action item",
    description=_RULES + " Admin and staff only.",
    responses=errors(*CREATE),
)
async def create_action_item(
    session: SessionDep, actor: StaffActor, body: ActionItemCreate, response: Response
) -> ActionItemRead:
    item = await service.create_action_item(session, actor, body)
    response.headers["Location"] = f"/api/v1/action-items/{item.id}"
    response.headers["ETag"] = etag(item.version)
    return item


@router.patch(
    "/{action_item_id}",
    response_model=ActionItemRead,
    summary="Change an action item",
    description=(
        "JSON merge patch; the rules apply to the merged result. "
        + _RULES
        + " Admin and staff change any field; a liaison officer only `status` and "
        "`completed_on` of its partner's items whose `owner_side` is `partner` (anything "
        "else is 403); a viewer never (403)."
    ),
    responses=errors(*UPDATE),
)
async def update_action_item(
    session: SessionDep,
    actor: CurrentActor,
    action_item_id: ResourceId,
    body: ActionItemPatch,
    response: Response,
    if_match: IfMatch = None,
) -> ActionItemRead:
    item = await service.update_action_item(session, actor, action_item_id, body, if_match=if_match)
    response.headers["ETag"] = etag(item.version)
    return item


@router.delete(
    "/{action_item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an action item",
    description="Admin and staff only.",
    responses=errors(*DELETE),
)
async def delete_action_item(
    session: SessionDep, actor: StaffActor, action_item_id: ResourceId, if_match: IfMatch = None
) -> Response:
    await service.delete_action_item(session, actor, action_item_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
