"""The proxy's HTTP server protocol: uvicorn's httptools one, with bounds on each request.

uvicorn bounds the time between requests (``timeout_keep_alive``) but neither the
time a client takes to send a request nor its head's size, so slow clients
(slowloris) could hold connections open for ever. Here a request head (request
line and headers) must arrive whole within ``head_timeout`` seconds of the
connection, or of its first byte on a kept-alive one, and hold at most
``max_head`` bytes; then its body must arrive whole within ``body_timeout``
seconds of the head's end. Otherwise the connection is closed without an answer
(no envelope code is documented for any of them), nothing is forwarded, and one
warning line is logged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kakaclo_proxy.upstream import DEFAULT_MAX_HEAD

log = logging.getLogger("kakaclo_proxy")

DEFAULT_HEAD_TIMEOUT = 10.0  # seconds for a request's head to arrive whole
DEFAULT_BODY_TIMEOUT = 30.0  # seconds for its body to arrive whole, from the head's end


class BoundedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size cap on every request head,
    and a deadline on every request body."""

    head_timeout = DEFAULT_HEAD_TIMEOUT
    max_head = DEFAULT_MAX_HEAD
    body_timeout = DEFAULT_BODY_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0  # bytes received while in a head
        self._parsed = 0  # bytes of the head's target and headers, as parsed
        self._in_head = False
        self._between = False  # a response ended, the next request has not begun

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A new connection: its first request's head is due within the timeout."""
        super().connection_made(transport)
        self._expect_head()

    def data_received(self, data: bytes) -> None:
        """Bytes of the client: those of a head count against its cap."""
        if self._between:  # the first byte of the next request on this connection
            self._between = False
            self._expect_head()
        if not self._in_head:
            super().data_received(data)
            return
        self._head_bytes += len(data)
        super().data_received(data)
        # still in the head once these bytes are parsed: all of them were the head's
        if self._in_head and self._head_bytes > self.max_head:
            self._refuse(f"its request head is over {self.max_head} bytes")

    def on_url(self, url: bytes) -> None:
        """Part of the request target (it counts against the cap)."""
        self._parsed += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """One header (it counts against the cap)."""
        self._parsed += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head is whole: its deadline no longer applies (and one over the cap that
        came in a single read is refused here)."""
        self._in_head = False
        self._cancel_head_timer()
        if self._parsed > self.max_head:
            self._refuse(f"its request head is over {self.max_head} bytes")
            return
        super().on_headers_complete()
        # a request without a body completes at once (on_message_complete cancels this)
        self._body_timer = self.loop.call_later(self.body_timeout, self._body_too_slow)

    def on_message_complete(self) -> None:
        """The request's body is whole: its deadline no longer applies."""
        self._cancel_body_timer()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        """An exchange ended: the next request's deadline starts at its first byte."""
        self._in_head = False
        self._between = True
        self._cancel_head_timer()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection closed: no deadline is left to watch."""
        self._cancel_head_timer()
        self._cancel_body_timer()
        super().connection_lost(exc)

    def _expect_head(self) -> None:
        self._in_head = True
        self._head_bytes = self._parsed = 0
        self._head_timer = self.loop.call_later(self.head_timeout, self._too_slow)

    def _too_slow(self) -> None:
        self._head_timer = None
        if self._in_head:
            self._refuse(f"its request head did not arrive within {self.head_timeout:g} s")

    def _body_too_slow(self) -> None:
        self._body_timer = None
        self._refuse(f"its request body did not arrive whole within {self.body_timeout:g} s")

    def _refuse(self, why: str) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()
        self._in_head = False
        if not self.transport.is_closing():
            client = "%s:%d" % self.client if self.client else "a client"  # noqa: UP031
            log.warning("closed the connection of %s: %s", client, why)
            self.transport.close()

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None


def bounded_http(
    head_timeout: float, max_head: int, body_timeout: float = DEFAULT_BODY_TIMEOUT
) -> type[BoundedHttp]:
    """The protocol class with these bounds (uvicorn takes a class, not an instance)."""
    bounds = {"head_timeout": head_timeout, "max_head": max_head, "body_timeout": body_timeout}
    return type("BoundedHttp", (BoundedHttp,), bounds)
