"""The proxy's size caps: a request body over the cap gets 413 PAYLOAD_TOO_LARGE and is
never forwarded; an upstream whose head or announced body breaks a cap gets the client a
502 UPSTREAM_UNAVAILABLE; an endless answer is cut at the cap; nothing is kept past it."""

from __future__ import annotations

import gzip
import json
import socket
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from kakaclo_client.models import ErrorCode
from starlette.types import ASGIApp, Receive, Scope, Send

from kakaclo_proxy.checks import ExchangeChecker
from kakaclo_proxy.exchange import Exchange
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


MIB = 1024 * 1024
BOMB = 64 * MIB  # decoded; about 64 KiB once compressed
REFUND_OK = {"code": 10000, "message": "success", "data": None}


def _bomb() -> bytes:
    return gzip.compress(b"\0" * BOMB, compresslevel=9, mtime=0)  # the same bytes each call


def _bombing(request_body: bool) -> ASGIApp:
    """200 to any request; its answer (or, with ``request_body``, only the request) a bomb."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        headers = [(b"content-type", b"application/json")]
        body = json.dumps(REFUND_OK).encode()
        if not request_body:
            headers.append((b"content-encoding", b"gzip"))
            body = _bomb()
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def test_a_gzip_bomb_answer_is_passed_on_whole_and_not_checked_past_the_cap(
    tmp_path: Path,
) -> None:
    bomb = _bomb()
    har = tmp_path / "run.har"
    with (
        upstream(_bombing(request_body=False)) as upstream_url,
        proxy(upstream_url, tmp_path, record=har, max_answer_body=MIB) as running,
        httpx.Client(timeout=10) as http,
        http.stream("GET", running.base_url + API, headers=TOKEN_A) as answer,
    ):
        passed_on = b"".join(answer.iter_raw())
    assert passed_on == bomb  # the client gets the answer as it came
    assert [(f.check, f.severity, f.message) for f in running.findings] == [
        (
            "upstream",
            "error",
            "the answer's gzip body decodes to more than 1 MiB "
            "(the proxy's cap, --max-answer-body), so it was not checked",
        )
    ]
    content = json.loads(har.read_text())["log"]["entries"][0]["response"]["content"]
    assert content["text"] == "" and "decodes to more than 8 MiB" in content["comment"]


def test_a_gzip_bomb_request_body_the_upstream_accepts_is_a_finding_not_checked(
    tmp_path: Path,
) -> None:
    with through_proxy(_bombing(request_body=True), tmp_path, TOKEN_A) as (running, http):
        answer = http.post(
            f"{API}/10001/refund",
            content=_bomb(),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
    assert answer.status_code == 200
    assert (
        "request-body",
        "error",
        "answered 200 to a request the spec refuses: the request's gzip body decodes to "
        "more than 1 MiB (the proxy's cap, --max-request-body), so it was not checked",
    ) in [(f.check, f.severity, f.message) for f in running.findings]


def _exchange(path: str, request_body: bytes, answer_body: bytes, gzipped: str) -> Exchange:
    """A 200 to ``path``; ``gzipped`` names the body that is gzip-coded (``request``,
    ``answer`` or neither)."""
    json_type = [("Content-Type", "application/json")]
    coded = [("Content-Encoding", "gzip")]
    return Exchange(
        "POST" if request_body else "GET", path, "",
        [*TOKEN_A.items(), *json_type, *(coded if gzipped == "request" else [])], request_body,
        200, [*json_type, *(coded if gzipped == "answer" else [])], answer_body, 0.0, 0.0,
    )  # fmt: skip


@pytest.mark.parametrize("gzipped", ["request", "answer"])
def test_checking_a_bomb_holds_no_more_than_the_cap_decoded(gzipped: str) -> None:
    checker = ExchangeChecker(shipped_spec(), "/openapi", max_request_body=MIB, max_answer_body=MIB)
    refund, answer = f"/openapi{API}/10001/refund", json.dumps(REFUND_OK).encode()
    checker.check(_exchange(refund, b"{}", answer, "neither"))  # compiles what it needs
    if gzipped == "request":
        exchange = _exchange(refund, _bomb(), answer, gzipped)
    else:
        exchange = _exchange(f"/openapi{API}", b"", _bomb(), gzipped)
    tracemalloc.start()
    try:
        verdict = checker.check(exchange)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert any("decodes to more than 1 MiB" in f.message for f in verdict.findings)
    # The cap decoded, and a copy of it at most: never the 64 MiB the bomb holds.
    assert peak < 4 * MIB, peak
