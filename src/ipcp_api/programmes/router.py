from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import status as http_status

from ipcp_api.auth.actor import Actor
from ipcp_api.auth.dependencies import CallerDep, CurrentActor
from ipcp_api.common import listing
from ipcp_api.common.http import etag
from ipcp_api.common.i18n import MissingTranslation
from ipcp_api.common.idempotency import ApiRoute
from ipcp_api.common.listing import CodeFilter, page_response, row_response, sort_query
from ipcp_api.common.params import IfMatch, IfNoneMatch, PageParams, ResourceId, Search
from ipcp_api.common.responses import CREATE, DELETE, LIST, READ, UPDATE, errors
from ipcp_api.common.types import MAX_BIGINT, IsoDate
from ipcp_api.db.session import SessionDep
from ipcp_api.enums import ProgrammeKind, ProgrammeStatus, Role
from ipcp_api.errors import Forbidden
from ipcp_api.programmes import service
from ipcp_api.programmes.schemas import (
    ProgrammeCreate,
    ProgrammePage,
    ProgrammePatch,
    ProgrammeRead,
)

router = APIRouter(prefix="/programmes", tags=["programmes"], route_class=ApiRoute)


async def require_writer(actor: CurrentActor) -> Actor:
    """Viewers never write; what a liaison officer may write is checked in the service."""
    if actor.role is Role.viewer:
        raise Forbidden("a viewer may not change programmes")
    return actor


WriterActor = Annotated[Actor, Depends(require_writer)]

_WORKFLOW = (
    "Status workflow (any other change is 409): draft → submitted → approved → active →"
    " completed, submitted → draft, and any status but completed → cancelled. Approving sets"
    " `approved_on` to today (UTC); from then on `starts_on` and `ends_on` cannot change (409)."
    " Setting the status it already has changes nothing (200, same version)."
)


@router.get(
    "",
    response_model=ProgrammePage,
    summary="List programmes",
    description=(
        "Partnership programmes such as Bahrain's IPCP 2016–2018. A liaison officer or a viewer"
        " bound to a partner sees only that partner's programmes."
    ),
    responses=errors(*LIST),
)
async def list_programmes(
    request: Request,
    caller: CallerDep,
    page: PageParams,
    q: Search = None,
    code: CodeFilter = None,
    partner_id: Annotated[
        int | None, Query(ge=1, le=MAX_BIGINT, description="Only this partner's programmes.")
    ] = None,
    status: Annotated[ProgrammeStatus | None, Query(description="Only this status.")] = None,
    kind: Annotated[ProgrammeKind | None, Query(description="Only this kind.")] = None,
    active_on: Annotated[
        IsoDate | None,
        Query(description="Only programmes whose period includes this date (both ends count)."),
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
            "partner_id": partner_id,
            "status": status,
            "kind": kind,
            "active_on": active_on,
        },
    )
    return page_response(request, result)


@router.get(
    "/{programme_id}",
    response_model=ProgrammeRead,
    summary="Get a programme",
    responses=errors(304, *READ),
)
async def get_programme(
    caller: CallerDep,
    programme_id: ResourceId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    row = await listing.read_visible(caller, service.LISTING, programme_id)
    return row_response(row, if_none_match)


@router.post(
    "",
    response_model=ProgrammeRead,
    status_code=http_status.HTTP_201_CREATED,
    summary="Create a programme",
    description=(
        "A new programme is a `draft` (`status` may be sent only as `draft`). Admin and staff"
        " create programmes for any partner, a liaison officer for its own partner only."
    ),
    responses=errors(*CREATE),
)
async def create_programme(
    session: SessionDep, actor: WriterActor, body: ProgrammeCreate, response: Response
) -> ProgrammeRead:
    programme = await service.create_programme(session, actor, body)
    response.headers["Location"] = f"/api/v1/programmes/{programme.id}"
    response.headers["ETag"] = etag(programme.version)
    return ProgrammeRead.model_validate(programme)


@router.patch(
    "/{programme_id}",
    response_model=ProgrammeRead,
    summary="Change a programme",
    description=(
        "JSON merge patch. "
        + _WORKFLOW
        + " A liaison officer edits its programmes only while `draft`, submits them and takes a"
        " submitted one back to `draft`; it may not approve, activate, complete or cancel (403)."
    ),
    responses=errors(*UPDATE),
)
async def update_programme(
    session: SessionDep,
    actor: WriterActor,
    programme_id: ResourceId,
    body: ProgrammePatch,
    response: Response,
    if_match: IfMatch = None,
) -> ProgrammeRead:
    programme = await service.update_programme(
        session, actor, programme_id, body, if_match=if_match
    )
    response.headers["ETag"] = etag(programme.version)
    return ProgrammeRead.model_validate(programme)


@router.delete(
    "/{programme_id}",
    status_code=http_status.HTTP_204_NO_CONTENT,
    summary="Delete a programme",
    description=(
        "409 while it has projects. Admin and staff delete any programme; a liaison officer"
        " only its own programmes while `draft`."
    ),
    responses=errors(*DELETE),
)
async def delete_programme(
    session: SessionDep, actor: WriterActor, programme_id: ResourceId, if_match: IfMatch = None
) -> Response:
    await service.delete_programme(session, actor, programme_id, if_match=if_match)
    return Response(status_code=http_status.HTTP_204_NO_CONTENT)
