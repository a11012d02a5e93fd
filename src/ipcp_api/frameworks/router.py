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
from ipcp_api.frameworks import service
from ipcp_api.frameworks.schemas import (
    FrameworkCreate,
    FrameworkPage,
    FrameworkPatch,
    FrameworkRead,
)

router = APIRouter(prefix="/frameworks", tags=["frameworks"], route_class=ApiRoute)


@router.get(
    "",
    response_model=FrameworkPage,
    summary="List frameworks",
    description="Partnership frameworks such as the Istanbul Cooperation Initiative.",
    responses=errors(*LIST),
)
async def list_frameworks(
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
    "/{framework_id}",
    response_model=FrameworkRead,
    summary="Get a framework",
    responses=errors(304, *READ),
)
async def get_framework(
    caller: CallerDep,
    framework_id: ResourceId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    row = await listing.read_visible(caller, service.LISTING, framework_id)
    return row_response(row, if_none_match)


@router.post(
    "",
    response_model=FrameworkRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a framework",
    description="Admin and staff only.",
    responses=errors(*CREATE),
)
async def create_framework(
    session: SessionDep, actor: StaffActor, body: FrameworkCreate, response: Response
) -> FrameworkRead:
    framework = await service.create_framework(session, actor, body)
    response.headers["Location"] = f"/api/v1/frameworks/{framework.id}"
    response.headers["ETag"] = etag(framework.version)
    return FrameworkRead.model_validate(framework)


@router.patch(
    "/{framework_id}",
    response_model=FrameworkRead,
    summary="Change a framework",
    description="JSON merge patch. Admin and staff only.",
    responses=errors(*UPDATE),
)
async def update_framework(
    session: SessionDep,
    actor: StaffActor,
    framework_id: ResourceId,
    body: FrameworkPatch,
    response: Response,
    if_match: IfMatch = None,
) -> FrameworkRead:
    framework = await service.update_framework(
        session, actor, framework_id, body, if_match=if_match
    )
    response.headers["ETag"] = etag(framework.version)
    return FrameworkRead.model_validate(framework)


@router.delete(
    "/{framework_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a framework",
    description="409 while partners are members of it. Admin and staff only.",
    responses=errors(*DELETE),
)
async def delete_framework(
    session: SessionDep, actor: StaffActor, framework_id: ResourceId, if_match: IfMatch = None
) -> Response:
    await service.delete_framework(session, actor, framework_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
