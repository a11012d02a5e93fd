"""ETag / If-Match / If-None-Match, Location, the strict query-string check, and content
negotiation (``format`` / ``Accept``) with file downloads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import Request, Response
from fastapi.dependencies.models import Dependant

from ipcp_api.common.types import MAX_BIGINT
from ipcp_api.errors import Invalid, NotAcceptable, PreconditionFailed


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


# --- content negotiation ----------------------------------------------------------------------

# Every representation the service knows, by the name ``format=`` takes (API.md, *Formats*).
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _accept_ranges(accept: str) -> list[tuple[str, str, float]]:
    ranges: list[tuple[str, str, float]] = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        kind, _, subtype = media.lower().partition("/")
        if not kind or not subtype:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:
                    quality = 0.0
        ranges.append((kind, subtype, quality))
    return ranges


def negotiate(fmt: str | None, accept: str | None, offers: Sequence[str]) -> str:
    """The representation to send, by name (``json``, ``csv``, ...), from ``offers``.

    ``format`` (the query parameter) wins over ``Accept``; a format or an ``Accept`` this
    endpoint cannot produce is 406. Without either, the first offer (JSON). For ``Accept``,
    each offer takes the quality of the most specific media range that matches it; the
    highest quality wins, then the more specific match, then the earlier offer.
    """
    produces = " or ".join(MEDIA_TYPES[name] for name in offers)
    if fmt is not None:
        if fmt not in offers:
            raise NotAcceptable(
                f"format={fmt} is not available here; use {' or '.join(offers)}"
                + (" (XLSX and PDF are not offered yet)" if fmt in ("xlsx", "pdf") else "")
            )
        return fmt
    if accept is None or not accept.strip():
        return offers[0]
    ranges = _accept_ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for preference, name in enumerate(offers):
        kind, _, subtype = MEDIA_TYPES[name].partition("/")
        match: tuple[int, float] | None = None
        for r_kind, r_subtype, quality in ranges:
            if (r_kind, r_subtype) == (kind, subtype):
                specificity = 2
            elif (r_kind, r_subtype) == (kind, "*"):
                specificity = 1
            elif (r_kind, r_subtype) == ("*", "*"):
                specificity = 0
            else:
                continue
            if match is None or specificity > match[0]:
                match = (specificity, quality)
        if match is None or match[1] <= 0:
            continue
        score = (match[1], match[0], -preference)
        if best is None or score > best:
            best, chosen = score, name
    if chosen is None:
        raise NotAcceptable(f"this endpoint produces {produces}; Accept was {accept!r}")
    return chosen


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the exact UTF-8 ``filename*`` (RFC 6266)."""
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


__all__ = [
    "MEDIA_TYPES",
    "check_if_match",
    "content_disposition",
    "etag",
    "forbid_unknown_query",
    "json_response",
    "negotiate",
    "not_modified",
]
