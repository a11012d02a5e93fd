from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from ipcp_api.auth.dependencies import CallerDep, CurrentActor
from ipcp_api.common import listing
from ipcp_api.common.http import etag
from ipcp_api.common.i18n import MissingTranslation
from ipcp_api.common.idempotency import ApiRoute
from ipcp_api.common.listing import CodeFilter, filter_id, page_response, row_response, sort_query
from ipcp_api.common.params import IfMatch, IfNoneMatch, PageParams, ResourceId, Search
from ipcp_api.common.responses import CREATE, DELETE, LIST, READ, UPDATE, errors
from ipcp_api.db.session import SessionDep
from ipcp_api.enums import ProjectStatus
from ipcp_api.projects import service
from ipcp_api.projects.schemas import (
    AREA_MAX_LENGTH,
    AREA_PATTERN,
    ProjectCreate,
    ProjectPage,
    ProjectPatch,
    ProjectRead,
)

router = APIRouter(prefix="/projects", tags=["projects"], route_class=ApiRoute)


_WRITE_ACCESS = (
    "Admin and staff may change any project; a liaison those of its partner's programmes "
    "unless the programme is `completed` or `cancelled` (403); a viewer never (403)."
)
_COMPUTED = (
    "`progress`, `expected_progress` and `schedule` are read-only and computed as of today "
    "(UTC) over the project's milestones, by the definitions of the progress reports."
)


@router.get(
    "",
    response_model=ProjectPage,
    summary="List projects",
    description=(
        "Projects of the programmes the caller can see. `q` searches code, title, description "
        "and lead; `partner_id` filters through the programme; `area` keeps projects tagged "
        "with that area. " + _COMPUTED
    ),
    responses=errors(*LIST),
)
async def list_projects(
    request: Request,
    caller: CallerDep,
    page: PageParams,
    q: Search = None,
    code: CodeFilter = None,
    programme_id: Annotated[int | None, filter_id("Only this programme's projects.")] = None,
    pillar_id: Annotated[int | None, filter_id("Only projects under this pillar.")] = None,
    partner_id: Annotated[
        int | None, filter_id("Only projects of this partner's programmes.")
    ] = None,
    status: Annotated[ProjectStatus | None, Query(description="Only this status.")] = None,
    area: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=AREA_MAX_LENGTH,
            pattern=AREA_PATTERN,
            description="Only projects whose `areas` contain this tag.",
        ),
    ] = None,
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
            "programme_id": programme_id,
            "pillar_id": pillar_id,
            "partner_id": partner_id,
            "status": status,
            "area": area,
        },
    )
    return page_response(request, result)


@router.get(
    "/{project_id}",
    response_model=ProjectRead,
    summary="Get a project",
    description=_COMPUTED,
    responses=errors(304, *READ),
)
async def get_project(
    caller: CallerDep,
    project_id: ResourceId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    return row_response(
        await listing.read_visible(caller, service.LISTING, project_id), if_none_match
    )


@router.post(
    "",
    response_model=ProjectRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a project",
    description=(
        "`code` is unique within the programme (409 on a clash). `starts_on` and `ends_on` "
        "must lie inside the programme's period (422 naming the field). " + _WRITE_ACCESS
    ),
    responses=errors(*CREATE),
)
async def create_project(
    session: SessionDep, actor: CurrentActor, body: ProjectCreate, response: Response
) -> ProjectRead:
    project = await service.create_project(session, actor, body)
    response.headers["Location"] = f"/api/v1/projects/{project.id}"
    response.headers["ETag"] = etag(project.version)
    return project


@router.patch(
    "/{project_id}",
    response_model=ProjectRead,
    summary="Change a project",
    description=(
        "JSON merge patch; the rules apply to the merged result. Shrinking the period so "
        "that a milestone falls outside it is 422. `programme_id` moves the project to "
        "another programme the caller can see (and, for a liaison, may change) when its "
        "dates fit inside that programme's period. " + _WRITE_ACCESS
    ),
    responses=errors(*UPDATE),
)
async def update_project(
    session: SessionDep,
    actor: CurrentActor,
    project_id: ResourceId,
    body: ProjectPatch,
    response: Response,
    if_match: IfMatch = None,
) -> ProjectRead:
    project = await service.update_project(session, actor, project_id, body, if_match=if_match)
    response.headers["ETag"] = etag(project.version)
    return project


@router.delete(
    "/{project_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a project",
    description="409 while the project has milestones. " + _WRITE_ACCESS,
    responses=errors(*DELETE),
)
async def delete_project(
    session: SessionDep, actor: CurrentActor, project_id: ResourceId, if_match: IfMatch = None
) -> Response:
    await service.delete_project(session, actor, project_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
