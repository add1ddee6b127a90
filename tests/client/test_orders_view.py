"""kakaclo_refunds hands out clean orders, alike from the vendor's forms and clean answers."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from kakaclo_client.models import (
    CountryCode,
    FulfillmentStatus,
    ItemRefundStatus,
    OrderRefundStatus,
    OrderStatus,
    QueryOrderResponse,
)

from kakaclo_refunds import Item, KakacloClient, Option, Order, clean_order
from kakaclo_refunds.orders import parse_option

VENDOR = Path(__file__).resolve().parents[1] / "fixtures" / "vendor"
REAL_ORDERS = sorted(VENDOR.glob("query-order-*.json"))
# what the vendor leaves out of an order without a refund (the spec's Order says so)
LEFT_OUT = {"currency_code", "coupon_amount", "promotion_amount"}
LINE_LEFT_OUT = {"stock_status", "fulfillment_status"}


def _from_fixture(path: Path) -> Order:
    return clean_order(QueryOrderResponse.from_dict(json.loads(path.read_text())).data.list_[0])


@pytest.mark.parametrize("path", REAL_ORDERS, ids=[p.stem for p in REAL_ORDERS])
def test_real_bodies_become_clean_values(path: Path) -> None:
    order = _from_fixture(path)
    text = json.dumps(order.to_json())
    assert '"NULL"' not in text and '\\"name\\"' not in text
    assert order.refund_status is None
    assert all(line.refund_status is None for line in order.lines)
    assert isinstance(order.final_amount, Decimal) or order.final_amount is None


def test_a_real_unshipped_order_in_detail() -> None:
    order = _from_fixture(VENDOR / "query-order-waiting-to-ship.json")
    assert order.status is OrderStatus.PROCESSING
    assert order.fulfillment_status is FulfillmentStatus.WAITING_TO_SHIP
    assert (order.final_amount, order.freight_amount) == (Decimal("22.21"), Decimal("9.1"))
    # left out by the vendor because nothing is refunded: 0 and the final amount
    assert (order.refunded_amount, order.refundable_amount) == (Decimal(0), Decimal("22.21"))
    assert order.pay_date is not None and order.pay_date.tzinfo is not None
    first = order.lines[0]
    assert first.country_code is CountryCode.CN
    assert first.options == (Option("color", "Champlain color"), Option("size", "S"))
    assert order.line("1094224").sku_code == "AMN01214_B_S_AK"
    assert order.raw.refund_status == OrderRefundStatus.NULL  # the wire form stays at hand
    assert order.to_json()["orderItems"][0]["options"][1] == {"name": "size", "value": "S"}


def test_parcels_name_their_lines() -> None:
    order = _from_fixture(VENDOR / "query-order-shipped.json")
    assert [parcel.line_ids for parcel in order.parcels] == [("1094004", "1094003")]
    assert all(line.country_code is None for line in order.lines)  # the vendor sends none


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ('{"name":"print", "value":""}', Option("print", "")),
        ('{"name":"size","value":42}', Option("size", "42")),
        ("Red", Option(None, "Red")),
        ('["not", "an", "object"]', Option(None, '["not", "an", "object"]')),
    ],
)
def test_options_that_are_not_the_usual_form_keep_their_text(text: str, option: Option) -> None:
    assert parse_option(text) == option


def _views(client: KakacloClient, order_id: str) -> dict[str, Any]:
    order = client.get_order(order_id)
    view = {k: v for k, v in dataclasses.asdict(order).items() if k not in {"raw", "lines"}}
    view["lines"] = [
        {k: v for k, v in dataclasses.asdict(line).items() if k != "raw"} for line in order.lines
    ]
    return view


@pytest.mark.parametrize("order_id", ["10001", "10005", "1000000387523"])
def test_vendor_forms_and_clean_answers_give_the_same_order(
    make_app: Callable[..., Any], make_client: Callable[..., KakacloClient], order_id: str
) -> None:
    token = "demo-token-vendor" if len(order_id) > 5 else "demo-token"  # the twins
    vendor = _views(make_client(make_app(), token=token), order_id)
    clean = _views(make_client(make_app(clean=True), token=token), order_id)
    if vendor["refund_status"] is None:  # the fields the vendor leaves out are None
        assert all(vendor[key] is None for key in LEFT_OUT)
        assert all(line[key] is None for line in vendor["lines"] for key in LINE_LEFT_OUT)
        for view in (vendor, clean):
            for key in LEFT_OUT:
                view.pop(key)
            for line in view["lines"]:
                for key in LINE_LEFT_OUT:
                    line.pop(key)
    assert vendor == clean


def test_a_refund_shows_in_clean_statuses(client: KakacloClient) -> None:
    client.refund_order("10001", [Item("120001", "FSZW08923_R_L_NUB", 1, "CN")])
    order = client.get_order("10001")
    assert order.refund_status is OrderRefundStatus.REFUNDING
    assert [line.refund_status for line in order.lines] == [ItemRefundStatus.REFUNDING, None]
    assert order.refunded_amount == 0 and order.refundable_amount == Decimal("45.25")


@pytest.mark.parametrize(
    ("order_id", "why"),
    [
        ("10001", None),
        ("10003", "shipped"),
        ("10004", "not paid"),
        ("10005", "partly shipped"),
        ("10006", "cancelled"),
    ],
)
def test_what_cannot_be_refunded_says_why(client: KakacloClient, order_id: str, why: str) -> None:
    order = client.get_order(order_id)
    assert order.not_refundable == why
    assert order.to_json()["notRefundable"] == why


def test_a_refunded_order_cannot_be_refunded(client: KakacloClient, clock: Any) -> None:
    client.refund_order("10002")
    assert client.get_order("10002").not_refundable is None  # pending: Query Order cannot tell
    clock.sleep(24 * 3600)  # the refund settles
    order = client.get_order("10002")
    assert order.refund_status == OrderRefundStatus.REFUNDED
    assert order.not_refundable == "already refunded"


def test_a_line_says_how_many_pieces_its_refund_may_hold(client: KakacloClient, clock: Any) -> None:
    client.refund_order("10001", [Item("120002", "FSZW08923_R_L_NUB", 2, "US")])
    order = client.get_order("10001")
    line = next(line for line in order.lines if line.item_id == "120002")
    assert line.refund_status == ItemRefundStatus.REFUNDING and line.product_num == 3
    assert order.line_refund(line) == "refunding (1-3 of 3)"  # 2 of 3: Query Order cannot say
    untouched = next(line for line in order.lines if line.item_id == "120001")
    assert order.line_refund(untouched) is None
