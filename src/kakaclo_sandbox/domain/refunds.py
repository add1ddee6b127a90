"""The refund rules, in plain words, as decisions over plain data. No SQL, no HTTP.

- Only the caller's own orders exist for the caller.
- An order can be refunded only while it is paid, not shipped, and neither
  completed nor cancelled.
- Each requested item names one line by itemId + skuCode + countryCode;
  no line may be named twice in one request.
- A quantity may not exceed what is still refundable of its line, counting
  refunds still pending.
- Without items, everything still refundable is refunded; if nothing is
  left, the request is refused.
- An order's refundedAmount is the sum of its settled pieces at their unit
  amount, never above finalAmount; once no piece is left unrefunded it is
  exactly finalAmount, so the rest (freight, coupon, promotion) goes with the
  refund whose settlement takes the last piece (see :mod:`.money`). It is
  decided at settlement, never when a refund is created: a refund that fails
  leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kakaclo_client.models import (
    ErrorCode,
    FinancialStatus,
    FulfillmentStatus,
    ItemRefundStatus,
    OrderRefundStatus,
    OrderStatus,
)

from kakaclo_sandbox.domain.errors import RuleViolation
from kakaclo_sandbox.domain.orders import Line, OrderState

CLOSED = frozenset({OrderStatus.CANCEL, OrderStatus.COMPLETED})


# slots, not frozen: built on every refund, and a frozen dataclass's __init__ costs
# four times as much. Nothing changes one once built.
@dataclass(slots=True)
class RequestedItem:
    """Some pieces of one order line, as the caller names it."""

    item_id: str
    sku_code: str
    quantity: int
    country_code: str


# slots, not frozen, as RequestedItem
@dataclass(slots=True)
class RefundRequest:
    """A validated Refund Order body (the reason already defaulted from the spec)."""

    items: tuple[RequestedItem, ...] | None
    reason: str
    remark: str | None = None


class RefundRules:
    """Decides what a refund request takes from an order, or refuses it.

    One instance serves a sandbox (``create_app(rules=...)``); a subclass can
    change one rule, as the contract suite's self-proof does to plant a defect.
    """

    def check_refundable(self, order: OrderState) -> None:
        """Refuse an order that is unpaid, shipped (even partly), completed or cancelled."""
        if order.financial_status != FinancialStatus.PAID:
            raise RuleViolation(
                ErrorCode.ORDER_NOT_REFUNDABLE,
                f"order {order.id} cannot be refunded: financialStatus is {order.financial_status}",
            )
        if order.status in CLOSED:
            raise RuleViolation(
                ErrorCode.ORDER_NOT_REFUNDABLE,
                f"order {order.id} cannot be refunded: status is {order.status}",
            )
        if order.fulfillment_status != FulfillmentStatus.WAITING_TO_SHIP:
            raise RuleViolation(
                ErrorCode.ORDER_NOT_REFUNDABLE,
                f"order {order.id} cannot be refunded: fulfillmentStatus is "
                f"{order.fulfillment_status}",
            )

    def check_quantity(self, index: int, item: RequestedItem, line: Line) -> None:
        """Refuse more pieces than are still refundable of the line."""
        if item.quantity > line.refundable:
            raise RuleViolation(
                ErrorCode.QUANTITY_EXCEEDS_REFUNDABLE,
                f"orderItems[{index}]: quantity {item.quantity} exceeds the "
                f"{line.refundable} pieces still refundable",
            )

    def plan(self, order: OrderState, items: Sequence[RequestedItem] | None) -> dict[str, int]:
        """Decide how many pieces of which line (by line id) the request refunds."""
        self.check_refundable(order)
        if items is None:
            plan = {line.id: line.refundable for line in order.lines if line.refundable > 0}
            if not plan:
                raise RuleViolation(
                    ErrorCode.NOTHING_TO_REFUND, f"order {order.id} has nothing left to refund"
                )
            return plan
        by_key = {(line.item_id, line.sku_code, line.country_code): line for line in order.lines}
        plan = {}
        first_index: dict[str, int] = {}
        for index, item in enumerate(items):
            line = by_key.get((item.item_id, item.sku_code, item.country_code))
            if line is None:
                raise RuleViolation(
                    ErrorCode.ITEM_NOT_IN_ORDER,
                    f"orderItems[{index}]: order {order.id} has no line with itemId "
                    f"{item.item_id}, skuCode {item.sku_code}, countryCode {item.country_code}",
                )
            if line.id in first_index:
                raise RuleViolation(
                    ErrorCode.DUPLICATE_ITEM,
                    f"orderItems[{index}]: names the same order line as "
                    f"orderItems[{first_index[line.id]}]",
                )
            self.check_quantity(index, item, line)
            first_index[line.id] = index
            plan[line.id] = item.quantity
        return plan


# -- what Query Order shows of the refunds ---------------------------------------------


def line_refund_status(reserved: int, refunded: int) -> ItemRefundStatus | None:
    """A line's `refundStatus`: `refunding` while some of it is pending, else `refunded`
    once some of it was refunded, else none (the vendor's `NULL`)."""
    if reserved > refunded:
        return ItemRefundStatus.REFUNDING
    return ItemRefundStatus.REFUNDED if refunded > 0 else None


def fully_refunded(lines: Sequence[tuple[int, int]]) -> bool:
    """True when every piece of every line, from (pieces, refunded pieces), is refunded."""
    return bool(lines) and all(refunded == pieces for pieces, refunded in lines)


def order_refund_status(
    pending_refunds: int, lines: Sequence[tuple[int, int]]
) -> OrderRefundStatus | None:
    """An order's `refundStatus`, from its pending refunds and (pieces, refunded pieces)
    of its lines: `refunding` while a refund is pending, `refunded` when every piece is,
    `partial_refund` when some are, else none (the vendor's `NULL`)."""
    if pending_refunds > 0:
        return OrderRefundStatus.REFUNDING
    if fully_refunded(lines):
        return OrderRefundStatus.REFUNDED
    return OrderRefundStatus.PARTIAL_REFUND if any(refunded for _, refunded in lines) else None
