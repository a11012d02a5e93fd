from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from ipcp_api.auth.dependencies import CallerDep, CurrentActor
from ipcp_api.common import listing
from ipcp_api.common.http import etag
from ipcp_api.common.i18n import MissingTranslation
from ipcp_api.common.idempotency import ApiRoute
from ipcp_api.common.listing import filter_id, page_response, row_response, sort_query
from ipcp_api.common.params import IfMatch, IfNoneMatch, PageParams, ResourceId, Search
from ipcp_api.common.responses import CREATE, DELETE, LIST, READ, UPDATE, errors
from ipcp_api.common.types import IsoDate
from ipcp_api.db.session import SessionDep
from ipcp_api.enums import MilestoneState
from ipcp_api.milestones import service
from ipcp_api.milestones.schemas import (
    MilestoneCreate,
    MilestonePage,
    MilestonePatch,
    MilestoneRead,
)

router = APIRouter(prefix="/milestones", tags=["milestones"], route_class=ApiRoute)


_WRITE_ACCESS = (
    "Admin and staff may change any milestone; a liaison those of its partner's programmes "
    "unless the programme is `completed` or `cancelled` (403); a viewer never (403)."
)
_RULES = (
    "`due_on` must lie inside the project's period; `completed_on` is required when `state` "
    "is `done`, must be null otherwise, and may not be after today (UTC); each broken rule "
    "is a 422 naming the field."
)


@router.get(
    "",
    response_model=MilestonePage,
    summary="List milestones",
    description=(
        "Milestones of the projects the caller can see. `overdue` (read-only) is computed as "
        "of today (UTC). Boolean parameters take `true`/`false` (also `1`/`0`, `yes`/`no`, "
        "`on`/`off`); any other value is 422."
    ),
    responses=errors(*LIST),
)
async def list_milestones(
    request: Request,
    caller: CallerDep,
    page: PageParams,
    project_id: Annotated[int | None, filter_id("Only this project's milestones.")] = None,
    programme_id: Annotated[
        int | None, filter_id("Only milestones of this programme's projects.")
    ] = None,
    ref: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=32,
            description="Only milestones with exactly this `ref` (case-sensitive).",
        ),
    ] = None,
    state: Annotated[MilestoneState | None, Query(description="Only this state.")] = None,
    overdue: Annotated[
        bool | None, Query(description="Only milestones that are (or are not) overdue today.")
    ] = None,
    due_before: Annotated[
        IsoDate | None, Query(description="Only milestones due before this date (exclusive).")
    ] = None,
    due_after: Annotated[
        IsoDate | None, Query(description="Only milestones due after this date (exclusive).")
    ] = None,
    q: Search = None,
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
            "project_id": project_id,
            "programme_id": programme_id,
            "ref": ref,
            "state": state,
            "overdue": overdue,
            "due_before": due_before,
            "due_after": due_after,
        },
    )
    return page_response(request, result)


@router.get(
    "/{milestone_id}",
    response_model=MilestoneRead,
    summary="Get a milestone",
    responses=errors(304, *READ),
)
async def get_milestone(
    caller: CallerDep,
    milestone_id: ResourceId,
    if_none_match: IfNoneMatch = None,
) -> Response:
    return row_response(
        await listing.read_visible(caller, service.LISTING, milestone_id), if_none_match
    )


@router.post(
    "",
    response_model=MilestoneRead,
    status_code=status.HTTP_201_CREATED,
    summary="Create a milestone",
    description=_RULES + " " + _WRITE_ACCESS,
    responses=errors(*CREATE),
)
async def create_milestone(
    session: SessionDep, actor: CurrentActor, body: MilestoneCreate, response: Response
) -> MilestoneRead:
    milestone = await service.create_milestone(session, actor, body)
    response.headers["Location"] = f"/api/v1/milestones/{milestone.id}"
    response.headers["ETag"] = etag(milestone.version)
    return milestone


@router.patch(
    "/{milestone_id}",
    response_model=MilestoneRead,
    summary="Change a milestone",
    description=(
        "JSON merge patch; the rules apply to the merged result. " + _RULES + " Strict: "
        'marking a milestone `done` must send `completed_on`, and `{"state": "pending"}` on '
        'a done milestone must also send `"completed_on": null` (it is never cleared '
        "silently). `project_id` moves the milestone to another project the caller can see "
        "when `due_on` fits its period. " + _WRITE_ACCESS
    ),
    responses=errors(*UPDATE),
)
async def update_milestone(
    session: SessionDep,
    actor: CurrentActor,
    milestone_id: ResourceId,
    body: MilestonePatch,
    response: Response,
    if_match: IfMatch = None,
) -> MilestoneRead:
    milestone = await service.update_milestone(
        session, actor, milestone_id, body, if_match=if_match
    )
    response.headers["ETag"] = etag(milestone.version)
    return milestone


@router.delete(
    "/{milestone_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a milestone",
    description=_WRITE_ACCESS,
    responses=errors(*DELETE),
)
async def delete_milestone(
    session: SessionDep, actor: CurrentActor, milestone_id: ResourceId, if_match: IfMatch = None
) -> Response:
    await service.delete_milestone(session, actor, milestone_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
