"""The proxy's size caps: a request body over the cap gets 413 PAYLOAD_TOO_LARGE and is
never forwarded; an upstream whose head or announced body breaks a cap gets the client a
502 UPSTREAM_UNAVAILABLE; an endless answer is cut at the cap; nothing is kept past it."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from kakaclo_client.models import ErrorCode
from starlette.types import Receive, Scope, Send

from kakaclo_spec import shipped_spec
from tests.proxy.servers import (
    Capturing,
    proxy,
    raw_upstream,
    sandbox_app,
    through_proxy,
    upstream,
)
from tests.sandbox.conftest import TOKEN_A

API = "/openapi/v2/order/orders"
CAP = 64 * 1024
CHUNK = 16 * 1024
ENDLESS = 64 * 1024 * 1024  # "endless", bounded: 1000 times the cap


def _endless_headers(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\n")
    line = b"X-Pad: " + b"a" * 1000 + b"\r\n"
    for _ in range(ENDLESS // len(line)):
        connection.sendall(line)


def _endless_header_line(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nX-Pad: ")
    for _ in range(ENDLESS // CHUNK):
        connection.sendall(b"a" * CHUNK)


def _endless_interim_answers(connection: socket.socket) -> None:
    for _ in range(ENDLESS // 25):
        connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")


def _huge_content_length(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 400000000\r\n\r\n{")


def _is_documented(answer: httpx.Response, status: int, operation: str = "queryOrders") -> None:
    assert answer.status_code == status
    assert shipped_spec().response_schema(operation, status).errors(answer.json()) == []


@pytest.mark.parametrize(
    ("script", "says"),
    [
        (_endless_headers, f"head is larger than the proxy's cap of {CAP} bytes"),
        (_endless_header_line, f"head is larger than the proxy's cap of {CAP} bytes"),
        (_endless_interim_answers, f"head is larger than the proxy's cap of {CAP} bytes"),
        (_huge_content_length, "Content-Length 400000000"),
    ],
)
def test_an_upstream_breaking_a_cap_before_its_body_gets_the_client_a_502(
    tmp_path: Path, script: Callable[[socket.socket], None], says: str
) -> None:
    with (
        raw_upstream(script) as upstream_url,
        proxy(upstream_url, tmp_path, max_head=CAP, max_answer_body=CAP) as running,
    ):
        answer = httpx.get(running.base_url + API, headers=TOKEN_A, timeout=10)
    _is_documented(answer, 502)
    assert answer.json()["code"] == ErrorCode.UPSTREAM_UNAVAILABLE
    assert says in answer.json()["message"]
    assert running.checks() == {("upstream", "error")}


async def _endless_chunked(scope: Scope, receive: Receive, send: Send) -> None:
    """200 JSON, chunked, that never ends (bounded: ENDLESS bytes)."""
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for _ in range(ENDLESS // CHUNK):
        await send({"type": "http.response.body", "body": b" " * CHUNK, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def test_an_endless_answer_is_cut_at_the_cap_and_recorded_up_to_it(tmp_path: Path) -> None:
    har = tmp_path / "run.har"
    received: list[bytes] = []
    statuses: list[int] = []

    def read(http: httpx.Client, url: str) -> None:
        with http.stream("GET", url, headers=TOKEN_A) as answer:
            statuses.append(answer.status_code)
            received.extend(answer.iter_raw())

    with (
        upstream(_endless_chunked) as upstream_url,
        proxy(upstream_url, tmp_path, record=har, max_answer_body=CAP) as running,
        httpx.Client(timeout=10) as http,
        pytest.raises(httpx.RemoteProtocolError),  # the answer under way broke
    ):
        read(http, running.base_url + API)
    assert statuses == [200] and sum(map(len, received)) <= CAP
    assert ("upstream", "error") in running.checks()
    assert any(f"larger than the proxy's cap of {CAP}" in f.message for f in running.findings)
    entry = json.loads(har.read_text())["log"]["entries"][0]
    content = entry["response"]["content"]
    assert len(content["text"]) == CAP and content["_cut"]["by"] == "cap"


@pytest.mark.parametrize("chunked", [False, True])
def test_a_request_body_over_the_cap_gets_413_and_is_never_forwarded(
    tmp_path: Path, chunked: bool
) -> None:
    capturing = Capturing(sandbox_app())
    big = b'{"remark": "' + b"x" * (4 * CAP) + b'"}'
    with through_proxy(
        capturing, tmp_path, TOKEN_A, record=tmp_path / "run.har", max_request_body=CAP
    ) as (running, http):
        content = iter([big[i : i + CHUNK] for i in range(0, len(big), CHUNK)]) if chunked else big
        refused = http.post(
            f"{API}/10001/refund", content=content, headers={"Content-Type": "application/json"}
        )
        within = http.post(f"{API}/10001/refund", json={"remark": "within the cap"})
    _is_documented(refused, 413, "refundOrder")
    assert refused.json()["code"] == ErrorCode.PAYLOAD_TOO_LARGE
    assert refused.json()["message"] == f"request body is larger than {CAP} bytes"
    assert within.status_code == 200
    assert len(capturing.answers) == 1  # the upstream saw only the request within the cap
    entries = json.loads((tmp_path / "run.har").read_text())["log"]["entries"]
    assert len(entries) == 1 and running.findings == []
