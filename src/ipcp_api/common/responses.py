"""Declared error responses, so the OpenAPI document lists every problem a route can answer."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from ipcp_api.errors import PROBLEM_JSON, Problem

_WHEN = {
    304: "Not modified: the `If-None-Match` tag is current.",
    401: "No valid bearer token.",
    403: "The caller's role may not do this.",
    404: "No such resource (or not visible to the caller).",
    406: "The `format` or `Accept` asked for a representation this endpoint cannot produce.",
    409: "Conflicts with the current state (unique key, children, workflow).",
    412: "`If-Match` names a version that is no longer current.",
    413: "The body is over 1 MiB.",
    422: "The request is invalid; `errors` names each field.",
    429: "Too many failed logins; see `Retry-After`.",
    503: "The database is unavailable; see `Retry-After`.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each code with the problem+json schema."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        if code == 304:
            out[code] = {"description": _WHEN[code]}
            continue
        out[code] = {
            "model": Problem,
            "description": _WHEN.get(code, HTTPStatus(code).phrase),
            "content": {PROBLEM_JSON: {}},
        }
    return out


READ = (401, 404, 422, 503)
LIST = (401, 422, 503)
CREATE = (401, 403, 409, 413, 422, 503)
UPDATE = (401, 403, 404, 409, 412, 413, 422, 503)
DELETE = (401, 403, 404, 409, 412, 422, 503)
