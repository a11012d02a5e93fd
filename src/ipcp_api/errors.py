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
RETRY_AFTER_SECONDS = "5"


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details, sent as ``application/problem+json``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="`about:blank`: the status code says it all.")
    title: str = Field(description="The status code's phrase.")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong, for a person to read.")
    # Sent only with 422 (absent otherwise, never null).
    errors: list[ErrorItem] | SkipJsonSchema[None] = Field(
        default=None, description="Validation errors (422 only): one per invalid input."
    )


class ApiError(Exception):
    status_code: int = 500
    title: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = headers or {}


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class PreconditionFailed(ApiError):
    status_code = 412


class Forbidden(ApiError):
    status_code = 403


class Unauthorized(ApiError):
    status_code = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class TooManyRequests(ApiError):
    status_code = 429


class NotAcceptable(ApiError):
    status_code = 406


class Unavailable(ApiError):
    status_code = 503

    def __init__(self, detail: str = "the database is unavailable; try again shortly") -> None:
        super().__init__(detail, headers={"Retry-After": RETRY_AFTER_SECONDS})


class Invalid(ApiError):
    """422 naming the field: ``Invalid(("body", "ends_on"), "must not be before starts_on")``."""

    status_code = 422

    def __init__(self, loc: Sequence[str | int], msg: str) -> None:
        super().__init__(msg, errors=[{"loc": list(loc), "msg": msg}])


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
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)
