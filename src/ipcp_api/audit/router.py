from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ipcp_api.audit import service
from ipcp_api.audit.schemas import AuditEntity, AuditEventRead, AuditPage
from ipcp_api.auth.dependencies import StaffActor
from ipcp_api.common.pagination import link_next
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
    response: Response,
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
) -> AuditPage:
    events, total, next_cursor = await service.list_events(
        session,
        entity=entity.value if entity is not None else None,
        entity_id=entity_id,
        user_id=user_id,
        params=page,
        hide_users=actor.role is not Role.admin,
    )
    link_next(request, response, next_cursor)
    return AuditPage(
        items=[AuditEventRead.model_validate(event) for event in events],
        total=total,
        limit=page.limit,
        next_cursor=next_cursor,
    )
