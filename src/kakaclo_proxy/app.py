"""The proxy as an ASGI app: read the request, forward it, send the answer, then check it.

The answer goes to the client before any check runs, so the checks add no
latency beyond the event loop's turn. When the upstream gives no answer the
proxy answers 502 ``UPSTREAM_UNAVAILABLE`` itself, and the exchange says so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kakaclo_client.models import ErrorCode

from kakaclo_proxy.checks import ExchangeChecker
from kakaclo_proxy.exchange import Cut, CutBy, Exchange, Headers, header
from kakaclo_proxy.findings import Finding
from kakaclo_proxy.har import HarRecorder
from kakaclo_proxy.inspector import Inspector
from kakaclo_proxy.redaction import Redactor
from kakaclo_proxy.reports import FailOn, Reports
from kakaclo_proxy.upstream import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_HEAD,
    DEFAULT_MAX_REQUEST_BODY,
    DEFAULT_READ_TIMEOUT,
    Answer,
    Streamed,
    Upstream,
    UpstreamUnavailable,
    body_too_large,
    end_to_end,
)
from kakaclo_serving.version import __version__
from kakaclo_spec import shipped_spec

log = logging.getLogger("kakaclo_proxy")
EVENT_STREAM = "text/event-stream"  # endless by nature: never cut at the cap, only recorded
CLIENT_LEFT = "the client left before the answer ended"

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def payload_too_large(cap: int) -> Answer:
    """The proxy's own answer to a request body over its cap (the spec's PayloadTooLarge)."""
    body = {
        "code": int(ErrorCode.PAYLOAD_TOO_LARGE),
        "message": f"request body is larger than {cap} bytes",
        "data": None,
    }
    return Answer(413, [("content-type", "application/json")], json.dumps(body).encode())


def bad_gateway(upstream: str, reason: str) -> Answer:
    """The proxy's own answer when the upstream gives none (the spec's BadGateway)."""
    body = {
        "code": int(ErrorCode.UPSTREAM_UNAVAILABLE),
        "message": f"upstream {upstream} unavailable: {reason}",
        "data": None,
    }
    return Answer(502, [("content-type", "application/json")], json.dumps(body).encode())


class ProxyApp:
    """Forwards every request to one upstream and inspects each exchange."""

    def __init__(
        self,
        upstream: Upstream,
        inspector: Inspector,
        redactor: Redactor,
        on_shutdown: Callable[[], None] | None = None,
        *,
        max_request_body: int = DEFAULT_MAX_REQUEST_BODY,
    ) -> None:
        self.upstream = upstream
        self.max_request_body = max_request_body
        self.inspector = inspector
        self.redactor = redactor
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point (lifespan and HTTP)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._exchange(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.upstream.open()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.upstream.close()
                if self.on_shutdown is not None:
                    self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _exchange(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: Headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        path = scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?", 1)[0]
        query = scope["query_string"].decode("latin-1")
        body = await self._request_body(scope, receive, send, headers, path, query)
        if body is None:
            return
        started, clock = time.time(), time.perf_counter()
        try:
            answer = await self.upstream.send(scope["method"], target(path, query), headers, body)
        except UpstreamUnavailable as failure:
            refused = bad_gateway(self.redactor.url(self.upstream.base_url), str(failure))
            await _send_whole(send, refused)
            exchange = Exchange(
                scope["method"], path, query, headers, body, refused.status, refused.headers,
                refused.body, started, time.perf_counter() - clock, "proxy",
            )  # fmt: skip
            self._inspect(exchange)
            return
        cut: Cut | None = None
        if answer.complete:  # the whole answer came with its head: the common case
            answer_body = answer.take()
            answer.finish()
            await _send_whole(send, Answer(answer.status, answer.headers, answer_body))
        else:
            answer_body, cut = await self._stream(receive, send, answer)
        exchange = Exchange(
            scope["method"], path, query, headers, body, answer.status, answer.headers,
            answer_body, started, time.perf_counter() - clock, cut=cut,
        )  # fmt: skip
        self._inspect(exchange)

    async def _request_body(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, path: str, query: str
    ) -> bytes | None:
        """The request's body, or None when the client left or the body is over the cap
        (then the proxy has answered 413 itself and forwarded nothing)."""
        cap = self.max_request_body
        length = header(headers, "content-length")
        size, chunks = 0, []
        if not (length and length.strip().isdigit() and int(length) > cap):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None  # the client left before its request ended: nothing forwarded
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > cap:
                    break
                chunks.append(chunk)
                if not message.get("more_body"):
                    return b"".join(chunks)
        log.warning(
            "refused %s %s: its body is larger than the proxy's cap of %d bytes",
            scope["method"],
            self.redactor.target(target(path, query)),
            cap,
        )
        await _send_whole(send, payload_too_large(cap), close=True)
        return None

    async def _stream(
        self, receive: Receive, send: Send, answer: Streamed
    ) -> tuple[bytes, Cut | None]:
        """Pass the answer on as it comes; what was kept of it (up to the cap) and, when it
        is not the whole answer, why."""
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": _raw(end_to_end(answer.headers, keep_framing=True)),
            }
        )
        cap = self.upstream.max_body
        endless = (header(answer.headers, "content-type") or "").startswith(EVENT_STREAM)
        kept: list[bytes] = []
        size = 0
        cut: Cut | None = None
        # http.disconnect once the client leaves (its request was read whole)
        left = asyncio.ensure_future(receive())

        def client_left(_: object) -> None:
            answer.abort(CLIENT_LEFT)

        left.add_done_callback(client_left)
        try:
            while True:
                chunk = answer.take()
                if chunk:
                    if size < cap:
                        kept.append(chunk[: cap - size])
                    size += len(chunk)
                    if size > cap and not endless:
                        cut = Cut("cap", body_too_large(cap))
                        break
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if answer.complete:
                    break
                await answer.more()
        except UpstreamUnavailable as failure:
            by: CutBy = "client" if str(failure) == CLIENT_LEFT else "upstream"
            cut = Cut(by, str(failure))
        finally:
            left.remove_done_callback(client_left)
            left.cancel()
        if cut is None:
            answer.finish()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            if size > cap:
                cut = Cut("recording", f"recorded up to the proxy's cap of {cap} bytes")
        else:
            answer.abort(cut.reason)
            answer.finish()
            # returning with the answer unfinished: the server closes the client's connection,
            # the only way HTTP/1.1 has to say that an answer under way broke
        return b"".join(kept), cut

    def _inspect(self, exchange: Exchange) -> None:
        exchange.merchant = self.redactor.merchant(exchange.request_headers)
        try:
            self.inspector.inspect(exchange)
        except Exception:  # a bug in a check must never break the traffic
            target = self.redactor.target(exchange.target)
            log.exception("checking %s %s failed", exchange.method, target)


def target(path: str, query: str) -> str:
    """A request target: the path and its query."""
    return f"{path}?{query}" if query else path


def _raw(headers: Headers) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]


async def _send_whole(send: Send, answer: Answer, *, close: bool = False) -> None:
    """Send an answer whose body is all in hand (Content-Length when it came chunked);
    ``close``: then close the connection."""
    sent = end_to_end(answer.headers, keep_framing=True)
    if not any(name.lower() == "content-length" for name, _ in sent):
        sent.append(("content-length", str(len(answer.body))))
    if close:
        sent.append(("connection", "close"))
    await send({"type": "http.response.start", "status": answer.status, "headers": _raw(sent)})
    await send({"type": "http.response.body", "body": answer.body})


def create_proxy(
    upstream: str,
    report: Path,
    *,
    record: Path | None = None,
    fail_on: FailOn = "error",
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    on_finding: Callable[[Finding], None] | None = None,
    max_request_body: int = DEFAULT_MAX_REQUEST_BODY,
    max_answer_body: int = DEFAULT_MAX_BODY,
    max_head: int = DEFAULT_MAX_HEAD,
) -> ProxyApp:
    """A proxy in front of ``upstream`` (a base URL), reporting under ``report``.

    The recording and the reports are opened now (``OSError`` when they cannot be)
    and closed at the app's lifespan shutdown.
    """
    spec = shipped_spec()
    reports = Reports(report)
    redactor = Redactor(upstream)
    recorder = HarRecorder(record, upstream, __version__, redactor) if record else None
    inspector = Inspector(
        ExchangeChecker(
            spec,
            urlsplit(upstream).path,
            max_request_body=max_request_body,
            max_answer_body=max_answer_body,
        ),
        reports,
        recorder,
        on_finding,
        redactor,
    )

    def shut_down() -> None:
        if recorder is not None:
            recorder.close()
        reports.close(fail_on)

    return ProxyApp(
        Upstream(
            upstream, connect_timeout, read_timeout, max_head=max_head, max_body=max_answer_body
        ),
        inspector,
        redactor,
        shut_down,
        max_request_body=max_request_body,
    )
