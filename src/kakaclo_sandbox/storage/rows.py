"""The rows a new order is stored as, for every engine: each column named once (and a
refund's pieces by line key).

A row type's fields are its table's columns, in the order of their values, so an
engine only renders its placeholders (:func:`insert_sql`). The JSON columns are
stored as text, as every engine reads them back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import NamedTuple

from kakaclo_sandbox.domain.orders import NewOrder, OrderState


class OrderRow(NamedTuple):
    """The values of one ``orders`` row as inserted (``pk`` is the engine's)."""

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
    shipping_address: str
    fulfillments: str | None


class LineRow(NamedTuple):
    """The values of one ``order_lines`` row as inserted (``pk`` is the engine's)."""

    id: str
    order_pk: int
    merchant: str
    position: int
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


def insert_sql(table: str, columns: tuple[str, ...], placeholder: str) -> str:
    """``INSERT INTO table (columns) VALUES (...)`` for a row type's ``_fields``, in one
    engine's placeholder (``?``, ``%s``)."""
    values = ", ".join(placeholder for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"


def order_row(order: NewOrder) -> OrderRow:
    """The ``orders`` row of a new order."""
    return OrderRow(
        id=order.id,
        merchant=order.merchant,
        custom_order_id=order.custom_order_id,
        remark=order.remark,
        status=order.status,
        financial_status=order.financial_status,
        fulfillment_status=order.fulfillment_status,
        warehouse_id=order.warehouse_id,
        currency_code=order.currency_code,
        freight_e4=order.freight_e4,
        coupon_e4=order.coupon_e4,
        promotion_e4=order.promotion_e4,
        purchase_date=order.purchase_date,
        pay_date=order.pay_date,
        create_date=order.create_date,
        modify_date=order.modify_date,
        cancel_date=order.cancel_date,
        shipping_address=json.dumps(order.shipping_address),
        fulfillments=json.dumps(order.fulfillments) if order.fulfillments is not None else None,
    )


def line_rows(order: NewOrder, order_key: int) -> list[LineRow]:
    """The ``order_lines`` rows of a new order, stored under ``order_key``, in its order."""
    return [
        LineRow(
            id=line.id,
            order_pk=order_key,
            merchant=order.merchant,
            position=position,
            item_id=line.item_id,
            sku_code=line.sku_code,
            country_code=line.country_code,
            product_name=line.product_name,
            image_url=line.image_url,
            option1=line.options[0],
            option2=line.options[1],
            option3=line.options[2],
            amount_e4=line.amount_e4,
            product_num=line.product_num,
            stock_status=line.stock_status,
        )
        for position, line in enumerate(order.lines)
    ]


def line_pieces(order: OrderState, pieces: Mapping[str, int]) -> dict[int, int]:
    """A refund's ``pieces`` (by line id, as the rules plan them) as storage counts them:
    by line key."""
    return {line.key: pieces[line.id] for line in order.lines if line.id in pieces}
