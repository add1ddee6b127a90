"""The refund rules of openapi.yaml as an executable reference model (plain Python).

It never imports the sandbox: it is a second, independent reading of the
spec's descriptions (Refund Order, ``RefundConflict``, ``Order``, the
``Idempotency-Key`` parameter), one small function per rule with the spec's
words in its docstring. The contract suite's state machine
(``suite/test_model.py``) drives a server and this model side by side and
compares every answer.

Amounts are integer ten-thousandths, so sums are exact.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kakaclo_client import spec_facts
from kakaclo_client.models import (
    ErrorCode,
    FinancialStatus,
    FulfillmentStatus,
    ItemRefundStatus,
    OrderRefundStatus,
    OrderStatus,
    RefundStatus,
)

PENDING = RefundStatus.PENDING_REVIEW
SUCCEEDED = RefundStatus.REFUND_SUCCESSFULLY
FAILED = RefundStatus.REFUND_FAILED
DEFAULT_REASON = spec_facts.DEFAULT_REFUND_REASON
FAIL_MARKER = "[fail]"  # a sandbox's remark switch: such a refund settles to refund_failed
KEY_LIFETIME = 24 * 3600.0

# the spec's codes, through the client generated from it (not the sandbox's)
ORDER_NOT_FOUND = int(ErrorCode.ORDER_NOT_FOUND)
ORDER_NOT_REFUNDABLE = int(ErrorCode.ORDER_NOT_REFUNDABLE)
ITEM_NOT_IN_ORDER = int(ErrorCode.ITEM_NOT_IN_ORDER)
DUPLICATE_ITEM = int(ErrorCode.DUPLICATE_ITEM)
QUANTITY_EXCEEDS_REFUNDABLE = int(ErrorCode.QUANTITY_EXCEEDS_REFUNDABLE)
NOTHING_TO_REFUND = int(ErrorCode.NOTHING_TO_REFUND)
IDEMPOTENCY_KEY_REUSED = int(ErrorCode.IDEMPOTENCY_KEY_REUSED)


E4 = 10_000  # the model keeps amounts in ten-thousandths, exactly


def e4(amount: float | int | None) -> int:
    """A JSON amount as exact ten-thousandths."""
    return 0 if amount is None else int(Decimal(str(amount)) * E4)


@dataclass
class Line:
    """One order line: its pieces, and how many are pending or refunded."""

    id: str
    item_id: str
    sku_code: str
    country_code: str | None
    amount_e4: int
    pieces: int
    pending: int = 0
    refunded: int = 0

    def refundable(self) -> int:
        """Pieces not in a pending or successful refund ("counting refunds still pending")."""
        return self.pieces - self.pending - self.refunded

    def refund_status(self) -> str | None:
        """`refunding` while a refund of it is pending, else `refunded` once one succeeded."""
        if self.pending:
            return ItemRefundStatus.REFUNDING
        return ItemRefundStatus.REFUNDED if self.refunded else None


@dataclass
class Refund:
    """A refund the server created; its number comes from the server's answer."""

    number: str
    order_id: str
    pieces: dict[str, int]  # line id -> quantity
    remark: str | None
    due: float
    status: str = PENDING


@dataclass
class Order:
    """An order as the rules see it."""

    id: str
    status: str
    financial_status: str
    fulfillment_status: str
    freight_e4: int
    coupon_e4: int
    lines: list[Line]
    refunds: list[Refund] = field(default_factory=list)

    def final_e4(self) -> int:
        """`finalAmount` = `subTotalAmount` + `freightAmount` - `couponAmount`."""
        return self.subtotal_e4() + self.freight_e4 - self.coupon_e4

    def subtotal_e4(self) -> int:
        """The lines' totals (`amount` x `productNum`)."""
        return sum(line.amount_e4 * line.pieces for line in self.lines)

    def refunded_e4(self) -> int:
        """The money rule: the settled pieces' amounts, never above `finalAmount`; exactly
        `finalAmount` once no piece is left unrefunded (the rest goes with that refund)."""
        if self.lines and all(line.refunded == line.pieces for line in self.lines):
            return self.final_e4()
        settled = sum(line.amount_e4 * line.refunded for line in self.lines)
        return max(0, min(settled, self.final_e4()))

    def refundable_e4(self) -> int:
        """`refundableAmount` = `finalAmount` - `refundedAmount`."""
        return self.final_e4() - self.refunded_e4()

    def refund_status(self) -> str | None:
        """`refunding` while a refund is pending; `refunded` when every piece is;
        `partial_refund` when some are; none (the vendor's `NULL`) otherwise."""
        if any(refund.status == PENDING for refund in self.refunds):
            return OrderRefundStatus.REFUNDING
        if self.lines and all(line.refunded == line.pieces for line in self.lines):
            return OrderRefundStatus.REFUNDED
        return (
            OrderRefundStatus.PARTIAL_REFUND if any(line.refunded for line in self.lines) else None
        )

    def line_named(self, item_id: str, sku_code: str, country_code: str) -> Line | None:
        """ "Each item names one order line by `itemId` + `skuCode` + `countryCode`"."""
        for line in self.lines:
            if (line.item_id, line.sku_code, line.country_code) == (
                item_id,
                sku_code,
                country_code,
            ):
                return line
        return None


