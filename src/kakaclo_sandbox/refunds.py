"""The refund rules, in plain words, as functions over the store. No HTTP here.

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
  refund whose settlement takes the last piece. It is decided at settlement,
  never when a refund is created: a refund that fails leaves nothing behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from kakaclo_client.models import ErrorCode

from kakaclo_sandbox import queries
from kakaclo_sandbox.errors import OrderNotFound, RuleViolation
from kakaclo_sandbox.faults import Fault
from kakaclo_sandbox.queries import OrderState

PENDING = "pending_review"
SUCCEEDED = "refund_successfully"
FAILED = "refund_failed"
DEFAULT_REASON = "Other"


@dataclass(frozen=True)
class RequestedItem:
    """Some pieces of one order line, as the caller names it."""

    item_id: str
    sku_code: str
    quantity: int
    country_code: str


@dataclass(frozen=True)
class RefundRequest:
    """A validated Refund Order body."""

    items: tuple[RequestedItem, ...] | None
    reason: str = DEFAULT_REASON
    remark: str | None = None


def check_refundable(order: OrderState) -> None:
    """Refuse an order that is unpaid, shipped (even partly), completed or cancelled."""
    if order.financial_status != "paid":
        raise RuleViolation(
            ErrorCode.ORDER_NOT_REFUNDABLE,
            f"order {order.id} cannot be refunded: financialStatus is {order.financial_status}",
        )
    if order.status in {"cancel", "completed"}:
        raise RuleViolation(
            ErrorCode.ORDER_NOT_REFUNDABLE,
            f"order {order.id} cannot be refunded: status is {order.status}",
        )
    if order.fulfillment_status != "waiting_to_ship":
        raise RuleViolation(
            ErrorCode.ORDER_NOT_REFUNDABLE,
            f"order {order.id} cannot be refunded: fulfillmentStatus is {order.fulfillment_status}",
        )


def plan_quantities(
    order: OrderState,
    items: Sequence[RequestedItem] | None,
    faults: frozenset[Fault] = frozenset(),
) -> dict[str, int]:
    """Decide how many pieces of which line (by line id) the request refunds."""
    if Fault.REFUND_SHIPPED_ORDERS not in faults:
        check_refundable(order)
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
                f"orderItems[{index}]: order {order.id} has no line with itemId {item.item_id}, "
                f"skuCode {item.sku_code}, countryCode {item.country_code}",
            )
        if line.id in first_index:
            raise RuleViolation(
                ErrorCode.DUPLICATE_ITEM,
                f"orderItems[{index}]: names the same order line as "
                f"orderItems[{first_index[line.id]}]",
            )
        if item.quantity > line.refundable and Fault.OVER_REFUND not in faults:
            raise RuleViolation(
                ErrorCode.QUANTITY_EXCEEDS_REFUNDABLE,
                f"orderItems[{index}]: quantity {item.quantity} exceeds the "
                f"{line.refundable} pieces still refundable",
            )
        first_index[line.id] = index
        plan[line.id] = item.quantity
    return plan


def create_refund(
    db: sqlite3.Connection,
    merchant: str,
    order_id: str,
    request: RefundRequest,
    *,
    now: float,
    settle_after: float,
    faults: frozenset[Fault] = frozenset(),
) -> str:
    """Check the rules and write the refund, inside the caller's write transaction.

    Returns its refund number. What the order shows as refunded is decided at
    settlement (see :func:`refunded_e4`), never here.
    """
    order = queries.order_state(db, merchant, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    plan = plan_quantities(order, request.items, faults)
    seq = db.execute(
        "INSERT INTO refunds (order_id, status, reason, remark, created_at, settle_at)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
        (order_id, PENDING, request.reason, request.remark, now, now + settle_after),
    ).fetchone()[0]
    db.executemany(
        "INSERT INTO refund_lines (refund_seq, line_id, quantity) VALUES (?, ?, ?)",
        [(seq, line_id, quantity) for line_id, quantity in plan.items()],
    )
    db.executemany(
        "UPDATE order_lines SET reserved = reserved + ? WHERE id = ?",
        [(quantity, line_id) for line_id, quantity in plan.items()],
    )
    db.execute(
        "UPDATE orders SET pending_refunds = pending_refunds + 1, modify_date = ? WHERE id = ?",
        (now, order_id),
    )
    return queries.refund_no(seq)


# -- what Query Order shows of the refunds ---------------------------------------------


def line_refund_status(line: sqlite3.Row) -> str | None:
    """A line's `refundStatus`: `refunding` while some of it is pending, else `refunded`
    once some of it was refunded, else none (the vendor's `NULL`)."""
    if line["reserved"] > line["refunded"]:
        return "refunding"
    return "refunded" if line["refunded"] > 0 else None


def order_refund_status(order: sqlite3.Row, lines: list[sqlite3.Row]) -> str | None:
    """An order's `refundStatus`: `refunding` while a refund is pending, `refunded` when
    every piece is, `partial_refund` when some are, else none (the vendor's `NULL`)."""
    if order["pending_refunds"] > 0:
        return "refunding"
    if lines and all(line["refunded"] == line["product_num"] for line in lines):
        return "refunded"
    return "partial_refund" if any(line["refunded"] for line in lines) else None


def refunded_e4(lines: list[sqlite3.Row], final_e4: int) -> int:
    """What an order shows as refunded: a function of its settled pieces alone.

    The sum of the settled pieces at their unit amount, never above the final
    amount; once every piece is refunded, exactly the final amount (the rest,
    freight less coupon, goes with the refund that settled last).
    """
    if lines and all(line["refunded"] == line["product_num"] for line in lines):
        return final_e4
    settled: int = sum(line["amount_e4"] * line["refunded"] for line in lines)
    return max(0, min(settled, final_e4))
