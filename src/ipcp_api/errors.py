"""One error hierarchy rendered as RFC 9457 problem details, and the database-error map."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ipcp_api.db.base import Base

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = "5"

_log = logging.getLogger("ipcp_api.errors")


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


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


# --- database errors --------------------------------------------------------------------------


def _constraint_index() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """constraint name -> (kind, table, columns) from the models' metadata."""
    index: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            name = str(constraint.name) if constraint.name else None
            if not name:
                continue
            columns = tuple(column.name for column in getattr(constraint, "columns", ()))
            kind = type(constraint).__name__
            index[name] = (kind, table.name, columns)
    return index


_CONSTRAINTS: dict[str, tuple[str, str, tuple[str, ...]]] | None = None

# CHECK constraints whose name is not the field they guard.
_CHECK_FIELD = {"dates": "ends_on", "approved_on": "status"}


def _asyncpg_error(exc: sa_exc.DBAPIError) -> Any:
    orig = exc.orig
    cause = getattr(orig, "__cause__", None)
    return cause if isinstance(cause, asyncpg.PostgresError) else orig


_CHILDREN = {
    "framework_memberships": "partners are still members of it",
    "programmes": "it still has programmes",
    "projects": "it still has projects",
    "milestones": "it still has milestones",
    "users": "users are still bound to it",
}


def from_db_error(exc: sa_exc.DBAPIError, *, deleting: bool = False) -> ApiError:
    """Map a database error to an ApiError by SQLSTATE and constraint name (never the text)."""
    global _CONSTRAINTS
    if _CONSTRAINTS is None:
        _CONSTRAINTS = _constraint_index()
    error = _asyncpg_error(exc)
    sqlstate = getattr(error, "sqlstate", None)
    constraint = getattr(error, "constraint_name", None) or ""
    _kind, owner, columns = _CONSTRAINTS.get(constraint, ("", "", ()))
    if sqlstate == "23505":  # unique_violation
        field = columns[-1] if columns else "id"
        detail = f"{field}: this value is already taken"
        return Conflict(detail, errors=[{"loc": ["body", field], "msg": detail}])
    if sqlstate == "23001":  # restrict_violation: ON DELETE RESTRICT from PostgreSQL 18 on
        return Conflict(f"cannot delete: {_CHILDREN.get(owner, 'other resources refer to it')}")
    if sqlstate == "23503":  # foreign_key_violation (ON DELETE RESTRICT up to PostgreSQL 17)
        if deleting:
            return Conflict(f"cannot delete: {_CHILDREN.get(owner, 'other resources refer to it')}")
        field = columns[0] if columns else "id"
        return Invalid(("body", field), "refers to a resource that does not exist")
    if sqlstate == "23514":  # check_violation
        prefix = f"{owner}_"
        name = constraint[len(prefix) : -len("_check")] if constraint.startswith(prefix) else ""
        field = _CHECK_FIELD.get(name, name or "body")
        return Invalid(("body", field), f"violates the rule {constraint}")
    if sqlstate in {"23502", "22001", "22003", "22007", "22008", "22P02", "22021"}:
        return Invalid(("body",), "a value is missing, too long or out of range")
    if sqlstate in {"40001", "40P01", "55P03"}:  # serialization, deadlock, lock not available
        return Conflict("the resource is being changed by another request; try again")
    if sqlstate == "57014":  # query_canceled (statement_timeout)
        return Unavailable("the request took too long; try again shortly")
    if exc.connection_invalidated or isinstance(error, OSError | asyncpg.InterfaceError):
        return Unavailable()
    # Several hosts, every one answering, none accepting writes (a failover under way):
    # asyncpg's TargetServerAttributeNotMatched, with no SQLSTATE.
    if isinstance(getattr(exc.orig, "__cause__", None), asyncpg.TargetServerAttributeNotMatched):
        return Unavailable("no database server accepts writes right now; try again shortly")
    # 08 connection, 53 resources (too many connections), 57 shutdown/operator intervention;
    # 28 and 3D: the server refuses this service's role or database (a rotated password, a
    # database being restored) — the service is unavailable, not broken: 503, never 500.
    if sqlstate is not None and sqlstate.startswith(("08", "28", "3D", "53", "57")):
        return Unavailable()
    raise exc


