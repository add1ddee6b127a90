"""Turn stored rows into the JSON shapes of openapi.yaml (clean values, no ``"NULL"``)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from kakaclo_sandbox.clock import iso

SUCCESS = 10000


def money(e4: int) -> float:
    """Ten-thousandths as a JSON number with up to four decimals."""
    return round(e4 / 10_000, 4)


def envelope(data: Any, message: str = "success") -> dict[str, Any]:
    """The vendor's success envelope."""
    return {"code": SUCCESS, "message": message, "data": data}


def page(total: int, number: int, size: int, entries: list[Any]) -> dict[str, Any]:
    """The vendor's page object."""
    return {"total": total, "pageNumber": number, "pageSize": size, "list": entries}


def refund(row: sqlite3.Row) -> dict[str, Any]:
    """One entry of Query Refund."""
    entry: dict[str, Any] = {
        "refundNo": row["refund_no"],
        "refundStatus": row["status"],
        "id": row["order_id"],
    }
    if row["remark"] is not None:
        entry["remark"] = row["remark"]
    return entry


def _line_refund_status(line: sqlite3.Row) -> str | None:
    if line["reserved"] > line["refunded"]:
        return "refunding"
    return "refunded" if line["refunded"] > 0 else None


def order_line(line: sqlite3.Row, fulfillment_status: str) -> dict[str, Any]:
    """One order line."""
    return {
        "id": line["id"],
        "itemId": line["item_id"],
        "skuCode": line["sku_code"],
        "productName": line["product_name"],
        "imageUrl": line["image_url"],
        "amount": money(line["amount_e4"]),
        "productNum": line["product_num"],
        "total": money(line["amount_e4"] * line["product_num"]),
        "stockStatus": line["stock_status"],
        "fulfillmentStatus": fulfillment_status,
        "refundStatus": _line_refund_status(line),
        "countryCode": line["country_code"],
    }


def _order_refund_status(order: sqlite3.Row, lines: list[sqlite3.Row]) -> str | None:
    if order["pending_refunds"] > 0:
        return "refunding"
    if lines and all(line["refunded"] == line["product_num"] for line in lines):
        return "refunded"
    return "partial_refund" if any(line["refunded"] for line in lines) else None


def _date(value: float | None) -> str | None:
    return None if value is None else iso(value)


def order(row: sqlite3.Row, lines: list[sqlite3.Row]) -> dict[str, Any]:
    """One order of Query Order, amounts per the vendor's definitions."""
    subtotal = sum(line["amount_e4"] * line["product_num"] for line in lines)
    final = subtotal + row["freight_e4"] - row["coupon_e4"]
    rendered_lines = [order_line(line, row["fulfillment_status"]) for line in lines]
    by_id = {line["id"]: line for line in rendered_lines}
    fulfillments = None
    if row["fulfillments"]:
        fulfillments = []
        for parcel in json.loads(row["fulfillments"]):
            line_ids = parcel.pop("lineIds", [])
            fulfillments.append({**parcel, "items": [by_id[i] for i in line_ids if i in by_id]})
    return {
        "id": row["id"],
        "customOrderId": row["custom_order_id"],
        "remark": row["remark"],
        "status": row["status"],
        "financialStatus": row["financial_status"],
        "fulfillmentStatus": row["fulfillment_status"],
        "refundStatus": _order_refund_status(row, lines),
        "purchaseDate": _date(row["purchase_date"]),
        "payDate": _date(row["pay_date"]),
        "completedDate": None,
        "cancelDate": _date(row["cancel_date"]),
        "refundDate": _date(row["refund_date"]),
        "createDate": _date(row["create_date"]),
        "modifyDate": _date(row["modify_date"]),
        "warehouseId": row["warehouse_id"],
        "currencyCode": row["currency_code"],
        "subTotalAmount": money(subtotal),
        "freightAmount": money(row["freight_e4"]),
        "couponAmount": money(row["coupon_e4"]),
        "promotionAmount": money(row["promotion_e4"]),
        "finalAmount": money(final),
        "refundedAmount": money(row["refunded_e4"]),
        "refundableAmount": money(final - row["refunded_e4"]),
        "shippingAddress": json.loads(row["shipping_address"]),
        "fulfillments": fulfillments,
        "orderItems": rendered_lines,
    }
