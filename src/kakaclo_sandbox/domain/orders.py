"""The plain values the refund rules decide on, and storage reads and writes."""

from __future__ import annotations

from dataclasses import dataclass


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
