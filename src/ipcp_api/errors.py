"""One error hierarchy rendered as RFC 9457 problem details.

A leaf module: it imports nothing from ``ipcp_api`` (the database-error map is in
``db/integrity.py``, the exception handlers in ``handlers.py``, the 405 helpers in
``routing.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

PROBLEM_JSON = "application/problem+json"
# A problem's ``type`` is ``/problems/<slug>``; the slugs and what they mean: problems.py.
PROBLEM_PREFIX = "/problems/"
RETRY_AFTER_SECONDS = "5"


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details, sent as ``application/problem+json``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description="The kind of error, to branch on without reading `detail`:"
        " `/problems/<slug>` (relative to the API host; `GET` it for a description)."
        " `about:blank` only where no kind applies: an internal error (500), a request head"
        " too large (431).",
    )
    title: str = Field(description="The status code's phrase.")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong, for a person to read.")
    # Sent only with 422 (absent otherwise, never null).
    errors: list[ErrorItem] | SkipJsonSchema[None] = Field(
        default=None,
        description="One per invalid input (422, and some 409s): where (`loc`) and what (`msg`).",
    )


class ApiError(Exception):
    status_code: int = 500
    title: str | None = None
    # The kind of error (problems.py): the problem's ``type`` is ``/problems/<slug>``.
    slug: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = headers or {}
        # extra members of the problem (RFC 9457 extensions), e.g. OAuth's error_description
        self.extensions = extensions or {}


class NotFound(ApiError):
    status_code = 404
    slug = "not-found"


class Conflict(ApiError):
    """409 for a rule of the current state (a workflow step, a frozen field, a lock-out)."""

    status_code = 409
    slug = "conflict-state"


class ConflictUnique(Conflict):
    """409: a unique key is already taken."""

    slug = "conflict-unique"


class ConflictChildren(Conflict):
    """409: a delete refused while other resources still belong to the resource."""

    slug = "conflict-children"


class ConflictInFlight(Conflict):
    """409: the same idempotent request (or a change of the same rows) is still running."""

    slug = "conflict-in-flight"


class PreconditionFailed(ApiError):
    status_code = 412
    slug = "stale-version"


class Forbidden(ApiError):
    status_code = 403
    slug = "forbidden"


class Unauthorized(ApiError):
    status_code = 401
    slug = "unauthorized"

    def __init__(self, detail: str, *, extensions: dict[str, Any] | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, extensions=extensions)


class TooManyRequests(ApiError):
    status_code = 429
    slug = "too-many-requests"


class NotAcceptable(ApiError):
    status_code = 406
    slug = "not-acceptable"


class Unavailable(ApiError):
    status_code = 503
    slug = "unavailable"

    def __init__(self, detail: str = "the database is unavailable; try again shortly") -> None:
        super().__init__(detail, headers={"Retry-After": RETRY_AFTER_SECONDS})


class Invalid(ApiError):
    """422 naming the field: ``Invalid(("body", "ends_on"), "must not be before starts_on")``."""

    status_code = 422
    slug = "validation"

    def __init__(
        self, loc: Sequence[str | int], msg: str, *, extensions: dict[str, Any] | None = None
    ) -> None:
        super().__init__(msg, errors=[{"loc": list(loc), "msg": msg}], extensions=extensions)


def invalid_fields(problems: Sequence[tuple[str, str]]) -> Invalid:
    """One 422 naming every body field of ``problems`` (``[(field, msg), ...]``, not empty)."""
    error = Invalid(("body", problems[0][0]), problems[0][1])
    error.errors = [{"loc": ["body", field], "msg": msg} for field, msg in problems]
    error.detail = "; ".join(f"body.{field}: {msg}" for field, msg in problems)
    return error


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    slug: str | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """The problem response; ``slug`` names its kind (``problems.py``): the ``type`` is
    ``/problems/<slug>``, or ``about:blank`` without one (an internal error)."""
    body: dict[str, Any] = {
        "type": f"{PROBLEM_PREFIX}{slug}" if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        # RFC 9457 extension members; never one of the standard ones
        body.update({k: v for k, v in extra.items() if k not in body})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)
