from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from ipcp_api.auth.dependencies import AdminActor, CurrentActor
from ipcp_api.common import listing
from ipcp_api.common.http import etag
from ipcp_api.common.idempotency import ApiRoute
from ipcp_api.common.listing import page_response, row_response, sort_query
from ipcp_api.common.params import IfMatch, IfNoneMatch, PageParams, ResourceId, Search
from ipcp_api.common.responses import CREATE, DELETE, LIST, READ, UPDATE, errors
from ipcp_api.common.types import MAX_BIGINT
from ipcp_api.db.session import SessionDep
from ipcp_api.enums import Role
from ipcp_api.routing import method_not_allowed
from ipcp_api.users import service
from ipcp_api.users.schemas import UserCreate, UserPage, UserPatch, UserRead

router = APIRouter(prefix="/users", tags=["users"], route_class=ApiRoute)

ADMIN_ONLY = "Admin only."


@router.get(
    "",
    response_model=UserPage,
    summary="List users",
    description=f"`q` searches usernames. {ADMIN_ONLY}",
    responses=errors(403, *LIST),
)
async def list_users(
    request: Request,
    session: SessionDep,
    actor: AdminActor,
    page: PageParams,
    q: Search = None,
    role: Annotated[Role | None, Query(description="Only users with this role.")] = None,
    partner_id: Annotated[
        int | None, Query(ge=1, le=MAX_BIGINT, description="Only users bound to this partner.")
    ] = None,
    active: Annotated[bool | None, Query(description="Only active (or inactive) users.")] = None,
    sort: Annotated[str | None, sort_query(service.LISTING)] = None,
) -> Response:
    result = await listing.list_rows(
        session,
        service.LISTING,
        actor,
        page,
        sort=sort,
        filters={"q": q, "role": role, "partner_id": partner_id, "active": active},
    )
    return page_response(request, result)


# Declared before "/{user_id}" so that "me" is not read as an id: GET only, any other
# method is 405 (with `Allow: GET`), not a 422 about the id "me".
router.add_api_route(
    "/me",
    method_not_allowed,
    methods=["DELETE", "PATCH", "POST", "PUT"],
    include_in_schema=False,
)


@router.get(
    "/me",
    response_model=UserRead,
    summary="Get the signed-in user",
    description="Any signed-in user.",
    responses=errors(304, *LIST),  # nothing to look up by id: never 404
)
async def get_me(
    session: SessionDep,
    actor: CurrentActor,
    if_none_match: IfNoneMatch = None,
) -> Response:
    row = await listing.read_row(session, service.LISTING, actor, actor.user_id)
    return row_response(row, if_none_match)


@router.get(
    "/{user_id}",
    response_model=UserRead,
    summary="Get a user",
    description=ADMIN_ONLY,
    responses=errors(304, 403, *READ),
)
async def get_user(
    session: SessionDep,
    actor: AdminActor,
    user_id: ResourceId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    return row_response(
        await listing.read_row(session, service.LISTING, actor, user_id), if_none_match
    )


@router.post(
    "",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a user",
    description=(
        "`partner_id` is required for `liaison`, optional for `viewer` and null for `admin`"
        f" and `staff`. The password is write-only. {ADMIN_ONLY}"
    ),
    responses=errors(*CREATE),
)
async def create_user(
    session: SessionDep, actor: AdminActor, body: UserCreate, response: Response
) -> UserRead:
    user = await service.create_user(session, actor, body)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    response.headers["ETag"] = etag(user.version)
    return UserRead.model_validate(user)


@router.patch(
    "/{user_id}",
    response_model=UserRead,
    summary="Change a user",
    description=(
        "JSON merge patch; `active: false` locks the user out at once, tokens included."
        " An admin cannot deactivate themself or change their own role (409)."
        f" {ADMIN_ONLY}"
    ),
    responses=errors(*UPDATE),
)
async def update_user(
    session: SessionDep,
    actor: AdminActor,
    user_id: ResourceId,
    body: UserPatch,
    response: Response,
    if_match: IfMatch = None,
) -> UserRead:
    user = await service.update_user(session, actor, user_id, body, if_match=if_match)
    response.headers["ETag"] = etag(user.version)
    return UserRead.model_validate(user)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a user",
    description=f"An admin cannot delete themself (409). {ADMIN_ONLY}",
    responses=errors(*DELETE),
)
async def delete_user(
    session: SessionDep, actor: AdminActor, user_id: ResourceId, if_match: IfMatch = None
) -> Response:
    await service.delete_user(session, actor, user_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
