"""The proxy as an ASGI app: read the request, forward it, send the answer, then check it.

The answer goes to the client before any check runs, so the checks add no
latency beyond the event loop's turn. When the upstream gives no answer the
proxy answers 502 ``UPSTREAM_UNAVAILABLE`` itself, and the exchange says so.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kakaclo_client.models import ErrorCode

from kakaclo_proxy.checks import ExchangeChecker
from kakaclo_proxy.exchange import AnsweredBy, Exchange, Headers
from kakaclo_proxy.findings import Finding
from kakaclo_proxy.har import HarRecorder
from kakaclo_proxy.inspector import Inspector
from kakaclo_proxy.redaction import Redactor
from kakaclo_proxy.reports import FailOn, Reports
from kakaclo_proxy.upstream import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    Answer,
    Upstream,
    UpstreamUnavailable,
    end_to_end,
)
from kakaclo_sandbox.version import __version__
from kakaclo_spec import shipped_spec

log = logging.getLogger("kakaclo_proxy")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


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
    ) -> None:
        self.upstream = upstream
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
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before its request ended: nothing was forwarded
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers: Headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        path = scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?", 1)[0]
        query = scope["query_string"].decode("latin-1")
        target = f"{path}?{query}" if query else path
        started, clock = time.time(), time.perf_counter()
        answered_by: AnsweredBy = "upstream"
        try:
            answer = await self.upstream.forward(scope["method"], target, headers, body)
        except UpstreamUnavailable as failure:
            answer = bad_gateway(self.redactor.url(self.upstream.base_url), str(failure))
            answered_by = "proxy"
        sent = end_to_end(answer.headers, keep_framing=True)
        if not any(name.lower() == "content-length" for name, _ in sent):
            sent.append(("content-length", str(len(answer.body))))  # it came chunked
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in sent],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})
        exchange = Exchange(
            method=scope["method"],
            path=path,
            query=query,
            request_headers=headers,
            request_body=body,
            status=answer.status,
            response_headers=answer.headers,
            response_body=answer.body,
            started=started,
            duration=time.perf_counter() - clock,
            answered_by=answered_by,
            merchant=self.redactor.merchant(headers),
        )
        try:
            self.inspector.inspect(exchange)
        except Exception:  # a bug in a check must never break the traffic
            target = self.redactor.target(exchange.target)
            log.exception("checking %s %s failed", exchange.method, target)


def create_proxy(
    upstream: str,
    report: Path,
    *,
    record: Path | None = None,
    fail_on: FailOn = "error",
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    on_finding: Callable[[Finding], None] | None = None,
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
        ExchangeChecker(spec, urlsplit(upstream).path), reports, recorder, on_finding, redactor
    )

    def shut_down() -> None:
        if recorder is not None:
            recorder.close()
        reports.close(fail_on)

    return ProxyApp(
        Upstream(upstream, connect_timeout, read_timeout), inspector, redactor, shut_down
    )
