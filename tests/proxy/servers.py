"""Servers for the proxy's tests: uvicorn in a thread, on a socket bound before it starts."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kakaclo_proxy.app import ProxyApp, create_proxy
from kakaclo_proxy.cli import server_config
from kakaclo_proxy.findings import Finding
from kakaclo_sandbox import create_app
from kakaclo_serving.listening import listen
from tests.live import free_port

STARTUP = 15.0  # seconds: bounded wait for a thread's server to be listening


@contextmanager
def serving(config: uvicorn.Config, port: int | None = None) -> Iterator[int]:
    """Run ``config``'s app in a thread until the block ends; yields its port."""
    port = port or free_port()
    sock = listen("127.0.0.1", port)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP
    while not server.started:  # waiting for a thread to start listening, not for app timing
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True  # graceful: in-flight requests (and their checks) finish
        thread.join(30)
        sock.close()


def sandbox_app(**settings: Any) -> ASGIApp:
    """A sandbox with a fresh in-memory database and no rate limit."""
    return create_app(db=":memory:", rate_limit=None, **settings)


@contextmanager
def upstream(app: ASGIApp) -> Iterator[str]:
    """Serve ``app``; yields its API base URL (``http://127.0.0.1:PORT/openapi``)."""
    with serving(uvicorn.Config(app, lifespan="on", log_level="warning")) as port:
        yield f"http://127.0.0.1:{port}/openapi"


@dataclass
class Proxy:
    """A running proxy: its base URL and, once stopped, what it reported."""

    app: ProxyApp
    base_url: str
    report: Path

    @property
    def findings(self) -> list[Finding]:
        """Every finding (read them after the block: the checks run after each answer)."""
        return self.app.inspector.reports.findings

    def checks(self) -> set[tuple[str, str]]:
        """``(check, severity)`` of every finding."""
        return {(finding.check, finding.severity) for finding in self.findings}

    def summary(self) -> dict[str, Any]:
        """summary.json, written at shutdown."""
        return dict(json.loads((self.report / "summary.json").read_text()))


@contextmanager
def proxy(upstream_url: str, report: Path, **options: Any) -> Iterator[Proxy]:
    """A proxy in front of ``upstream_url``, with the CLI's server settings."""
    server = {
        key: options.pop(key) for key in ("head_timeout", "max_request_head") if key in options
    }
    app = create_proxy(upstream_url, report, **options)
    with serving(server_config(app, **server)) as port:
        yield Proxy(app, f"http://127.0.0.1:{port}/openapi", report)


@dataclass
class Captured:
    """What an app sent, before any server framed it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Capturing:
    """An ASGI wrapper that keeps every answer of the app inside, as the app sent it."""

    app: ASGIApp
    answers: list[Captured] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answer = Captured(0, [], b"")

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = [
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]
                ]
            elif message["type"] == "http.response.body":
                answer.body += message.get("body", b"")
                if not message.get("more_body"):
                    self.answers.append(answer)
            await send(message)

        await self.app(scope, receive, keep)


@contextmanager
def through_proxy(
    app: ASGIApp, report: Path, headers: dict[str, str] | None = None, **options: Any
) -> Iterator[tuple[Proxy, httpx.Client]]:
    """``app`` served, a proxy in front of it, and a client of the proxy's base URL."""
    with (
        upstream(app) as upstream_url,
        proxy(upstream_url, report, **options) as running,
        httpx.Client(base_url=running.base_url + "/", headers=headers, timeout=10) as http,
    ):
        yield running, http


@contextmanager
def raw_upstream(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A TCP server that reads one request head per connection and runs ``answer``."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # closed: the test is over
            with connection:
                head = b""
                while b"\r\n\r\n" not in head:
                    data = connection.recv(65536)
                    if not data:
                        break
                    head += data
                with contextlib.suppress(OSError):  # the proxy hung up: what a cap does
                    answer(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/openapi"
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        listener.close()
        thread.join(10)
        assert not thread.is_alive()
