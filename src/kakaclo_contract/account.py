"""The rules that tie a real account's answers together, as pure functions over bodies.

openapi.yaml states each of them (``OrderPage``, ``RefundPage``, ``Order``,
``Refund`` and Query Order's filters); the suite's account walk
(``suite/test_account.py``) reads an account without changing it and hands
what it read to these functions, which return the problems they find, one
line each. Nothing here sends a request, so the rules are tested on the
vendor's real bodies too (a rule that failed the real vendor would be wrong).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kakaclo_client.models import ItemRefundStatus, OrderRefundStatus, RefundStatus

from kakaclo_contract import model

PENDING = RefundStatus.PENDING_REVIEW.value
SUCCEEDED = RefundStatus.REFUND_SUCCESSFULLY.value
SETTLED = {SUCCEEDED, RefundStatus.REFUND_FAILED.value}
NO_STATUS = {None, OrderRefundStatus.NULL.value}  # the vendor's "NULL", or a plain null


@dataclass(frozen=True)
class PageRead:
    """One page of a listing as the suite asked for it and as it came back."""

    number: int  # the pageNumber asked for
    size: int  # the pageSize asked for (or the spec's default, when left out)
    data: Any  # the envelope's ``data``; anything, when the answer broke the schema

    @property
    def entries(self) -> list[Any]:
        """The page's ``list`` (empty when it is missing or not a list)."""
        listed = self.data.get("list") if isinstance(self.data, dict) else None
        return listed if isinstance(listed, list) else []

    @property
    def total(self) -> Any:
        """The page's ``total`` as sent."""
        return self.data.get("total") if isinstance(self.data, dict) else None


def expected_length(total: int, number: int, size: int) -> int:
    """How many entries page ``number`` of ``size`` holds when ``total`` match (0 past the last)."""
    return max(0, min(size, total - (number - 1) * size))


def last_page(total: int, size: int) -> int:
    """The number of the last page (1 for an empty listing)."""
    return max(1, math.ceil(total / size))


def paging_problems(
    what: str, pages: Sequence[PageRead], key: Callable[[Any], object], *, complete: bool
) -> list[str]:
    """The paging rules over the pages of one listing (``RefundPage``, ``OrderPage``).

    ``complete`` says the pages read cover every page up to the last, so
    together they must list ``total`` entries.
    """
    problems: list[str] = []
    totals = {page.total for page in pages if isinstance(page.total, int)}
    if len(totals) > 1:
        problems.append(f"{what}: the pages answer different totals {sorted(totals)}")
    seen: dict[object, int] = {}
    for page in pages:
        where = f"{what}, page {page.number} of size {page.size}"
        if not isinstance(page.data, dict):
            continue  # the schema check reports it
        if page.data.get("pageNumber") != page.number:
            problems.append(f"{where}: pageNumber {page.data.get('pageNumber')!r} is not echoed")
        if page.data.get("pageSize") != page.size:
            problems.append(f"{where}: pageSize {page.data.get('pageSize')!r} is not echoed")
        if isinstance(page.total, int):
            wanted = expected_length(page.total, page.number, page.size)
            if len(page.entries) != wanted:
                problems.append(
                    f"{where}: lists {len(page.entries)} entries where total {page.total} "
                    f"leaves {wanted} for this page"
                )
        for entry in page.entries:
            name = key(entry)
            if name in seen and seen[name] != page.number:
                problems.append(f"{where}: {name} is also on page {seen[name]}")
            seen.setdefault(name, page.number)
    if complete and len(totals) == 1:
        (total,) = totals
        if len(seen) != total:
            problems.append(
                f"{what}: the pages list {len(seen)} entries in all, total says {total}"
            )
    return problems


def amount_problems(order: dict[str, Any]) -> list[str]:
    """``Order``'s amounts: finalAmount, refundableAmount, the lines' totals, the bounds."""
    problems: list[str] = []
    name = f"order {order.get('id')}"
    try:
        shown = model_order(order)
    except (TypeError, ValueError, ArithmeticError):
        return []  # amounts that are not numbers: the schema check reports them
    lines = [line for line in order.get("orderItems") or [] if isinstance(line, dict)]
    for line in lines:
        if _number(line.get("total")) and _number(line.get("amount")):
            wanted = model.e4(line["amount"]) * (line.get("productNum") or 0)
            if model.e4(line["total"]) != wanted:
                problems.append(
                    f"{name}, line {line.get('id')}: total {line['total']} is not amount "
                    f"{line['amount']} x productNum {line.get('productNum')}"
                )
    subtotal = order.get("subTotalAmount")
    if _number(subtotal) and lines and model.e4(subtotal) != shown.subtotal_e4():
        problems.append(
            f"{name}: subTotalAmount {order['subTotalAmount']} is not the sum of its lines' "
            f"totals ({shown.subtotal_e4() / model.E4})"
        )
    # the vendor's form leaves couponAmount out of an order without a refund: then
    # finalAmount cannot be recomputed from the answer
    final = order.get("finalAmount")
    if _number(final) and _number(order.get("subTotalAmount")) and "couponAmount" in order:
        wanted = model.e4(order["subTotalAmount"]) + shown.freight_e4 - shown.coupon_e4
        if model.e4(final) != wanted:
            problems.append(
                f"{name}: finalAmount {final} is not subTotalAmount + freightAmount - "
                f"couponAmount ({wanted / model.E4})"
            )
    refunded, refundable = order.get("refundedAmount"), order.get("refundableAmount")
    if _number(final) and _number(refunded):
        if not 0 <= model.e4(refunded) <= model.e4(final):
            problems.append(f"{name}: refundedAmount {refunded} is outside 0..finalAmount {final}")
        if _number(refundable) and model.e4(refundable) != model.e4(final) - model.e4(refunded):
            problems.append(
                f"{name}: refundableAmount {refundable} is not finalAmount {final} - "
                f"refundedAmount {refunded}"
            )
    return problems


