"""What the console says cannot be refunded: the refund rules' own words, and taken lines."""

from __future__ import annotations

import pytest

from kakaclo_sandbox.domain.orders import StoredLine, StoredOrder
from kakaclo_sandbox.domain.refunds import RefundRules
from kakaclo_sandbox.web.console import refusal, taken


def _line(product_num: int = 2, reserved: int = 0, refunded: int = 0) -> StoredLine:
    return StoredLine(
        key=1,
        id="1",
        item_id="120001",
        sku_code="SKU",
        country_code="CN",
        product_name=None,
        image_url=None,
        option1=None,
        option2=None,
        option3=None,
        amount_e4=10_000,
        product_num=product_num,
        stock_status="normal",
        reserved=reserved,
        refunded=refunded,
    )


@pytest.mark.parametrize(
    ("status", "financial", "fulfillment", "why"),
    [
        ("processing", "paid", "waiting_to_ship", None),
        ("waiting_payment", "waiting", "waiting_to_ship", "financialStatus is waiting"),
        ("cancel", "paid", "waiting_to_ship", "status is cancel"),
        ("processing", "paid", "partially_shipped", "fulfillmentStatus is partially_shipped"),
    ],
)
def test_an_order_the_rules_refuse_says_their_reason(
    status: str, financial: str, fulfillment: str, why: str | None
) -> None:
    order = StoredOrder(
        key=1,
        id="10001",
        custom_order_id=None,
        remark=None,
        status=status,
        financial_status=financial,
        fulfillment_status=fulfillment,
        warehouse_id=None,
        currency_code="USD",
        freight_e4=0,
        coupon_e4=0,
        promotion_e4=0,
        pending_refunds=0,
        purchase_date=None,
        pay_date=None,
        create_date=0.0,
        modify_date=0.0,
        cancel_date=None,
        refund_date=None,
        shipping_address="null",
        fulfillments=None,
        lines=(_line(),),
    )
    assert refusal(RefundRules(), order) == why


@pytest.mark.parametrize(
    ("reserved", "refunded", "why"),
    [
        (1, 1, None),
        (2, 2, "every piece is refunded"),
        (2, 0, "every piece is in a pending refund"),
        (2, 1, "1 refunded, 1 in a pending refund"),
    ],
)
def test_a_line_with_nothing_left_says_where_its_pieces_are(
    reserved: int, refunded: int, why: str | None
) -> None:
    assert taken(_line(2, reserved, refunded)) == why
