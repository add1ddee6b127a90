"""Servers the contract suite is run against in its self-proof, started in a thread.

Each breaks the contract in one distinct way (or none), on top of a real
sandbox without its control surface, so that everything else stays right.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn

from kakaclo_sandbox import create_app
from tests.live import free_port

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
QUERY_REFUND = "/openapi/openapi/v2/order/orders/refund/"


async def _answer(send: Send, status: int, content_type: str, body: bytes) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def not_the_api(scope: Scope, receive: Receive, send: Send) -> None:
    """Every request: 200 text/plain, like a default web server page."""
    if scope["type"] == "http":
        await _answer(send, 200, "text/plain; charset=utf-8", b"It works!\n")


class RewriteResponses:
    """Rewrite the wrapped app's answers through ``change(status, body)``.

    ``change`` returns the new ``(status, content type, body)``, or None to keep the answer.
    """

    def __init__(
        self, app: ASGIApp, change: Callable[[int, bytes], tuple[int, str, bytes] | None]
    ) -> None:
        self.app = app
        self.change = change

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/openapi/"):
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        body = b"".join(chunks)
        changed = self.change(int(start["status"]), body)
        if changed is None:
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        else:
            await _answer(send, *changed)


def _html_errors(status: int, body: bytes) -> tuple[int, str, bytes] | None:
    if status < 400:
        return None
    page = f"<!doctype html><title>{status}</title><h1>Error {status}</h1>".encode()
    return status, "text/html; charset=utf-8", page


def _wrong_envelope(status: int, body: bytes) -> tuple[int, str, bytes] | None:
    if status != 200:
        return None
    data = json.loads(body).get("data")
    return 200, "application/json", json.dumps({"status": "ok", "result": data}).encode()


class Only:
    """Send requests for Query Refund to ``special``, the rest to ``app``."""

    def __init__(self, app: ASGIApp, special: ASGIApp) -> None:
        self.app, self.special = app, special

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(QUERY_REFUND):
            await self.special(scope, receive, send)
        else:
            await self.app(scope, receive, send)


async def _server_error(scope: Scope, receive: Receive, send: Send) -> None:
    body = json.dumps({"code": 50000, "message": "internal error", "data": None}).encode()
    await _answer(send, 500, "application/json", body)


async def _hang(scope: Scope, receive: Receive, send: Send) -> None:
    await asyncio.sleep(3600)


class AtRoot:
    """Serve the wrapped sandbox's API at the server root, as Prism's and Specmatic's mocks do:
    ``/openapi/v2/...`` instead of ``/openapi/openapi/v2/...``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/openapi/v2/"):
            scope = {**scope, "path": "/openapi" + scope["path"], "raw_path": None}
        await self.app(scope, receive, send)


def _ok_code_broken(status: int, body: bytes) -> tuple[int, str, bytes] | None:
    if status != 200:
        return None
    return 200, "application/json", json.dumps({**json.loads(body), "code": 10001}).encode()


def faulty_app(kind: str) -> ASGIApp:
    """A server that breaks the contract as ``kind`` says (``conforming`` breaks nothing)."""
    if kind == "not-the-api":
        return not_the_api
    sandbox: ASGIApp = create_app(db=":memory:", rate_limit=None, control=False)
    if kind == "conforming":
        return sandbox
    if kind == "at-root":
        return AtRoot(sandbox)
    if kind == "at-root-code-10001":
        return AtRoot(RewriteResponses(sandbox, _ok_code_broken))
    if kind == "html-errors":
        return RewriteResponses(sandbox, _html_errors)
    if kind == "wrong-envelope":
        return RewriteResponses(sandbox, _wrong_envelope)
    if kind == "server-error":
        return Only(sandbox, _server_error)
    if kind == "hangs":
        return Only(sandbox, _hang)
    raise ValueError(kind)


@dataclass
class ThreadServer:
    """An ASGI app served by uvicorn on a free port, in a thread of this process."""

    app: ASGIApp
    port: int = field(default_factory=free_port)
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    lifespan: Literal["on", "off"] = "off"  # "on": the app opens its clients in the server's loop

    @property
    def base_url(self) -> str:
        """The API base URL (ends in /openapi)."""
        return f"http://127.0.0.1:{self.port}/openapi"

    def __enter__(self) -> ThreadServer:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan=self.lifespan,
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the test server on port {self.port} did not start")
            time.sleep(0.01)  # waiting for a thread to bind, not for app timing
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(timeout=10)