@dataclass(frozen=True)
class Item:
    """Some pieces of one line, as a Refund Order body names them."""

    item_id: str
    sku_code: str
    quantity: int
    country_code: str


@dataclass(frozen=True)
class Request:
    """A Refund Order request: the order, the body's meaning, and the key."""

    order_id: str
    items: tuple[Item, ...] | None
    remark: str | None = None
    reason: str = DEFAULT_REASON
    key: str | None = None

    def fingerprint(self) -> tuple[Any, ...]:
        """What a key covers: "the order id and the request body"."""
        return (self.order_id, self.items, self.remark, self.reason)

    def body(self) -> dict[str, Any]:
        """The JSON body of this request."""
        body: dict[str, Any] = {}
        if self.remark is not None:
            body["remark"] = self.remark
        if self.reason != DEFAULT_REASON:
            body["refundReason"] = self.reason
        if self.items is not None:
            body["orderItems"] = [
                {
                    "itemId": i.item_id,
                    "skuCode": i.sku_code,
                    "quantity": i.quantity,
                    "countryCode": i.country_code,
                }
                for i in self.items
            ]
        return body


@dataclass(frozen=True)
class Expected:
    """What a Refund Order must answer: a new refund of ``plan``, a replay, or an error."""

    status: int
    code: int | None = None
    plan: dict[str, int] | None = None  # line id -> quantity, for a new refund
    replay_of: str | None = None  # the refund number a replay answers
    item: int | None = None  # the index of the item that decided a refusal
    first: int | None = None  # for a line named twice: where it was named first

    def names(self, order_id: str) -> list[str]:
        """What the error message must name ("naming the field or rule")."""
        if self.item is not None:
            named = [f"orderItems[{self.item}]"]
            return named + ([f"orderItems[{self.first}]"] if self.first is not None else [])
        if self.code in (ORDER_NOT_REFUNDABLE, NOTHING_TO_REFUND, ORDER_NOT_FOUND):
            return [f"order {order_id}"]
        if self.code == IDEMPOTENCY_KEY_REUSED:
            return ["Idempotency-Key"]
        return []


class Refused(Exception):
    """A rule refuses the request with a status and a code."""

    def __init__(
        self, status: int, code: int, item: int | None = None, first: int | None = None
    ) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.item = item
        self.first = first


# -- the rules -----------------------------------------------------------------------


def check_refundable(order: Order) -> None:
    """ "The order must be paid and not shipped": refused (409 `ORDER_NOT_REFUNDABLE`)
    when it is not paid, already shipped (partly or fully), completed or cancelled."""
    if (
        order.financial_status != FinancialStatus.PAID
        or order.status in (OrderStatus.CANCEL, OrderStatus.COMPLETED)
        or order.fulfillment_status != FulfillmentStatus.WAITING_TO_SHIP
    ):
        raise Refused(409, ORDER_NOT_REFUNDABLE)


def plan_whole_order(order: Order) -> dict[str, int]:
    """ "Without `orderItems` the whole remaining quantity of the order is refunded";
    "a whole-order refund needs something left to refund" (409 `NOTHING_TO_REFUND`)."""
    plan = {line.id: line.refundable() for line in order.lines if line.refundable() > 0}
    if not plan:
        raise Refused(409, NOTHING_TO_REFUND)
    return plan