def _render(error: ApiError) -> JSONResponse:
    return problem(
        error.status_code,
        error.detail,
        title=error.title,
        errors=error.errors,
        headers=error.headers,
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for item in exc.errors():
        loc = [part for part in item.get("loc", ()) if isinstance(part, str | int)]
        msg = str(item.get("msg", "invalid value"))
        if item.get("type") == "json_invalid":
            msg = "malformed JSON: " + str(item.get("ctx", {}).get("error", "cannot parse"))
        elif item.get("type") == "extra_forbidden":
            msg = "unknown or read-only field"
        errors.append({"loc": loc, "msg": msg})
    return errors


async def method_not_allowed() -> None:
    """The endpoint of a route that only refuses (405).

    ``/users/me`` also matches ``/users/{user_id}``: a route with this endpoint, declared
    first, keeps ``PATCH /users/me`` a 405 rather than a 422 about the id ``me``.
    """
    raise StarletteHTTPException(405)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first).

    The first route that matches a method is the one that would serve it, as in routing.
    """
    path, root = request.scope["path"], request.scope.get("root_path", "")
    path = path.removeprefix(root) if root and path.startswith(root) else path
    routes = [
        (context, context.methods or set())
        for context in iter_route_contexts(request.app.router.routes)
        if (regex := getattr(context, "path_regex", None)) is not None and regex.match(path)
    ]
    methods = []
    for method in ("DELETE", "GET", "PATCH", "POST", "PUT"):
        first = next((context for context, serves in routes if method in serves), None)
        if first is not None and first.endpoint is not method_not_allowed:
            methods.append(method)
    return methods


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _render(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        return problem(422, detail or "invalid request", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such resource"
        if exc.status_code == 400:
            # FastAPI's answer to a body it cannot decode at all (not UTF-8, nested too deep,
            # a broken form): a malformed body is 422 like any other invalid body.
            msg = "malformed body: it cannot be decoded"
            return problem(422, f"body: {msg}", errors=[{"loc": ["body"], "msg": msg}])
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.method} is not supported here; use {', '.join(allowed)}"
        return problem(exc.status_code, detail, headers=headers)

    from ipcp_api.common.idempotency import Replay

    @app.exception_handler(Replay)
    async def _replay(_: Request, exc: Replay) -> Response:
        return exc.response

    @app.exception_handler(StaleDataError)
    async def _stale(_: Request, __: StaleDataError) -> JSONResponse:
        return _render(PreconditionFailed("the resource was changed by another request"))

    @app.exception_handler(sa_exc.DBAPIError)
    async def _db(_: Request, exc: sa_exc.DBAPIError) -> JSONResponse:
        try:
            error = from_db_error(exc)
        except sa_exc.DBAPIError:
            _log.exception("unexpected database error")
            return problem(500, "internal error; it has been logged")
        if isinstance(error, Unavailable):
            # the reason, for operators (the driver's message only: no SQL, no parameters)
            cause = _asyncpg_error(exc)
            _log.warning(
                "database unavailable: %s %s: %s",
                type(cause).__name__,
                getattr(cause, "sqlstate", None) or "",
                str(cause).splitlines()[0] if str(cause) else "",
            )
        return _render(error)

    @app.exception_handler(sa_exc.TimeoutError)
    async def _pool(_: Request, __: sa_exc.TimeoutError) -> JSONResponse:
        return _render(Unavailable("the service is busy; try again shortly"))

    @app.exception_handler(OSError)
    async def _os(_: Request, __: OSError) -> JSONResponse:
        return _render(Unavailable())

    @app.exception_handler(TimeoutError)
    async def _timeout(_: Request, __: TimeoutError) -> JSONResponse:
        return _render(Unavailable())

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, __: Exception) -> JSONResponse:
        _log.exception("unhandled error")
        return problem(500, "internal error; it has been logged")