def status_problems(order: dict[str, Any], refunds: Sequence[Any], *, complete: bool) -> list[str]:
    """``Refund``'s statuses against its order's and lines' ``refundStatus``.

    ``refunds`` are the order's refunds as Query Refund listed them; ``complete``
    says they are all of them (the walk read every page).
    """
    problems: list[str] = []
    name = f"order {order.get('id')}"
    listed = [r for r in refunds if isinstance(r, dict)]
    for refund in listed:
        if refund.get("id") not in (None, order.get("id")):
            problems.append(
                f"{name}: Query Refund lists refund {refund.get('refundNo')} of order "
                f"{refund.get('id')}"
            )
    statuses = {refund.get("refundStatus") for refund in listed}
    pending, succeeded = PENDING in statuses, SUCCEEDED in statuses
    shown = order.get("refundStatus")
    lines = [line for line in order.get("orderItems") or [] if isinstance(line, dict)]
    if pending and shown != OrderRefundStatus.REFUNDING.value:
        problems.append(f"{name}: a refund is {PENDING} but the order's refundStatus is {shown!r}")
    if shown == OrderRefundStatus.REFUNDED.value:
        for line in lines:
            if "refundStatus" in line and line["refundStatus"] != ItemRefundStatus.REFUNDED.value:
                problems.append(
                    f"{name}: the order is refunded but line {line.get('id')} is "
                    f"{line['refundStatus']!r}"
                )
    if not complete:
        return problems
    if shown == OrderRefundStatus.REFUNDING.value and not pending:
        problems.append(f"{name}: refundStatus is refunding but no refund is {PENDING}")
    if not pending and succeeded and shown in NO_STATUS:
        problems.append(f"{name}: a refund succeeded but the order's refundStatus is {shown!r}")
    if not succeeded and shown in {
        OrderRefundStatus.REFUNDED.value,
        OrderRefundStatus.PARTIAL_REFUND.value,
    }:
        problems.append(f"{name}: refundStatus is {shown!r} but no refund succeeded")
    for line in lines:
        line_status = line.get("refundStatus")
        if line_status == ItemRefundStatus.REFUNDING.value and not pending:
            problems.append(f"{name}: line {line.get('id')} is refunding but no refund is pending")
        if line_status == ItemRefundStatus.REFUNDED.value and not succeeded:
            problems.append(f"{name}: line {line.get('id')} is refunded but no refund succeeded")
    if not succeeded and _number(order.get("refundedAmount")) and order["refundedAmount"] != 0:
        problems.append(
            f"{name}: refundedAmount is {order['refundedAmount']} but no refund succeeded"
        )
    return problems


def instant(text: object) -> datetime.datetime | None:
    """An ISO 8601 date of an answer as a UTC datetime (None for null or garbage)."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def filtered(
    orders: Iterable[dict[str, Any]],
    field: str,
    start: datetime.datetime | None,
    end: datetime.datetime | None,
) -> set[str]:
    """The ids of ``orders`` whose ``field`` lies in [start, end], boundaries included."""
    ids = set()
    for order in orders:
        moment = instant(order.get(field))
        if moment is None:
            continue
        if (start is None or moment >= start) and (end is None or moment <= end):
            ids.add(str(order.get("id")))
    return ids


def model_order(body: dict[str, Any]) -> model.Order:
    """The model's view of an order as Query Order answered it."""
    return model.Order(
        id=body["id"],
        status=body.get("status") or "",
        financial_status=body.get("financialStatus") or "",
        fulfillment_status=body.get("fulfillmentStatus") or "",
        freight_e4=model.e4(body.get("freightAmount")),
        coupon_e4=model.e4(body.get("couponAmount")),
        lines=[
            model.Line(
                id=line["id"],
                item_id=line.get("itemId") or "",
                sku_code=line.get("skuCode") or "",
                country_code=line.get("countryCode"),
                amount_e4=model.e4(line.get("amount")),
                pieces=line.get("productNum") or 0,
            )
            for line in body.get("orderItems") or []
        ],
    )


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
