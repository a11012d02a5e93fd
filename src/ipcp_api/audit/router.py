from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ipcp_api.audit import reads
from ipcp_api.audit.schemas import AuditEntity, AuditPage
from ipcp_api.auth.dependencies import StaffActor
from ipcp_api.common import listing
from ipcp_api.common.listing import page_response
from ipcp_api.common.params import PageParams
from ipcp_api.common.responses import LIST, errors
from ipcp_api.common.types import MAX_BIGINT
from ipcp_api.db.session import SessionDep
from ipcp_api.enums import Role

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "",
    response_model=AuditPage,
    summary="List audit events",
    description=(
        "Every create, update and delete, newest first. Admin and staff only;"
        " liaison and viewer users get 403. Entries about users are shown to admins only."
    ),
    responses=errors(403, *LIST),
)
async def list_audit_events(
    request: Request,
    session: SessionDep,
    actor: StaffActor,
    page: PageParams,
    entity: Annotated[
        AuditEntity | None, Query(description="The collection name, e.g. `programmes`.")
    ] = None,
    entity_id: Annotated[
        int | None, Query(ge=1, le=MAX_BIGINT, description="The changed resource's id.")
    ] = None,
    user_id: Annotated[
        int | None, Query(ge=1, le=MAX_BIGINT, description="Who made the change.")
    ] = None,
) -> Response:
    filters = {
        "entity": entity,
        "entity_id": entity_id,
        "user_id": user_id,
        # entries about users are shown to admins only (API.md, Access)
        "about_users": None if actor.role is Role.admin else False,
    }
    result = await listing.list_rows(session, reads.LISTING, actor, page, filters=filters)
    return page_response(request, result)