def plan_items(order: Order, items: Sequence[Item]) -> dict[str, int]:
    """Items are checked in their order; the first that breaks a rule decides the answer.
    For one item: it must match a line (`ITEM_NOT_IN_ORDER`), "no line may appear twice"
    (`DUPLICATE_ITEM`), and "a quantity may not exceed what is still refundable, counting
    refunds still pending" (`QUANTITY_EXCEEDS_REFUNDABLE`)."""
    plan: dict[str, int] = {}
    named_at: dict[str, int] = {}
    for index, item in enumerate(items):
        line = order.line_named(item.item_id, item.sku_code, item.country_code)
        if line is None:
            raise Refused(409, ITEM_NOT_IN_ORDER, index)
        if line.id in plan:
            raise Refused(409, DUPLICATE_ITEM, index, named_at[line.id])
        if item.quantity > line.refundable():
            raise Refused(409, QUANTITY_EXCEEDS_REFUNDABLE, index)
        plan[line.id] = item.quantity
        named_at[line.id] = index
    return plan


def settles_to(remark: str | None) -> str:
    """A sandbox settles a refund whose remark contains `[fail]` to `refund_failed`,
    every other one to `refund_successfully`."""
    return FAILED if remark and FAIL_MARKER in remark else SUCCEEDED


def settle(order: Order, refund: Refund) -> None:
    """A settled refund "never changes again". Success: its pieces are refunded, and an
    order with every piece refunded is cancelled ("cancel and refund"). Failure: its pieces
    are released and can be refunded again."""
    refund.status = settles_to(refund.remark)
    for line in order.lines:
        taken = refund.pieces.get(line.id, 0)
        line.pending -= taken
        if refund.status == SUCCEEDED:
            line.refunded += taken
    if refund.status == SUCCEEDED and all(line.refunded == line.pieces for line in order.lines):
        order.status = OrderStatus.CANCEL


@dataclass
class KeyEntry:
    """A stored answer of an `Idempotency-Key`: "only successful answers are stored"."""

    fingerprint: tuple[Any, ...]
    number: str
    stored_at: float


@dataclass
class Model:
    """One merchant's orders, refunds and keys, and the sandbox's clock."""

    orders: dict[str, Order]
    settle_after: float
    now: float = 0.0
    keys: dict[str, KeyEntry] = field(default_factory=dict)

    def copy(self) -> Model:
        """An independent copy (to try several serial orders of a burst)."""
        return copy.deepcopy(self)

    def expect(self, request: Request) -> Expected:
        """What Refund Order must answer to ``request`` now."""
        self.settle_due()
        entry = self.live_key(request.key)
        if entry is not None:
            # "the same key with the same order and body replays the stored answer";
            # "with another order or body answers 409 IDEMPOTENCY_KEY_REUSED"
            if entry.fingerprint != request.fingerprint():
                return Expected(409, IDEMPOTENCY_KEY_REUSED)
            return Expected(200, replay_of=entry.number)
        order = self.orders.get(request.order_id)
        if order is None:
            return Expected(404, ORDER_NOT_FOUND)
        try:
            check_refundable(order)
            if request.items is None:
                plan = plan_whole_order(order)
            else:
                plan = plan_items(order, request.items)
        except Refused as refused:
            return Expected(refused.status, refused.code, item=refused.item, first=refused.first)
        return Expected(200, plan=plan)

    def apply(self, request: Request, expected: Expected, number: str) -> None:
        """Record the answer of a request that ``expect`` said creates a refund."""
        if expected.plan is None:
            return
        order = self.orders[request.order_id]
        for line in order.lines:
            line.pending += expected.plan.get(line.id, 0)
        refund = Refund(
            number, order.id, dict(expected.plan), request.remark, self.now + self.settle_after
        )
        order.refunds.append(refund)
        if request.key is not None:
            self.keys[request.key] = KeyEntry(request.fingerprint(), number, self.now)

    def advance(self, seconds: float) -> None:
        """The clock moves; "due refunds settle at once"."""
        self.now += seconds
        self.settle_due()

    def settle_due(self) -> None:
        """Settle every pending refund whose time has come, oldest first."""
        for order in self.orders.values():
            for refund in order.refunds:
                if refund.status == PENDING and refund.due <= self.now:
                    settle(order, refund)

    def live_key(self, key: str | None) -> KeyEntry | None:
        """A key's entry while it lives: "stored, per merchant, for 24 hours", so live
        while stored after 24 hours ago (and gone exactly 24 hours after it was stored)."""
        if key is None:
            return None
        entry = self.keys.get(key)
        if entry is None or not entry.stored_at > self.now - KEY_LIFETIME:
            return None
        return entry
