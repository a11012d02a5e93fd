"""The exception handlers: every error rendered as RFC 9457 problem details.

Imported only by ``app.py``.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ipcp_api.common.idempotency import Replay
from ipcp_api.db.integrity import asyncpg_error, from_db_error, is_data_exception
from ipcp_api.errors import ApiError, PreconditionFailed, Unavailable, problem
from ipcp_api.problems import BY_STATUS
from ipcp_api.routing import allowed_methods

# The logger keeps its name (operators filter on it).
_log = logging.getLogger("ipcp_api.errors")


def _render(error: ApiError) -> JSONResponse:
    return problem(
        error.status_code,
        error.detail,
        title=error.title,
        errors=error.errors,
        headers=error.headers,
        slug=error.slug,
        extra=error.extensions,
    )


# pydantic's wording for errors raised by a validator: the reason alone is for a person.
_FRAMEWORK_PREFIXES = ("Value error, ", "Assertion failed, ")


_LENGTH = {"too_short": ("at least", "min_length"), "too_long": ("at most", "max_length")}


def _plain(msg: str) -> str:
    for prefix in _FRAMEWORK_PREFIXES:
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for item in exc.errors():
        loc = [part for part in item.get("loc", ()) if isinstance(part, str | int)]
        msg = str(item.get("msg", "invalid value"))
        if item.get("type") == "json_invalid":
            msg = "malformed JSON: " + str(item.get("ctx", {}).get("error", "cannot parse"))
        elif item.get("type") == "extra_forbidden":
            msg = "unknown or read-only field"
        elif item.get("type") in _LENGTH and isinstance(item.get("input"), str):
            # a text's bounds checked after its own validator: pydantic speaks of "items"
            limit = item.get("ctx", {}).get(_LENGTH[item["type"]][1])
            msg = f"String should have {_LENGTH[item['type']][0]} {limit} character" + (
                "" if limit == 1 else "s"
            )
        else:
            msg = _plain(msg)
        errors.append({"loc": loc, "msg": msg})
    return errors


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _render(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        return problem(422, detail or "invalid request", errors=errors, slug="validation")

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
            return problem(
                422, f"body: {msg}", errors=[{"loc": ["body"], "msg": msg}], slug="validation"
            )
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.method} is not supported here; use {', '.join(allowed)}"
        return problem(
            exc.status_code, detail, headers=headers, slug=BY_STATUS.get(exc.status_code)
        )

    @app.exception_handler(Replay)
    async def _replay(_: Request, exc: Replay) -> Response:
        return exc.response

    @app.exception_handler(StaleDataError)
    async def _stale(_: Request, __: StaleDataError) -> JSONResponse:
        return _render(PreconditionFailed("the resource was changed by another request"))

    @app.exception_handler(sa_exc.DBAPIError)
    async def _db(request: Request, exc: sa_exc.DBAPIError) -> JSONResponse:
        if request.method in {"GET", "HEAD"} and is_data_exception(exc):
            # A read sends no body: a data exception (SQLSTATE class 22) while serving one
            # is the server's defect with the data it holds, never the client's mistake.
            request_id = getattr(request.state, "request_id", None)
            _log.exception("data exception while serving a read (request %s)", request_id)
            return problem(
                500,
                f"internal error; it has been logged (request id {request_id})",
                extra={"request_id": request_id},
            )
        try:
            error = from_db_error(exc)
        except sa_exc.DBAPIError:
            _log.exception("unexpected database error")
            return problem(500, "internal error; it has been logged")
        if isinstance(error, Unavailable):
            # the reason, for operators (the driver's message only: no SQL, no parameters)
            cause = asyncpg_error(exc)
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
