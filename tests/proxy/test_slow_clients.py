"""Slow or oversized request heads, slow request bodies: the proxy closes their connections
(a deadline and a cap on each head, a deadline on each body), and real clients get through
while 200 slow ones are open."""

from __future__ import annotations

import contextlib
import logging
import socket
from pathlib import Path

import httpx
import pytest

from kakaclo_proxy.app import create_proxy
from kakaclo_proxy.cli import server_config
from tests.proxy.servers import Capturing, proxy, sandbox_app, serving, upstream
from tests.sandbox.conftest import TOKEN_A

API = "/openapi/v2/order/orders"
SLOW = 200
PARTIAL_HEAD = b"GET /openapi/v2/order/orders HTTP/1.1\r\nHost: proxy\r\nX-Slow: "


def _closed_by_the_proxy(sock: socket.socket) -> bool:
    """Whether the proxy closed the connection (without an answer) within 10 s."""
    sock.settimeout(10)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_slow_heads_are_closed_and_real_clients_get_through(tmp_path: Path) -> None:
    port = 0
    slow: list[socket.socket] = []
    with (
        upstream(sandbox_app()) as upstream_url,
        proxy(upstream_url, tmp_path, head_timeout=1.0) as running,
    ):
        port = int(running.base_url.split(":")[2].split("/")[0])
        try:
            for _ in range(SLOW):
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                sock.sendall(PARTIAL_HEAD)  # a head that never ends, as slowloris sends
                slow.append(sock)
            with httpx.Client(timeout=10) as http:
                for _ in range(5):
                    assert http.get(running.base_url + API, headers=TOKEN_A).status_code == 200
            closed = [_closed_by_the_proxy(sock) for sock in slow]
        finally:
            for sock in slow:
                sock.close()
    assert all(closed), f"{closed.count(False)} of {SLOW} slow connections left open"


def test_a_request_head_over_the_cap_is_closed_unanswered_and_never_forwarded(
    tmp_path: Path,
) -> None:
    capturing = Capturing(sandbox_app())
    with (
        upstream(capturing) as upstream_url,
        proxy(upstream_url, tmp_path, max_request_head=16 * 1024) as running,
    ):
        port = int(running.base_url.split(":")[2].split("/")[0])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            head = PARTIAL_HEAD + b"a" * (64 * 1024) + b"\r\n\r\n"
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(head)  # the proxy may close while this is still sending
            assert _closed_by_the_proxy(sock)
        with httpx.Client(timeout=10) as http:  # within the cap: forwarded
            assert http.get(running.base_url + API, headers=TOKEN_A).status_code == 200
    assert len(capturing.answers) == 1


def test_a_request_body_that_stops_coming_is_closed_unanswered_and_never_forwarded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Half a body, then nothing: closed at the body deadline (0.5 s here), not forwarded,
    one warning line; a whole request on the next connection gets through."""
    capturing = Capturing(sandbox_app())
    partial = (
        b"POST /openapi/openapi/v2/order/orders/refund HTTP/1.1\r\nHost: proxy\r\n"
        b"Authorization: " + TOKEN_A["Authorization"].encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n" + b'{"orderId": "10'
    )
    caplog.set_level(logging.WARNING, logger="kakaclo_proxy")
    with upstream(capturing) as upstream_url:
        app = create_proxy(upstream_url, tmp_path)
        with serving(server_config(app, body_timeout=0.5)) as port:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(partial)
                assert _closed_by_the_proxy(sock)
            with httpx.Client(timeout=10) as http:
                answer = http.get(f"http://127.0.0.1:{port}/openapi{API}", headers=TOKEN_A)
                assert answer.status_code == 200
    assert len(capturing.answers) == 1  # the GET alone reached the upstream
    (line,) = [r.getMessage() for r in caplog.records if "request body" in r.getMessage()]
    assert "did not arrive whole within 0.5 s" in line
