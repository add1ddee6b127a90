"""Through the proxy, a client gets exactly what the upstream answered, and a clean
upstream gives no finding: the vendor's flows, compressed bodies, hop-by-hop headers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import httpx
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Receive, Scope, Send

from tests.proxy.servers import Capturing, proxy, sandbox_app, through_proxy, upstream
from tests.sandbox.conftest import TOKEN_A, TOKEN_B
from tests.sandbox.helpers import PARTIAL_BODY, item

API = "/openapi/v2/order/orders"
# Added by the upstream's server on the wire, after the app (the Capturing wrapper) sent it.
WIRE = {"date", "server"}


def _vendor_flows(http: httpx.Client, root: str) -> list[httpx.Response]:
    """The vendor's page, step by step, and its failure paths."""
    return [
        http.get(API, params={"ids": "10001,10002"}),
        http.post(f"{API}/10001/refund", json=PARTIAL_BODY),
        http.get(f"{API}/refund/10001"),
        http.post(f"{API}/10001/refund", json={"orderItems": [item("120001", 99)]}),  # 409
        http.post(f"{API}/10002/refund", json={}),  # the whole order
        http.post(f"{API}/99999/refund", json={}),  # 404
        http.get(f"{API}/refund/10001", headers={"Authorization": "Bearer nobody"}),  # 401
        http.post(
            f"{API}/10001/refund",
            content=b'{"remark": ',
            headers={"Content-Type": "application/json"},
        ),  # 400
        http.get(f"{API}/refund/10001", params={"pageSize": 1, "pageNumber": 2}),
        http.get(f"{API}/refund/20001", headers=TOKEN_B),
        httpx.post(
            f"{root}/_sandbox/clock/advance?seconds=3600",
            headers={"Content-Type": "application/json"},
        ),
        http.get(f"{API}/refund/10001"),
        http.get(API, params={"ids": "10001"}),
        http.delete(API),  # 405: a method the path has not
    ]


def _end_to_end(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(k.lower(), v) for k, v in headers.multi_items() if k.lower() not in WIRE]


def test_answers_are_the_upstreams_byte_for_byte_and_give_no_finding(tmp_path: Path) -> None:
    capturing = Capturing(sandbox_app())
    with through_proxy(capturing, tmp_path, TOKEN_A) as (running, http):
        answers = _vendor_flows(http, running.base_url.removesuffix("/openapi"))
    assert len(answers) == len(capturing.answers)
    for got, sent in zip(answers, capturing.answers, strict=True):
        assert got.status_code == sent.status
        assert got.content == sent.body
        assert _end_to_end(got.headers) == [(k.lower(), v) for k, v in sent.headers]
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200, 200, 200, 409, 200, 404, 401, 400, 200, 200, 200, 200, 200, 405]
    assert json.loads(answers[11].content)["data"]["list"][0]["refundStatus"] == (
        "refund_successfully"
    )
    assert running.findings == []
    summary = running.summary()
    assert summary["passed"] is True and summary["errors"] == summary["warnings"] == 0
    assert summary["exchanges"]["control surface"] == 1
    assert sum(summary["exchanges"].values()) == len(answers)


def test_compressed_bodies_pass_undecoded_and_are_checked_decoded(tmp_path: Path) -> None:
    capturing = Capturing(GZipMiddleware(sandbox_app(), minimum_size=0))
    with (
        through_proxy(capturing, tmp_path, TOKEN_A) as (running, http),
        http.stream("GET", API, headers={"Accept-Encoding": "gzip"}) as answer,
    ):
        raw = b"".join(answer.iter_raw())
        encoding = answer.headers["content-encoding"]
    assert encoding == "gzip"
    assert raw == capturing.answers[0].body
    assert json.loads(gzip.decompress(raw))["code"] == 10000
    assert running.findings == []
    assert running.summary()["checks"]  # the decoded body was checked, not skipped
    assert all(row["passed"] == 1 for row in running.summary()["checks"])


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers the request headers it got, with hop-by-hop headers of its own."""
    if scope["type"] != "http":
        return
    seen = {k.decode(): v.decode() for k, v in scope["headers"]}
    body = json.dumps(seen).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"connection", b"X-Upstream-Hop"),
                (b"x-upstream-hop", b"1"),
                (b"keep-alive", b"timeout=5"),
                (b"x-end-to-end", b"kept"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def test_hop_by_hop_headers_stay_on_their_hop(tmp_path: Path) -> None:
    with upstream(_echo) as upstream_url, proxy(upstream_url, tmp_path) as running:
        answer = httpx.get(
            running.base_url + "/echo",
            headers={
                "Connection": "keep-alive, X-Client-Hop",
                "X-Client-Hop": "1",
                "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0",
                "X-Kept": "yes",
            },
        )
    seen = answer.json()
    assert "x-client-hop" not in seen and "proxy-authorization" not in seen
    assert seen["x-kept"] == "yes" and seen["via"] == "1.1 kakaclo-proxy"
    assert "x-upstream-hop" not in answer.headers and "keep-alive" not in answer.headers
    assert answer.headers["x-end-to-end"] == "kept"
    # /echo is no path of the spec: forwarded, and reported as a warning only
    assert running.checks() == {("operation", "warning")}
