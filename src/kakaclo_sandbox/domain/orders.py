"""The plain values the refund rules decide on, and storage reads and writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


# slots, not frozen: built on every refund, and a frozen dataclass's __init__ costs
# four times as much. Nothing changes one once built.
@dataclass(slots=True)
class Line:
    """One order line as the refund rules see it."""

    id: str
    item_id: str
    sku_code: str
    country_code: str | None
    product_num: int
    reserved: int  # pieces in pending or successful refunds
    key: int  # storage's own key of the line (its id is unique only within a merchant)

    @property
    def refundable(self) -> int:
        """Pieces not yet in a pending or successful refund."""
        return self.product_num - self.reserved


# slots, not frozen, as Line
@dataclass(slots=True)
class OrderState:
    """What the refund rules need to know about an order."""

    id: str
    status: str
    financial_status: str
    fulfillment_status: str
    lines: tuple[Line, ...]
    key: int  # storage's own key of the order (its id is unique only within a merchant)


@dataclass(frozen=True)
class PendingRefund:
    """A refund waiting for settlement, with the pieces it holds (line key -> quantity),
    its order and lines named by storage's keys."""

    seq: int
    order_key: int
    remark: str | None
    settle_at: float
    pieces: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class StoredAnswer:
    """The answer stored under a key: what the key covered, and the refund it made."""

    fingerprint: str
    refund_no: str


# What the reads give the renderer and the console: plain values, never a storage row.
# NamedTuples: immutable like a frozen dataclass, and built from a row's values at
# the cost of a tuple (a page of orders builds hundreds of them).
class StoredLine(NamedTuple):
    """One order line as Query Order and the console show it (amounts in ten-thousandths)."""

    key: int  # storage's own key of the line
    id: str
    item_id: str
    sku_code: str
    country_code: str | None
    product_name: str | None
    image_url: str | None
    option1: str | None
    option2: str | None
    option3: str | None
    amount_e4: int
    product_num: int
    stock_status: str
    reserved: int  # pieces in pending or successful refunds
    refunded: int  # pieces in successful refunds


class StoredOrder(NamedTuple):
    """One order with its lines, as Query Order and the console show it.

    ``shipping_address`` and ``fulfillments`` are the JSON texts stored (the
    renderer parses them, and keeps the parsed addresses).
    """

    key: int  # storage's own key of the order
    id: str
    custom_order_id: str | None
    remark: str | None
    status: str
    financial_status: str
    fulfillment_status: str
    warehouse_id: int | None
    currency_code: str
    freight_e4: int
    coupon_e4: int
    promotion_e4: int
    pending_refunds: int
    purchase_date: float | None
    pay_date: float | None
    create_date: float
    modify_date: float
    cancel_date: float | None
    refund_date: float | None
    shipping_address: str
    fulfillments: str | None
    lines: tuple[StoredLine, ...]


@dataclass(frozen=True, slots=True)
class StoredRefund:
    """One refund as Query Refund lists it."""

    refund_no: str
    order_id: str
    status: str
    remark: str | None


@dataclass(frozen=True)
class NewLine:
    """One order line to store (amounts in ten-thousandths)."""

    id: str
    item_id: str
    sku_code: str
    country_code: str | None
    product_name: str | None
    image_url: str | None
    options: tuple[str | None, str | None, str | None]
    amount_e4: int
    product_num: int
    stock_status: str


@dataclass(frozen=True)
class NewOrder:
    """One order to store, as a data file or the control surface gives it."""

    id: str
    merchant: str
    custom_order_id: str | None
    remark: str | None
    status: str
    financial_status: str
    fulfillment_status: str
    warehouse_id: int | None
    currency_code: str
    freight_e4: int
    coupon_e4: int
    promotion_e4: int
    purchase_date: float | None
    pay_date: float | None
    create_date: float
    modify_date: float
    cancel_date: float | None
    shipping_address: dict[str, Any] | None
    # parcels as the vendor shows them, each with "lineIds" instead of "items"
    fulfillments: list[dict[str, Any]] | None
    lines: tuple[NewLine, ...]


@dataclass(frozen=True)
class TimelineRefund:
    """A refund with its times, for the console's timeline."""

    refund_no: str
    order_id: str
    status: str
    remark: str | None
    created_at: float
    settled_at: float | None
