from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi import status as http_status

from ipcp_api.auth.dependencies import CurrentActor, StaffActor
from ipcp_api.baselines import service
from ipcp_api.baselines.schemas import (
    BaselineCreate,
    BaselinePage,
    BaselinePatch,
    BaselineRead,
    BaselineWithPlan,
)
from ipcp_api.common import listing
from ipcp_api.common.http import etag, json_response, not_modified
from ipcp_api.common.idempotency import ApiRoute
from ipcp_api.common.listing import page_response, sort_query
from ipcp_api.common.params import IfMatch, IfNoneMatch, PageParams, ResourceId
from ipcp_api.common.responses import CREATE, DELETE, READ, UPDATE, errors
from ipcp_api.db.session import SessionDep

router = APIRouter(tags=["baselines"], route_class=ApiRoute)

_WHAT = (
    "A baseline is a frozen copy of a programme's plan (its projects and milestones, cancelled"
    " ones included) to measure later plans against: the programme report takes"
    " `baseline=approval` or `baseline=<id>`. Approving a programme takes the `approval`"
    ' baseline, named "As approved", by itself.'
)


@router.get(
    "/programmes/{programme_id}/baselines",
    response_model=BaselinePage,
    summary="List a programme's baselines",
    description=_WHAT + " Newest first.",
    responses=errors(*READ),
)
async def list_baselines(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    programme_id: ResourceId,
    page: PageParams,
    sort: Annotated[str | None, sort_query(service.LISTING)] = None,
) -> Response:
    await service.check_programme(session, actor, programme_id)
    result = await listing.list_rows(
        session,
        service.LISTING,
        actor,
        page,
        sort=sort,
        filters={"programme_id": programme_id},
    )
    return page_response(request, result)


@router.post(
    "/programmes/{programme_id}/baselines",
    response_model=BaselineRead,
    status_code=http_status.HTTP_201_CREATED,
    summary="Take a baseline",
    description=_WHAT + " Admin and staff take named baselines at any time.",
    responses=errors(404, *CREATE),
)
async def create_baseline(
    session: SessionDep,
    actor: StaffActor,
    programme_id: ResourceId,
    body: BaselineCreate,
    response: Response,
) -> BaselineRead:
    baseline = await service.create_baseline(session, actor, programme_id, body)
    response.headers["Location"] = f"/api/v1/baselines/{baseline.id}"
    response.headers["ETag"] = etag(baseline.version)
    return BaselineRead.model_validate(baseline)


@router.get(
    "/baselines/{baseline_id}",
    response_model=BaselineWithPlan,
    summary="Get a baseline",
    description="`?include=plan` adds the copy: its projects (by code) and their milestones.",
    responses=errors(304, *READ),
)
async def get_baseline(
    session: SessionDep,
    actor: CurrentActor,
    baseline_id: ResourceId,
    include: Annotated[
        Literal["plan"] | None, Query(description="`plan`: add the copied plan.")
    ] = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    row = await listing.read_row(session, service.LISTING, actor, baseline_id)
    if (cached := not_modified(if_none_match, row["version"])) is not None:
        return cached
    if include == "plan":
        row["plan"] = await service.read_plan(session, baseline_id)
    return json_response(row, headers={"ETag": etag(row["version"])})


@router.patch(
    "/baselines/{baseline_id}",
    response_model=BaselineRead,
    summary="Rename a baseline",
    description="JSON merge patch of `name` and `note` (nothing else changes: 422).",
    responses=errors(*UPDATE),
)
async def update_baseline(
    session: SessionDep,
    actor: StaffActor,
    baseline_id: ResourceId,
    body: BaselinePatch,
    response: Response,
    if_match: IfMatch = None,
) -> BaselineRead:
    baseline = await service.update_baseline(session, actor, baseline_id, body, if_match=if_match)
    response.headers["ETag"] = etag(baseline.version)
    return BaselineRead.model_validate(baseline)


@router.delete(
    "/baselines/{baseline_id}",
    status_code=http_status.HTTP_204_NO_CONTENT,
    summary="Delete a named baseline",
    description="The `approval` baseline cannot be deleted (409).",
    responses=errors(*DELETE),
)
async def delete_baseline(
    session: SessionDep, actor: StaffActor, baseline_id: ResourceId, if_match: IfMatch = None
) -> Response:
    await service.delete_baseline(session, actor, baseline_id, if_match=if_match)
    return Response(status_code=http_status.HTTP_204_NO_CONTENT)
