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
from ipcp_api.db.session import SessionDep
from ipcp_api.decisions import service
from ipcp_api.decisions.schemas import DecisionCreate, DecisionPage, DecisionPatch, DecisionRead
from ipcp_api.enums import DecisionKind

router = APIRouter(prefix="/decisions", tags=["decisions"], route_class=ApiRoute)

_WORKFLOW = (
    "Created, changed or deleted only while the review is `held` (else 409). `project_id` "
    "must be a project of the review's programme (else 422). Admin and staff only."
)


@router.get(
    "",
    response_model=DecisionPage,
    summary="List decisions",
    description=(
        "What the reviews the caller can see decided (a liaison or a viewer bound to a "
        "partner: its partner's programmes only)."
    ),
    responses=errors(*LIST),
)
async def list_decisions(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    page: PageParams,
    review_id: Annotated[int | None, filter_id("Only this review's decisions.")] = None,
    programme_id: Annotated[
        int | None, filter_id("Only decisions of this programme's reviews.")
    ] = None,
    kind: Annotated[DecisionKind | None, Query(description="Only this kind.")] = None,
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
            "kind": kind,
        },
    )
    return page_response(request, result)


@router.get(
    "/{decision_id}",
    response_model=DecisionRead,
    summary="Get a decision",
    responses=errors(304, *READ),
)
async def get_decision(
    session: SessionDep,
    actor: CurrentActor,
    decision_id: ResourceId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    return row_response(
        await listing.read_row(session, service.LISTING, actor, decision_id), if_none_match
    )


@router.post(
    "",
    response_model=DecisionRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a decision",
    description=_WORKFLOW,
    responses=errors(*CREATE),
)
async def create_decision(
    session: SessionDep, actor: StaffActor, body: DecisionCreate, response: Response
) -> DecisionRead:
    decision = await service.create_decision(session, actor, body)
    response.headers["Location"] = f"/api/v1/decisions/{decision.id}"
    response.headers["ETag"] = etag(decision.version)
    return decision


@router.patch(
    "/{decision_id}",
    response_model=DecisionRead,
    summary="Change a decision",
    description="JSON merge patch; the rules apply to the merged result. " + _WORKFLOW,
    responses=errors(*UPDATE),
)
async def update_decision(
    session: SessionDep,
    actor: StaffActor,
    decision_id: ResourceId,
    body: DecisionPatch,
    response: Response,
    if_match: IfMatch = None,
) -> DecisionRead:
    decision = await service.update_decision(session, actor, decision_id, body, if_match=if_match)
    response.headers["ETag"] = etag(decision.version)
    return decision


@router.delete(
    "/{decision_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a decision",
    description="409 while action items refer to it. " + _WORKFLOW,
    responses=errors(*DELETE),
)
async def delete_decision(
    session: SessionDep, actor: StaffActor, decision_id: ResourceId, if_match: IfMatch = None
) -> Response:
    await service.delete_decision(session, actor, decision_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
