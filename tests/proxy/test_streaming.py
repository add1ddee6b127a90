"""Streamed answers pass through the proxy as they come: the sandbox's console feed (server-
sent events) event by event, a chunked answer chunk by chunk; each is recorded up to the cap,
and an upstream that breaks mid-answer breaks the client's answer, with a finding."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from tests.proxy.servers import proxy, raw_upstream, sandbox_app, through_proxy, upstream
from tests.sandbox.conftest import TOKEN_A
from tests.sandbox.helpers import item

API = "/openapi/v2/order/orders"
CAP = 4 * 1024  # below one state event of the demo merchant


def _events(lines: Iterator[str]) -> Iterator[str]:
    """The event names of a server-sent event stream, as they come."""
    for line in lines:
        if line.startswith("event: "):
            yield line.removeprefix("event: ")


def test_server_sent_events_pass_through_as_they_come(tmp_path: Path) -> None:
    har = tmp_path / "run.har"
    with (
        through_proxy(sandbox_app(), tmp_path, TOKEN_A, record=har, max_answer_body=CAP) as (
            running,
            http,
        ),
        httpx.Client(timeout=10) as feed_client,
    ):
        root = running.base_url.removesuffix("/openapi")
        with feed_client.stream("GET", f"{root}/_sandbox/events?token=demo-token") as feed:
            assert feed.status_code == 200
            assert feed.headers["content-type"].startswith("text/event-stream")
            events = _events(feed.iter_lines())
            assert next(events) == "state"  # the first state, while the feed stays open
            refunded = http.post(f"{API}/10001/refund", json={"orderItems": [item("120001", 1)]})
            assert refunded.status_code == 200
            assert next(events) == "state"  # the change, pushed through the proxy
    entries = json.loads(har.read_text())["log"]["entries"]
    feed_entry = next(e for e in entries if "/_sandbox/events" in e["request"]["url"])
    assert "demo-token" not in feed_entry["request"]["url"]
    content = feed_entry["response"]["content"]
    assert content["text"].startswith("retry: ") and len(content["text"]) <= CAP
    assert content["_cut"]["by"] == "client"  # the feed ended when its client left
    assert running.findings == []


def test_a_chunked_answer_passes_chunk_by_chunk(tmp_path: Path) -> None:
    first_read = threading.Event()

    async def two_chunks(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        start = {"type": "http.response.start", "status": 200, "headers": []}
        await send(start)
        await send({"type": "http.response.body", "body": b"first,", "more_body": True})
        # the second chunk only once the client holds the first: buffering would deadlock
        assert await asyncio.to_thread(first_read.wait, 10)
        await send({"type": "http.response.body", "body": b"second"})

    with (
        upstream(two_chunks) as upstream_url,
        proxy(upstream_url, tmp_path) as running,
        httpx.Client(timeout=10) as http,
        http.stream("GET", running.base_url + "/anywhere") as answer,
    ):
        chunks = answer.iter_raw()
        assert next(chunks) == b"first,"
        first_read.set()
        assert b"".join(chunks) == b"second"


def _start_of_an_answer(connection: socket.socket) -> None:
    connection.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
    )


def _start_then_silence(connection: socket.socket) -> None:
    _start_of_an_answer(connection)
    connection.recv(1)  # until the proxy hangs up (it never sends more)


@pytest.mark.parametrize(
    ("script", "says"),
    [
        (_start_of_an_answer, "the upstream closed the connection mid-answer"),
        (_start_then_silence, "no byte of the answer for 0.5 s"),
    ],
)
def test_an_upstream_that_breaks_mid_answer_breaks_the_clients_answer(
    tmp_path: Path, script: Callable[[socket.socket], None], says: str
) -> None:
    with (
        raw_upstream(script) as upstream_url,
        proxy(upstream_url, tmp_path, read_timeout=0.5) as running,
        httpx.Client(timeout=10) as http,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        http.get(running.base_url + API, headers=TOKEN_A)
    assert running.checks() == {("upstream", "error")}
    assert says in running.findings[0].message
