"""Turn stored values (plain values of :mod:`kakaclo_sandbox.domain.orders`) into the JSON
shapes of openapi.yaml.

Two forms, chosen per sandbox (``Settings.clean``):

- the **vendor's** (the default): what the real service's bodies show, quirks
  included (see the ``Order`` and ``OrderPage`` schemas of the spec): the
  string ``"NULL"`` for "no refund status", the page keys ``vo``,
  ``totalPageNumber``, ``modifyDate`` and ``nextId``, no field-table-only
  fields on orders without a refund, no ``countryCode`` on the lines inside
  ``fulfillments``;
- the **clean** one: plain nulls, every field of the vendor's field table.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from kakaclo_client.models import ErrorCode, OrderRefundStatus

from kakaclo_sandbox.clock import iso
from kakaclo_sandbox.domain import refunds
from kakaclo_sandbox.domain.money import (
    E4,
    final_e4,
    line_total_e4,
    refundable_e4,
    refunded_e4,
    subtotal_e4,
)
from kakaclo_sandbox.domain.orders import StoredLine, StoredOrder, StoredRefund

SUCCESS = ErrorCode.SUCCESS.value
NO_STATUS = OrderRefundStatus.NULL.value  # the vendor's "no refund status" (lines' too)
# Query Order's page keys that the real service adds, null in every real body.
VENDOR_PAGE_KEYS = ("vo", "totalPageNumber", "modifyDate", "nextId")
# Fields of the vendor's field table that no real body of an order without a
# refund carries (the spec's Order description states the rule).
ORDER_FIELDS_SENT_ONCE_REFUNDED = (
    "currencyCode",
    "couponAmount",
    "promotionAmount",
    "refundedAmount",
    "refundableAmount",
)
LINE_FIELDS_SENT_ONCE_REFUNDED = ("stockStatus", "fulfillmentStatus")


def money(e4: int) -> float:
    """Ten-thousandths as a JSON number with up to four decimals.

    No ``round(..., 4)``: the quotient of an integer by 10,000 is already the
    float nearest to that four-decimal number, which is what rounding gives.
    """
    return e4 / E4


@functools.lru_cache(maxsize=4096)
def _stored_address(text: str) -> dict[str, Any] | None:
    parsed: dict[str, Any] | None = json.loads(text)
    return parsed


def _address(text: str) -> dict[str, Any] | None:
    # Addresses never change once stored, and parsing one costs more than the
    # rest of its order's fields. A copy per answer: callers may add to what they get.
    stored = _stored_address(text)
    return None if stored is None else dict(stored)


def envelope(data: Any, message: str = "success") -> dict[str, Any]:
    """The vendor's success envelope."""
    return {"code": SUCCESS, "message": message, "data": data}


def page(
    total: int, number: int, size: int, entries: list[Any], *, vendor_keys: bool = False
) -> dict[str, Any]:
    """The vendor's page object; Query Order's carries the real service's extra keys."""
    body: dict[str, Any] = {"total": total, "pageNumber": number, "pageSize": size, "list": entries}
    if vendor_keys:
        body.update(dict.fromkeys(VENDOR_PAGE_KEYS))
    return body


def refund(stored: StoredRefund) -> dict[str, Any]:
    """One entry of Query Refund."""
    entry: dict[str, Any] = {
        "refundNo": stored.refund_no,
        "refundStatus": stored.status,
        "id": stored.order_id,
    }
    if stored.remark is not None:
        entry["remark"] = stored.remark
    return entry


def order_line(
    line: StoredLine, fulfillment_status: str, *, vendor: bool, has_refund: bool
) -> dict[str, Any]:
    """One order line, in the vendor's form or the clean one."""
    status = refunds.line_refund_status(line.reserved, line.refunded)
    rendered: dict[str, Any] = {
        "id": line.id,
        "itemId": line.item_id,
        "skuCode": line.sku_code,
        "productName": line.product_name,
        "imageUrl": line.image_url,
        "option1": line.option1,
        "option2": line.option2,
        "option3": line.option3,
        "amount": money(line.amount_e4),
        "productNum": line.product_num,
        "total": money(line_total_e4(line.amount_e4, line.product_num)),
        "stockStatus": line.stock_status,
        "fulfillmentStatus": fulfillment_status,
        "refundStatus": status,
        "countryCode": line.country_code,
    }
    if vendor:
        if status is None:
            rendered["refundStatus"] = NO_STATUS
        if not has_refund:
            for key in LINE_FIELDS_SENT_ONCE_REFUNDED:
                del rendered[key]
        if line.country_code is None:
            del rendered["countryCode"]  # the vendor leaves the key out (fully shipped body)
    return rendered


def _date(value: float | None) -> str | None:
    return None if value is None else iso(value)


def _parcels(
    stored: StoredOrder, rendered_lines: list[dict[str, Any]], *, vendor: bool
) -> list[dict[str, Any]] | None:
    if not stored.fulfillments:
        return None
    by_id = {line["id"]: line for line in rendered_lines}
    parcels = []
    for parcel in json.loads(stored.fulfillments):
        line_ids = parcel.pop("lineIds", [])
        items = [dict(by_id[i]) for i in line_ids if i in by_id]
        if vendor:
            for item in items:
                item.pop("countryCode", None)  # no real body has it inside a parcel
        parcels.append({**parcel, "items": items})
    return parcels


def order(stored: StoredOrder, *, vendor: bool) -> dict[str, Any]:
    """One order of Query Order, amounts per the vendor's definitions."""
    lines = stored.lines
    subtotal = subtotal_e4((line.amount_e4, line.product_num) for line in lines)
    final = final_e4(subtotal, stored.freight_e4, stored.coupon_e4)
    refunded = refunded_e4(
        ((line.amount_e4, line.product_num, line.refunded) for line in lines), final
    )
    refund_status = refunds.order_refund_status(
        stored.pending_refunds, [(line.product_num, line.refunded) for line in lines]
    )
    has_refund = refund_status is not None
    rendered_lines = [
        order_line(line, stored.fulfillment_status, vendor=vendor, has_refund=has_refund)
        for line in lines
    ]
    rendered: dict[str, Any] = {
        "id": stored.id,
        "customOrderId": stored.custom_order_id,
        "remark": stored.remark,
        "status": stored.status,
        "financialStatus": stored.financial_status,
        "fulfillmentStatus": stored.fulfillment_status,
        "refundStatus": refund_status,
        "purchaseDate": _date(stored.purchase_date),
        "payDate": _date(stored.pay_date),
        # the vendor's meaning: when the payment completed (the spec's Order says so)
        "completedDate": _date(stored.pay_date),
        "cancelDate": _date(stored.cancel_date),
        "refundDate": _date(stored.refund_date),
        "createDate": _date(stored.create_date),
        "modifyDate": _date(stored.modify_date),
        "warehouseId": stored.warehouse_id,
        "currencyCode": stored.currency_code,
        "subTotalAmount": money(subtotal),
        "freightAmount": money(stored.freight_e4),
        "couponAmount": money(stored.coupon_e4),
        "promotionAmount": money(stored.promotion_e4),
        "finalAmount": money(final),
        "refundedAmount": money(refunded),
        "refundableAmount": money(refundable_e4(final, refunded)),
        "shippingAddress": _address(stored.shipping_address),
        "fulfillments": _parcels(stored, rendered_lines, vendor=vendor),
        "orderItems": rendered_lines,
    }
    if vendor:
        if refund_status is None:
            rendered["refundStatus"] = NO_STATUS
        if not has_refund:
            for key in ORDER_FIELDS_SENT_ONCE_REFUNDED:
                del rendered[key]
    return rendered
