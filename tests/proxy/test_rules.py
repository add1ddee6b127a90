"""The cross-exchange rules on their own: errors when the proxy saw an order's whole history,
warnings when it cannot have, and a memory that stays bounded."""

from __future__ import annotations

import json
from typing import Any

from kakaclo_proxy.exchange import Exchange
from kakaclo_proxy.rules import QUERY_REFUND, REFUND_ORDER, Observations

MERCHANT = "Bearer redacted-a"


def _exchange(started: float, body: dict[str, Any]) -> Exchange:
    return Exchange(
        "GET",
        "/x",
        "",
        [],
        b"",
        200,
        [],
        json.dumps(body).encode(),
        started,
        0.01,
        merchant=MERCHANT,
    )


def _refund(observations: Observations, number: str, at: float) -> None:
    body = {"code": 10000, "data": number}
    observations.observe(_exchange(at, body), REFUND_ORDER, {"id": "10001"}, body)


def _listing(observations: Observations, at: float, *refunds: tuple[str, str]) -> list[str]:
    body = {
        "code": 10000,
        "data": {
            "total": len(refunds),
            "pageNumber": 1,
            "pageSize": 10,
            "list": [{"refundNo": n, "refundStatus": s} for n, s in refunds],
        },
    }
    findings, _ = observations.observe(
        _exchange(at, body), QUERY_REFUND, {"id": "10001", "pageNumber": 1, "pageSize": 10}, body
    )
    return [f"{finding.check} {finding.severity}" for finding in findings]


def test_a_refund_missing_from_a_whole_listing_is_an_error_when_every_refund_was_seen() -> None:
    observations = Observations()
    _refund(observations, "1", at=1.0)
    assert _listing(observations, 2.0, ("1", "pending_review")) == []
    assert _listing(observations, 3.0) == ["refund-listed error"]


def test_a_refund_answered_after_the_listing_began_is_not_expected_in_it() -> None:
    observations = Observations()
    _refund(observations, "1", at=5.0)
    assert _listing(observations, 4.0) == []


def test_with_refunds_the_proxy_did_not_see_created_the_same_findings_are_warnings() -> None:
    observations = Observations()
    _refund(observations, "1", at=1.0)
    assert _listing(observations, 2.0, ("1", "refund_successfully"), ("9", "pending_review")) == []
    assert _listing(observations, 3.0, ("1", "pending_review"), ("9", "pending_review")) == [
        "settled-final warning"
    ]
    assert _listing(observations, 4.0, ("9", "pending_review")) == ["refund-listed warning"]


def test_a_settled_refund_that_changes_is_an_error_and_a_reset_forgets_it() -> None:
    observations = Observations()
    _refund(observations, "1", at=1.0)
    assert _listing(observations, 2.0, ("1", "refund_failed")) == []
    assert _listing(observations, 3.0, ("1", "refund_successfully")) == ["settled-final error"]
    observations.reset()
    assert _listing(observations, 4.0, ("1", "pending_review")) == []


def test_the_order_views_are_bounded_least_recently_seen_first() -> None:
    observations = Observations(max_orders=3)
    for order in range(10):
        observations.view(MERCHANT, str(order))
    observations.view(MERCHANT, "7")  # seen again: kept
    observations.view(MERCHANT, "10")
    assert list(observations.orders) == [(MERCHANT, "9"), (MERCHANT, "7"), (MERCHANT, "10")]
