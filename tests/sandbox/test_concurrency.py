"""Concurrent refunds of one order never refund the same piece twice (over real HTTP)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.live import LiveSandbox
from tests.sandbox.conftest import TOKEN_A
from tests.sandbox.helpers import item, order, refund_url, refunds


def _fire(
    root: str, order_id: str, bodies: list[dict[str, Any]], headers: dict[str, str]
) -> list[tuple[int, int]]:
    start = threading.Barrier(len(bodies))

    def one(body: dict[str, Any]) -> tuple[int, int]:
        with httpx.Client(base_url=root, timeout=30.0) as http:
            start.wait()
            answer = http.post(refund_url(order_id), json=body, headers=headers)
            return answer.status_code, answer.json()["code"]

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, bodies))


def test_50_concurrent_whole_order_refunds_accept_exactly_one(live: LiveSandbox) -> None:
    outcomes = Counter(_fire(live.root, "10002", [{}] * 50, TOKEN_A))
    assert outcomes == {(200, 10000): 1, (409, 40905): 49}
    with httpx.Client(base_url=live.root) as http:
        assert len(refunds(http, TOKEN_A, "10002")) == 1
        lines = order(http, TOKEN_A, "10002")["orderItems"]
        assert all(line["refundStatus"] == "refunding" for line in lines)


def test_concurrent_partial_refunds_never_over_refund(live: LiveSandbox) -> None:
    bodies = [{"orderItems": [item("120071", 1)]}] * 12  # the line has 5 pieces
    outcomes = Counter(_fire(live.root, "10007", bodies, TOKEN_A))
    assert outcomes == {(200, 10000): 5, (409, 40904): 7}
    with httpx.Client(base_url=live.root) as http:
        http.post(
            "/_sandbox/clock/advance",
            params={"seconds": 10},
            headers={"Content-Type": "application/json"},
        )
        (line, _) = order(http, TOKEN_A, "10007")["orderItems"]
        assert line["refundStatus"] == "refunded"
        assert len(refunds(http, TOKEN_A, "10007")) == 5


def test_concurrent_requests_with_one_key_make_one_refund(live: LiveSandbox) -> None:
    headers = {**TOKEN_A, "Idempotency-Key": "one-key"}
    outcomes = _fire(live.root, "10008", [{"orderItems": [item("120081", 1)]}] * 20, headers)
    assert set(outcomes) <= {(200, 10000), (409, 40912)}
    assert (200, 10000) in outcomes
    with httpx.Client(base_url=live.root) as http:
        assert len(refunds(http, TOKEN_A, "10008")) == 1
