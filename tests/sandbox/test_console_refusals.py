"""What the console says cannot be refunded: the refund rules' own words, and taken lines."""

from __future__ import annotations

from typing import Any

import pytest

from kakaclo_sandbox.domain.refunds import RefundRules
from kakaclo_sandbox.web.console import refusal, taken


def _line(product_num: int = 2, reserved: int = 0, refunded: int = 0) -> dict[str, Any]:
    return {
        "pk": 1,
        "id": "1",
        "item_id": "120001",
        "sku_code": "SKU",
        "country_code": "CN",
        "product_num": product_num,
        "reserved": reserved,
        "refunded": refunded,
    }


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
    row = {
        "pk": 1,
        "id": "10001",
        "status": status,
        "financial_status": financial,
        "fulfillment_status": fulfillment,
    }
    assert refusal(RefundRules(), row, [_line()]) == why


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
