from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

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
from ipcp_api.enums import ReviewStatus
from ipcp_api.reviews import service
from ipcp_api.reviews.schemas import ReviewCreate, ReviewPage, ReviewPatch, ReviewRead

router = APIRouter(prefix="/reviews", tags=["reviews"], route_class=ApiRoute)

_WORKFLOW = (
    "Status: `planned → held → closed`, `planned → cancelled`, `held → cancelled`, and "
    "(admin only) `closed → held` to reopen; any other change is 409. A review can be `held` "
    "(or `closed`) only when `held_on` is not after today (409). A `closed` review accepts no "
    "change but that reopening (409). Admin and staff only."
)


@router.get(
    "",
    response_model=ReviewPage,
    summary="List reviews",
    description=(
        "Committee reviews of the programmes the caller can see (a liaison or a viewer bound "
        "to a partner: that partner's only). `format_label` reads `28+1` for a meeting of 28 "
        "allies with the partner."
    ),
    responses=errors(*LIST),
)
async def list_reviews(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    page: PageParams,
    programme_id: Annotated[int | None, filter_id("Only this programme's reviews.")] = None,
    partner_id: Annotated[
        int | None, filter_id("Only reviews of this partner's programmes.")
    ] = None,
    committee_id: Annotated[int | None, filter_id("Only this committee's reviews.")] = None,
    status: Annotated[ReviewStatus | None, Query(description="Only this status.")] = None,
    held_after: Annotated[
        IsoDate | None, Query(description="Only reviews held after this date (exclusive).")
    ] = None,
    held_before: Annotated[
        IsoDate | None, Query(description="Only reviews held before this date (exclusive).")
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
            "programme_id": programme_id,
            "partner_id": partner_id,
            "committee_id": committee_id,
            "status": status,
            "held_after": held_after,
            "held_before": held_before,
        },
    )
    return page_response(request, result)


@router.get(
    "/{review_id}",
    response_model=ReviewRead,
    summary="Get a review",
    responses=errors(304, *READ),
)
async def get_review(
    session: SessionDep,
    actor: CurrentActor,
    review_id: ResourceId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    return row_response(
        await listing.read_row(session, service.LISTING, actor, review_id), if_none_match
    )


@router.post(
    "",
    response_model=ReviewRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a review",
    description=(
        "A new review starts `planned`, or `held` when it records a past meeting (`closed` or "
        "`cancelled` → 422). " + _WORKFLOW
    ),
    responses=errors(*CREATE),
)
async def create_review(
    session: SessionDep, actor: StaffActor, body: ReviewCreate, response: Response
) -> ReviewRead:
    review = await service.create_review(session, actor, body)
    response.headers["Location"] = f"/api/v1/reviews/{review.id}"
    response.headers["ETag"] = etag(review.version)
    return review


@router.patch(
    "/{review_id}",
    response_model=ReviewRead,
    summary="Change a review",
    description="JSON merge patch; the rules apply to the merged result. " + _WORKFLOW,
    responses=errors(*UPDATE),
)
async def update_review(
    session: SessionDep,
    actor: StaffActor,
    review_id: ResourceId,
    body: ReviewPatch,
    response: Response,
    if_match: IfMatch = None,
) -> ReviewRead:
    review = await service.update_review(session, actor, review_id, body, if_match=if_match)
    response.headers["ETag"] = etag(review.version)
    return review


@router.delete(
    "/{review_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a review",
    description=(
        "409 while it has decisions or action items, and for a `closed` review. "
        "Admin and staff only."
    ),
    responses=errors(*DELETE),
)
async def delete_review(
    session: SessionDep, actor: StaffActor, review_id: ResourceId, if_match: IfMatch = None
) -> Response:
    await service.delete_review(session, actor, review_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
