from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from ipcp_api.auth.dependencies import CallerDep, StaffActor
from ipcp_api.common import listing
from ipcp_api.common.http import etag
from ipcp_api.common.i18n import MissingTranslation
from ipcp_api.common.idempotency import ApiRoute
from ipcp_api.common.listing import CodeFilter, page_response, row_response, sort_query
from ipcp_api.common.params import IfMatch, IfNoneMatch, PageParams, ResourceId, Search
from ipcp_api.common.responses import CREATE, DELETE, LIST, READ, UPDATE, errors
from ipcp_api.common.types import MAX_BIGINT
from ipcp_api.db.session import SessionDep
from ipcp_api.enums import PartnerKind
from ipcp_api.partners import service
from ipcp_api.partners.schemas import PartnerCreate, PartnerPage, PartnerPatch, PartnerRead

router = APIRouter(prefix="/partners", tags=["partners"], route_class=ApiRoute)

KindFilter = Annotated[PartnerKind | None, Query(description="Only partners of this kind.")]
FrameworkFilter = Annotated[
    int | None,
    Query(ge=1, le=MAX_BIGINT, description="Only members of this framework."),
]


@router.get(
    "",
    response_model=PartnerPage,
    summary="List partners",
    description=(
        "Countries and organisations the alliance partners with. A liaison, or a viewer "
        "bound to a partner, sees only that partner."
    ),
    responses=errors(*LIST),
)
async def list_partners(
    request: Request,
    caller: CallerDep,
    page: PageParams,
    q: Search = None,
    code: CodeFilter = None,
    kind: KindFilter = None,
    framework_id: FrameworkFilter = None,
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
            "kind": kind,
            "framework_id": framework_id,
        },
    )
    return page_response(request, result)


@router.get(
    "/{partner_id}",
    response_model=PartnerRead,
    summary="Get a partner",
    responses=errors(304, *READ),
)
async def get_partner(
    caller: CallerDep,
    partner_id: ResourceId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    row = await listing.read_visible(caller, service.LISTING, partner_id)
    return row_response(row, if_none_match)


@router.post(
    "",
    response_model=PartnerRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a partner",
    description="Admin and staff only.",
    responses=errors(*CREATE),
)
async def create_partner(
    session: SessionDep, actor: StaffActor, body: PartnerCreate, response: Response
) -> PartnerRead:
    partner = await service.create_partner(session, actor, body)
    response.headers["Location"] = f"/api/v1/partners/{partner.id}"
    response.headers["ETag"] = etag(partner.version)
    return PartnerRead.model_validate(partner)


@router.patch(
    "/{partner_id}",
    response_model=PartnerRead,
    summary="Change a partner",
    description=(
        "JSON merge patch. `memberships`, when present, replaces the whole list (a merge "
        "patch replaces arrays); send `[]` to remove every membership. Admin and staff only."
    ),
    responses=errors(*UPDATE),
)
async def update_partner(
    session: SessionDep,
    actor: StaffActor,
    partner_id: ResourceId,
    body: PartnerPatch,
    response: Response,
    if_match: IfMatch = None,
) -> PartnerRead:
    partner = await service.update_partner(session, actor, partner_id, body, if_match=if_match)
    response.headers["ETag"] = etag(partner.version)
    return PartnerRead.model_validate(partner)


@router.delete(
    "/{partner_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a partner",
    description=(
        "Its framework memberships are deleted with it; 409 while it has programmes or "
        "users. Admin and staff only."
    ),
    responses=errors(*DELETE),
)
async def delete_partner(
    session: SessionDep, actor: StaffActor, partner_id: ResourceId, if_match: IfMatch = None
) -> Response:
    await service.delete_partner(session, actor, partner_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
