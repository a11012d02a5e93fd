"""Request ids, the body-size limit, no-store caching and one log line per request (pure ASGI)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from http import HTTPStatus
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ipcp_api.problems import type_uri

MAX_BODY_BYTES = 1024 * 1024
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""The one route that takes bodies over 1 MiB: ``POST /api/v1/programmes/{id}/imports``."""
_UPLOAD_PATH = re.compile(r"^/api/v1/programmes/[^/]+/imports$")


def body_limit(scope: Scope) -> int:
    """The largest body this request may send (matched on the raw path, before routing)."""
    if scope["method"] == "POST" and _UPLOAD_PATH.match(scope["path"]):
        return MAX_UPLOAD_BYTES
    return MAX_BODY_BYTES


_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_log = logging.getLogger("ipcp_api.access")


class BodyTooLarge(HTTPException):
    """Raised from ``receive``; FastAPI re-raises HTTPExceptions met while reading the body."""

    def __init__(self, limit: int = MAX_BODY_BYTES) -> None:
        super().__init__(413, f"the request body is over {limit} bytes")


def _problem_413(limit: int = MAX_BODY_BYTES) -> bytes:
    return orjson.dumps(
        {
            "type": type_uri(413),
            # the same title as the 413 raised while streaming (errors.problem's phrase)
            "title": HTTPStatus(413).phrase,
            "status": 413,
            "detail": f"the request body is over {limit} bytes",
        }
    )


MAX_HEAD_BYTES = 16 * 1024
"""The longest request head (request line and header lines) served: 16 KiB (API.md)."""


def head_bytes(scope: Scope) -> int:
    """The size of the request head as it was sent (request line, header lines, blank line)."""
    line = len(scope["method"]) + len(scope.get("raw_path") or b"") + 11
    if scope.get("query_string"):
        line += 1 + len(scope["query_string"])
    return line + sum(len(k) + len(v) + 4 for k, v in scope["headers"]) + 2


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        authenticated = "authorization" in headers
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                raw = list(message.get("headers", []))
                raw.append((b"x-request-id", request_id.encode()))
                if authenticated and not any(k.lower() == b"cache-control" for k, _ in raw):
                    raw.append((b"cache-control", b"no-store"))
                message["headers"] = raw
            await send(message)

        async def respond_413() -> None:
            nonlocal status
            status = 413
            body = _problem_413(limit)
            await send_wrapper(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})

        try:
            if head_bytes(scope) > MAX_HEAD_BYTES:
                # the server (server.py) refuses a longer head while it arrives; this catches
                # one that came in a single read
                status = 431
                body = orjson.dumps(
                    {
                        "type": "about:blank",
                        "title": HTTPStatus(431).phrase,
                        "status": 431,
                        "detail": f"the request head is over {MAX_HEAD_BYTES} bytes",
                    }
                )
                await send_wrapper(
                    {
                        "type": "http.response.start",
                        "status": 431,
                        "headers": [
                            (b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            length = headers.get("content-length")
            limit = body_limit(scope)
            if length is not None and length.isdigit() and int(length) > limit:
                await respond_413()
                return
            received = 0

            async def receive_limited() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise BodyTooLarge(limit)
                return message

            try:
                await self.app(scope, receive_limited, send_wrapper)
            except BodyTooLarge:
                if response_started:
                    raise
                await respond_413()
        finally:
            state: dict[str, Any] = scope.get("state", {})
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": state.get("user_id"),
                },
            )
