from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response, status

from ipcp_api.auth.dependencies import CurrentActor, StaffActor
from ipcp_api.committees import service
from ipcp_api.committees.schemas import (
    CommitteeCreate,
    CommitteePage,
    CommitteePatch,
    CommitteeRead,
)
from ipcp_api.common import listing
from ipcp_api.common.http import etag
from ipcp_api.common.i18n import MissingTranslation
from ipcp_api.common.idempotency import ApiRoute
from ipcp_api.common.listing import CodeFilter, page_response, row_response, sort_query
from ipcp_api.common.params import IfMatch, IfNoneMatch, PageParams, ResourceId, Search
from ipcp_api.common.responses import CREATE, DELETE, LIST, READ, UPDATE, errors
from ipcp_api.db.session import SessionDep

router = APIRouter(prefix="/committees", tags=["committees"], route_class=ApiRoute)


@router.get(
    "",
    response_model=CommitteePage,
    summary="List committees",
    description=(
        "The committees that review programmes (`PCSC` and `NAC` exist from the start). "
        "Every signed-in user may read them."
    ),
    responses=errors(*LIST),
)
async def list_committees(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    page: PageParams,
    q: Search = None,
    code: CodeFilter = None,
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
            "code": code,
        },
    )
    return page_response(request, result)


@router.get(
    "/{committee_id}",
    response_model=CommitteeRead,
    summary="Get a committee",
    responses=errors(304, *READ),
)
async def get_committee(
    session: SessionDep,
    actor: CurrentActor,
    committee_id: ResourceId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    row = await listing.read_row(session, service.LISTING, actor, committee_id)
    return row_response(row, if_none_match)


@router.post(
    "",
    response_model=CommitteeRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a committee",
    description="Admin and staff only.",
    responses=errors(*CREATE),
)
async def create_committee(
    session: SessionDep, actor: StaffActor, body: CommitteeCreate, response: Response
) -> CommitteeRead:
    committee = await service.create_committee(session, actor, body)
    response.headers["Location"] = f"/api/v1/committees/{committee.id}"
    response.headers["ETag"] = etag(committee.version)
    return CommitteeRead.model_validate(committee)


@router.patch(
    "/{committee_id}",
    response_model=CommitteeRead,
    summary="Change a committee",
    description="JSON merge patch. Admin and staff only.",
    responses=errors(*UPDATE),
)
async def update_committee(
    session: SessionDep,
    actor: StaffActor,
    committee_id: ResourceId,
    body: CommitteePatch,
    response: Response,
    if_match: IfMatch = None,
) -> CommitteeRead:
    committee = await service.update_committee(
        session, actor, committee_id, body, if_match=if_match
    )
    response.headers["ETag"] = etag(committee.version)
    return CommitteeRead.model_validate(committee)


@router.delete(
    "/{committee_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a committee",
    description="409 while reviews refer to it. Admin and staff only.",
    responses=errors(*DELETE),
)
async def delete_committee(
    session: SessionDep, actor: StaffActor, committee_id: ResourceId, if_match: IfMatch = None
) -> Response:
    await service.delete_committee(session, actor, committee_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
