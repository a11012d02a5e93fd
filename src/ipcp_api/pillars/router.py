from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response, status

from ipcp_api.auth.dependencies import CallerDep, StaffActor
from ipcp_api.common import listing
from ipcp_api.common.http import etag
from ipcp_api.common.i18n import MissingTranslation
from ipcp_api.common.idempotency import ApiRoute
from ipcp_api.common.listing import CodeFilter, page_response, row_response, sort_query
from ipcp_api.common.params import IfMatch, IfNoneMatch, PageParams, ResourceId, Search
from ipcp_api.common.responses import CREATE, DELETE, LIST, READ, UPDATE, errors
from ipcp_api.db.session import SessionDep
from ipcp_api.pillars import service
from ipcp_api.pillars.schemas import (
    PillarCreate,
    PillarPage,
    PillarPatch,
    PillarRead,
)

router = APIRouter(prefix="/pillars", tags=["pillars"], route_class=ApiRoute)


@router.get(
    "",
    response_model=PillarPage,
    summary="List pillars",
    description=(
        "Cooperation pillars, ordered by `position` (the three standard ones exist from the "
        "start). Every signed-in user may read them."
    ),
    responses=errors(*LIST),
)
async def list_pillars(
    request: Request,
    caller: CallerDep,
    page: PageParams,
    q: Search = None,
    code: CodeFilter = None,
    missing_translation: MissingTranslation = None,
    sort: Annotated[str | None, sort_query(service.LISTING)] = None,
) -> Response:
    result = await listing.list_visible(
        caller,
        service.LISTING,
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
    "/{pillar_id}",
    response_model=PillarRead,
    summary="Get a pillar",
    responses=errors(304, *READ),
)
async def get_pillar(
    caller: CallerDep,
    pillar_id: ResourceId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    row = await listing.read_visible(caller, service.LISTING, pillar_id)
    return row_response(row, if_none_match)


@router.post(
    "",
    response_model=PillarRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a pillar",
    description="Admin and staff only.",
    responses=errors(*CREATE),
)
async def create_pillar(
    session: SessionDep, actor: StaffActor, body: PillarCreate, response: Response
) -> PillarRead:
    pillar = await service.create_pillar(session, actor, body)
    response.headers["Location"] = f"/api/v1/pillars/{pillar.id}"
    response.headers["ETag"] = etag(pillar.version)
    return PillarRead.model_validate(pillar)


@router.patch(
    "/{pillar_id}",
    response_model=PillarRead,
    summary="Change a pillar",
    description="JSON merge patch. Admin and staff only.",
    responses=errors(*UPDATE),
)
async def update_pillar(
    session: SessionDep,
    actor: StaffActor,
    pillar_id: ResourceId,
    body: PillarPatch,
    response: Response,
    if_match: IfMatch = None,
) -> PillarRead:
    pillar = await service.update_pillar(session, actor, pillar_id, body, if_match=if_match)
    response.headers["ETag"] = etag(pillar.version)
    return PillarRead.model_validate(pillar)


@router.delete(
    "/{pillar_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a pillar",
    description="409 while projects use it. Admin and staff only.",
    responses=errors(*DELETE),
)
async def delete_pillar(
    session: SessionDep, actor: StaffActor, pillar_id: ResourceId, if_match: IfMatch = None
) -> Response:
    await service.delete_pillar(session, actor, pillar_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
