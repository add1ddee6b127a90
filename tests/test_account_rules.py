"""The account walk's rules (kakaclo_contract.account) on the vendor's real bodies and on breaks.

A rule that failed a real body would fail the real vendor by mistake; each
rule is also shown to catch the one break it exists for.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kakaclo_contract import account
from kakaclo_contract.account import PageRead
from kakaclo_contract.spec_check import envelope_problem

VENDOR = Path(__file__).parent / "fixtures" / "vendor"
ORDER_BODIES = sorted(VENDOR.glob("query-order-*.json"))


def _body(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def _by_id(entry: Any) -> object:
    return entry.get("id") if isinstance(entry, dict) else entry


@pytest.mark.parametrize("path", ORDER_BODIES, ids=lambda p: p.stem)
def test_every_rule_holds_on_the_vendors_order_bodies(path: Path) -> None:
    body = _body(path)
    assert envelope_problem("queryOrders", 200, body) is None
    data = body["data"]
    page = PageRead(data["pageNumber"], data["pageSize"], data)
    assert account.paging_problems("vendor", [page], _by_id, complete=True) == []
    for order in data["list"]:
        assert account.amount_problems(order) == []
        # the vendor's refunds of these orders are not known: only what one body shows
        assert account.status_problems(order, [], complete=False) == []


def test_every_rule_holds_on_the_vendors_refund_body() -> None:
    body = _body(VENDOR / "query-refund.json")
    assert envelope_problem("queryRefund", 200, body) is None
    data = body["data"]
    page = PageRead(data["pageNumber"], data["pageSize"], data)
    assert account.paging_problems("vendor", [page], _by_id, complete=True) == []


def test_the_envelope_rule() -> None:
    assert envelope_problem("queryOrders", 200, {"code": 10001, "message": "ok"})
    assert envelope_problem("queryRefund", 404, {"code": 40101, "message": "x"})
    assert envelope_problem("queryRefund", 404, {"code": 40401, "message": "x"}) is None
    assert envelope_problem("refundOrder", 409, {"code": 40904, "message": "x"}) is None
    assert envelope_problem("refundOrder", 200, {"code": True, "message": "x"})
    assert envelope_problem("queryOrders", 404, {"code": 40401}) is None  # not documented


def _pages(total: int, size: int, ids: list[list[str]]) -> list[PageRead]:
    return [
        PageRead(
            n,
            size,
            {
                "total": total,
                "pageNumber": n,
                "pageSize": size,
                "list": [{"id": i} for i in listed],
            },
        )
        for n, listed in enumerate(ids, start=1)
    ]


def test_paging_rules() -> None:
    good = _pages(5, 2, [["1", "2"], ["3", "4"], ["5"], []])
    assert account.paging_problems("orders", good, _by_id, complete=True) == []
    overlap = _pages(5, 2, [["1", "2"], ["1", "2"], ["5"]])
    assert any(
        "also on page 1" in p for p in account.paging_problems("o", overlap, _by_id, complete=True)
    )
    off_by_one = _pages(6, 2, [["1", "2"], ["3", "4"], ["5"]])
    assert account.paging_problems("o", off_by_one, _by_id, complete=True)
    too_long = _pages(5, 2, [["1", "2"], ["3", "4"], ["5", "1"]])
    assert account.paging_problems("o", too_long, _by_id, complete=True)
    not_echoed = copy.deepcopy(good)
    not_echoed[1].data["pageSize"] = 10
    assert any(
        "pageSize" in p for p in account.paging_problems("o", not_echoed, _by_id, complete=True)
    )
    totals = copy.deepcopy(good)
    totals[2].data["total"] = 4
    assert any(
        "different totals" in p
        for p in account.paging_problems("o", totals, _by_id, complete=False)
    )


def _order(refund_status: str, lines: list[str], **amounts: float) -> dict[str, Any]:
    return {
        "id": "10001",
        "refundStatus": refund_status,
        "orderItems": [{"id": f"l{i}", "refundStatus": s} for i, s in enumerate(lines)],
        **amounts,
    }


def _refund(status: str, order_id: str = "10001") -> dict[str, Any]:
    return {"refundNo": "1", "refundStatus": status, "id": order_id}


@pytest.mark.parametrize(
    ("order", "refunds", "complete", "fine"),
    [
        (_order("NULL", ["NULL"]), [], True, True),
        (_order("refunding", ["refunding"]), [_refund("pending_review")], True, True),
        (
            _order("partial_refund", ["refunded", "NULL"]),
            [_refund("refund_successfully")],
            True,
            True,
        ),
        (_order("refunded", ["refunded"]), [_refund("refund_successfully")], True, True),
        (_order("NULL", ["NULL"]), [_refund("refund_failed")], True, True),
        (_order("partial_refund", ["refunded"]), [_refund("pending_review")], False, False),
        (_order("NULL", ["NULL"]), [_refund("refund_successfully")], True, False),
        (_order("refunding", ["NULL"]), [], True, False),
        (_order("partial_refund", ["refunded"]), [_refund("refund_failed")], True, False),
        (_order("refunded", ["refunded", "NULL"]), [_refund("refund_successfully")], False, False),
        (_order("NULL", ["refunding"]), [], True, False),
        (_order("NULL", ["NULL"]), [_refund("refund_failed", "10002")], False, False),
        (_order("NULL", ["NULL"], refundedAmount=1.5), [_refund("refund_failed")], True, False),
    ],
)
def test_refund_statuses_against_their_order(
    order: dict[str, Any], refunds: list[dict[str, Any]], complete: bool, fine: bool
) -> None:
    problems = account.status_problems(order, refunds, complete=complete)
    assert (problems == []) is fine, problems


def test_amount_rules() -> None:
    order: dict[str, Any] = {
        "id": "1",
        "subTotalAmount": 14.46,
        "freightAmount": 2.5,
        "couponAmount": 1.0,
        "finalAmount": 15.96,
        "refundedAmount": 7.23,
        "refundableAmount": 8.73,
        "orderItems": [{"id": "a", "amount": 7.23, "productNum": 2, "total": 14.46}],
    }
    assert account.amount_problems(order) == []
    for key, value in [
        ("finalAmount", 16.96),
        ("refundableAmount", 8.74),
        ("refundedAmount", 17.0),
        ("subTotalAmount", 14.47),
    ]:
        assert account.amount_problems({**order, key: value}), key
    wrong_line = copy.deepcopy(order)
    wrong_line["orderItems"][0]["total"] = 7.23
    assert account.amount_problems(wrong_line)


def test_time_filters_include_their_boundaries() -> None:
    orders: list[dict[str, Any]] = [
        {"id": "1", "createDate": "2026-11-01T00:00:00Z"},
        {"id": "2", "createDate": None},
    ]
    at = account.instant("2026-11-01T00:00:00Z")
    assert account.filtered(orders, "createDate", at, at) == {"1"}
    assert (
        account.filtered(orders, "createDate", None, account.instant("2026-10-31T23:59:59Z"))
        == set()
    )
