"""The HTTP server's own limits: request heads bounded, slow heads and bodies cut off.

uvicorn's default parser (httptools) has no limit on the size of a request head, and uvicorn
has no timeout for a head or a body that arrives slowly: ten unfinished 30 MB heads took a
worker from 105 MB to 465 MB, and slow sockets stayed open for as long as their clients liked.
``ipcp-api serve`` therefore runs uvicorn's h11 protocol with

- a head limit of ``MAX_HEAD_BYTES`` while the head arrives (h11 refuses to buffer more; uvicorn
  answers ``400`` and closes — h11 would say 431, uvicorn can only say 400, which API.md
  allows), so an endless head never takes more memory than that; a longer head that arrived in
  one read is answered ``431`` by ``middleware.py``;
- a deadline for the head (``IPCP_HTTP_HEAD_TIMEOUT``, from the connection's first byte or its
  opening) and for the body (``IPCP_HTTP_BODY_TIMEOUT``, from the end of the head): a client
  that has not sent them by then is disconnected. Between requests uvicorn's keep-alive timeout
  (``IPCP_HTTP_KEEPALIVE_TIMEOUT``) applies, and while the application works, nothing does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ipcp_api.config import Settings, get_settings
from ipcp_api.middleware import MAX_HEAD_BYTES


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's head and body."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._timeouts = {
            h11.IDLE: settings.http_head_timeout,
            h11.SEND_BODY: settings.http_body_timeout,
        }
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_for: Any = None  # h11.IDLE (a head) or h11.SEND_BODY (a body)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(h11.IDLE)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # a pipelined request may have started; else the keep-alive timeout runs
        if self.conn.their_state is h11.SEND_BODY:
            self._follow()
        else:
            self._disarm()

    def shutdown(self) -> None:
        # As uvicorn's httptools protocol does, tell the client of a request still in flight
        # that the connection closes after its response (h11 then sends ``Connection: close``).
        if self.cycle is not None and not self.cycle.response_started:
            self.conn._cstate.process_keep_alive_disabled()
        super().shutdown()

    def _follow(self) -> None:
        """Arm the deadline of what the client still owes us, if anything."""
        if self.transport.is_closing():
            self._disarm()
            return
        state = self.conn.their_state
        if state is h11.IDLE or state is h11.SEND_BODY:
            if self._waiting_for is not state:
                self._arm(state)
        else:  # the request is complete (or the connection is done): the application works
            self._disarm()

    def _arm(self, state: Any) -> None:
        self._disarm()
        self._waiting_for = state
        self._deadline = self.loop.call_later(self._timeouts[state], self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._waiting_for = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            what = "head" if self._waiting_for is h11.IDLE else "body"
            self.logger.info("closing a connection: the request %s did not arrive in time", what)
            self.transport.close()
        self._waiting_for = None


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The limits ``ipcp-api serve`` passes to ``uvicorn.run``."""
    return {
        "http": "ipcp_api.server:BoundedH11Protocol",
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "timeout_keep_alive": settings.http_keepalive_timeout,
        "limit_concurrency": settings.http_max_connections,
    }
