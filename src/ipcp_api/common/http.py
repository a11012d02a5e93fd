"""ETag / If-Match / If-None-Match, Location, and the strict query-string check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.dependencies.models import Dependant

from ipcp_api.common.types import MAX_BIGINT
from ipcp_api.errors import Invalid, PreconditionFailed


def etag(version: int) -> str:
    return f'"{version}"'


def _tags(header: str) -> list[str]:
    return [part.strip().removeprefix("W/") for part in header.split(",") if part.strip()]


def check_if_match(header: str | None, version: int) -> None:
    """A stale ``If-Match`` is 412 and nothing changes; no header means no precondition."""
    if header is None:
        return
    tags = _tags(header)
    if "*" in tags or etag(version) in tags:
        return
    raise PreconditionFailed(
        f"If-Match {header} does not match the current version {etag(version)}"
    )


def not_modified(header: str | None, version: int) -> Response | None:
    if header is not None:
        tags = _tags(header)
        if "*" in tags or etag(version) in tags:
            return Response(status_code=304, headers={"ETag": etag(version)})
    return None


def in_id_range(value: int) -> bool:
    return 1 <= value <= MAX_BIGINT


_query_names_cache: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def forbid_unknown_query(request: Request) -> None:
    """An unknown query parameter is 422: a mistyped filter must never show unfiltered data."""
    if not request.query_params:
        return
    route: Any = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _query_names_cache.get(id(route))
    if allowed is None:
        allowed = frozenset(_query_names(dependant))
        _query_names_cache[id(route)] = allowed
    seen: set[str] = set()
    for name, _value in request.query_params.multi_items():
        if name not in allowed:
            raise Invalid(("query", name), "unknown query parameter")
        if name in seen:  # every query parameter takes one value (API.md, Conventions)
            raise Invalid(("query", name), "given more than once; it takes one value")
        seen.add(name)


def json_response(content: Any, *, headers: Mapping[str, str] | None = None) -> Response:
    """JSON-ready data (dicts from Core rows) written once with orjson.

    For read paths that skip building response models: the route keeps its
    ``response_model`` for the OpenAPI document, and FastAPI sends a returned ``Response`` as
    it is. Timestamps come out as pydantic writes them (UTC as ``Z``), so the bytes match.
    """
    return Response(
        orjson.dumps(content, option=orjson.OPT_UTC_Z),
        headers=dict(headers) if headers else None,
        media_type="application/json",
    )


__all__ = ["check_if_match", "etag", "forbid_unknown_query", "json_response", "not_modified"]
