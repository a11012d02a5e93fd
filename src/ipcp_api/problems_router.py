"""``GET /problems/<slug>``: what each problem ``type`` means (no token needed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from ipcp_api.common.responses import errors
from ipcp_api.errors import NotFound
from ipcp_api.problems import PROBLEM_TYPES

router = APIRouter(tags=["problems"])


class ProblemTypeRead(BaseModel):
    type: str = Field(description="The `type` a problem of this kind carries.")
    title: str = Field(description="Its status code's phrase.")
    status: int = Field(description="The status code it comes with.")
    description: str = Field(description="What it means and what to do about it.")


@router.get(
    "/problems/{slug}",
    response_model=ProblemTypeRead,
    summary="What a kind of error means",
    description="Every error's `type` is `/problems/<slug>`: open it to read what that kind of"
    " error means. No token needed.",
    responses=errors(404),
    openapi_extra={"security": []},
)
async def get_problem_type(
    slug: Annotated[
        str,
        Path(
            description="The last part of the problem's `type`, e.g. `stale-version`.",
            json_schema_extra={"enum": list(PROBLEM_TYPES)},
        ),
    ],
) -> ProblemTypeRead:
    kind = PROBLEM_TYPES.get(slug)
    if kind is None:
        raise NotFound(f"no problem type {slug!r}; the known ones are {', '.join(PROBLEM_TYPES)}")
    return ProblemTypeRead(
        type=kind.type, title=kind.title, status=kind.status, description=kind.description
    )
