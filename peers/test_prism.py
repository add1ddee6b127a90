"""Stoplight Prism 5.16: its proxy finds nothing wrong with the sandbox, its mock fails our suite.

``prism proxy`` in front of a sandbox validates every exchange against
openapi.yaml and reports what breaks it in an ``sl-violations`` header. The
README's flows, and the 401, 404, 409 and 429 answers, pass through it
without one. (Prism answers requests it finds invalid itself, with 422, and
hangs on malformed JSON: those stay out.) A server that breaks the spec
behind the same proxy is flagged, so the check can fail. Then ``kakaclo
contract`` against ``prism mock``, which serves at its root with answers made
up from the examples and schemas, must fail (exit 1) and name its checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.servers import RewriteResponses, ThreadServer
from kakaclo_sandbox import create_app
from peers.conftest import SPEC, SandboxFactory, contract_against, npm_tool, serving
from tests.live import free_port

API = "/openapi/v2/order/orders"
VENDOR_EXAMPLE = {
    "remark": "test",
    "refundReason": "Other",
    "orderItems": [
        {"itemId": "120001", "skuCode": "FSZW08923_R_L_NUB", "quantity": 1, "countryCode": "CN"},
        {"itemId": "120002", "skuCode": "FSZW08923_R_L_NUB", "quantity": 2, "countryCode": "US"},
    ],
}


def prism_proxy(upstream_base: str, log: Path) -> Any:
    """``prism proxy`` of openapi.yaml in front of ``upstream_base`` (a context manager)."""
    port = free_port()
    command = [npm_tool("@stoplight/prism-cli"), "proxy", str(SPEC), upstream_base, "-p", str(port)]
    return serving(command, port, log)


def flows(proxy_root: str) -> list[tuple[str, int, str | None]]:
    """The README's flows and the documented refusals through the proxy:
    (what, status, the sl-violations header if any)."""
    auth = {"Authorization": "Bearer demo-token"}
    seen = []
    with httpx.Client(base_url=proxy_root, headers=auth, timeout=30) as http:

        def send(what: str, method: str, path: str, **options: Any) -> None:
            answer = http.request(method, path, **options)
            seen.append((what, answer.status_code, answer.headers.get("sl-violations")))

        send("the vendor's refund example", "POST", f"{API}/10001/refund", json=VENDOR_EXAMPLE)
        send("Query Refund of 10001", "GET", f"{API}/refund/10001")
        send(
            "a whole-order refund, keyed",
            "POST",
            f"{API}/10002/refund",
            json={"remark": "other reason"},
            headers={"Idempotency-Key": "peers-prism-1"},
        )
        send(
            "its replay",
            "POST",
            f"{API}/10002/refund",
            json={"remark": "other reason"},
            headers={"Idempotency-Key": "peers-prism-1"},
        )
        send("Query Order, a page", "GET", API, params={"pageSize": 3, "pageNumber": 2})
        send("Query Order by ids", "GET", API, params={"ids": "10001,10002"})
        send("401", "GET", API, headers={"Authorization": "Bearer not-a-token"})
        send("404", "GET", f"{API}/refund/99999")
        send("409", "POST", f"{API}/10003/refund", json={})
        send("429", "GET", API, headers={"Prefer": "code=429"})
    return seen


def test_prisms_proxy_finds_nothing_wrong_with_the_sandbox(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    live = sandbox()
    with prism_proxy(live.base_url, tmp_path / "prism-proxy.log") as root:
        seen = flows(root)
    assert [status for _, status, _ in seen] == [200, 200, 200, 200, 200, 200, 401, 404, 409, 429]
    assert [(what, v) for what, _, v in seen if v] == [], (
        tmp_path / "prism-proxy.log"
    ).read_text()[-3000:]


def _total_as_text(status: int, body: bytes) -> tuple[int, str, bytes] | None:
    data = json.loads(body)
    if status != 200 or not isinstance(data.get("data"), dict):
        return None
    data["data"]["total"] = "many"
    return 200, "application/json", json.dumps(data).encode()


def test_prisms_proxy_flags_a_server_that_breaks_the_spec(tmp_path: Path) -> None:
    broken = RewriteResponses(create_app(db=":memory:", rate_limit=None), _total_as_text)
    with (
        ThreadServer(broken) as upstream,
        prism_proxy(upstream.base_url, tmp_path / "p.log") as root,
    ):
        seen = flows(root)
    flagged = {what for what, _, violations in seen if violations and "data.total" in violations}
    assert {"Query Refund of 10001", "Query Order, a page", "Query Order by ids"} <= flagged


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    command = [npm_tool("@stoplight/prism-cli"), "mock", str(SPEC), "-p", str(port)]
    with serving(command, port, tmp_path / "prism-mock.log") as root:
        yield root


def test_our_suite_fails_prisms_mock_naming_its_checks(mock: str, tmp_path: Path) -> None:
    contract_against(mock, "demo-token", tmp_path)
