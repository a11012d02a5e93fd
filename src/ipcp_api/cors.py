"""Front-end apps on other origins (API.md, Operations): Starlette's CORS middleware, configured
from ``IPCP_CORS_ORIGINS``, answering only the origins listed.

Starlette's middleware adds some CORS headers (``Access-Control-Expose-Headers``, and on a
preflight the allowed methods and headers) even for an origin it refuses. Here a request from
an origin that is not listed goes to the application as if no CORS support existed: it gets no
CORS header at all (a preflight from it is a plain ``OPTIONS``: 405 with ``Allow``).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

METHODS = ("GET", "POST", "PATCH", "DELETE")
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "Accept-Language",
    "X-Request-ID",
)
EXPOSED_HEADERS = (
    "ETag",
    "Link",
    "Location",
    "X-Request-ID",
    "Content-Disposition",
    "Content-Language",
    "Retry-After",
    "Idempotent-Replayed",
)


class Cors(CORSMiddleware):
    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=tuple(origins),
            allow_methods=METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            allow_credentials=False,  # tokens travel in Authorization, never in cookies
            max_age=600,
        )
        # the headers the contract lists, exactly (Starlette adds the CORS-safelisted ones,
        # which browsers never ask for)
        self.preflight_headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            origin = Headers(scope=scope).get("origin")
            if origin is None or not self.is_allowed_origin(origin):
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
