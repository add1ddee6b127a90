"""The queries the refund rules rely on: an order with its lines and counters, pages of
orders and of refunds, refund numbers. Plain functions over a connection the caller
holds inside a transaction (see :class:`kakaclo_sandbox.store.Store`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kakaclo_sandbox.store import REFUND_NO_BASE, Row


@dataclass(frozen=True)
class Line:
    """One order line as the refund rules see it."""

    id: str
    item_id: str
    sku_code: str
    country_code: str | None
    product_num: int
    reserved: int  # pieces in pending or successful refunds

    @property
    def refundable(self) -> int:
        """Pieces not yet in a pending or successful refund."""
        return self.product_num - self.reserved


@dataclass(frozen=True)
class OrderState:
    """What the refund rules need to know about an order."""

    id: str
    status: str
    financial_status: str
    fulfillment_status: str
    lines: tuple[Line, ...]


def order_state(db: sqlite3.Connection, merchant: str, order_id: str) -> OrderState | None:
    """The order with its lines, if it belongs to ``merchant``."""
    order = db.execute(
        "SELECT id, status, financial_status, fulfillment_status FROM orders "
        "WHERE id = ? AND merchant = ?",
        (order_id, merchant),
    ).fetchone()
    if order is None:
        return None
    lines = tuple(
        Line(
            id=row["id"],
            item_id=row["item_id"],
            sku_code=row["sku_code"],
            country_code=row["country_code"],
            product_num=row["product_num"],
            reserved=row["reserved"],
        )
        for row in db.execute(
            "SELECT id, item_id, sku_code, country_code, product_num, reserved "
            "FROM order_lines WHERE order_id = ? ORDER BY position",
            (order_id,),
        )
    )
    return OrderState(
        id=order["id"],
        status=order["status"],
        financial_status=order["financial_status"],
        fulfillment_status=order["fulfillment_status"],
        lines=lines,
    )


def find_orders(
    db: sqlite3.Connection,
    merchant: str,
    *,
    ids: Sequence[str] | None,
    created: tuple[float | None, float | None],
    modified: tuple[float | None, float | None],
    limit: int,
    offset: int,
) -> tuple[int, list[Row]]:
    """A page of the merchant's orders matching the filters, newest first, and the total."""
    where = ["merchant = ?"]
    args: list[Any] = [merchant]
    if ids is not None:
        where.append(f"id IN ({','.join('?' * len(ids))})")
        args.extend(ids)
    for column, (start, end) in (("create_date", created), ("modify_date", modified)):
        if start is not None:
            where.append(f"{column} >= ?")
            args.append(start)
        if end is not None:
            where.append(f"{column} <= ?")
            args.append(end)
    condition = " AND ".join(where)
    total = db.execute(f"SELECT COUNT(*) FROM orders WHERE {condition}", args).fetchone()[0]
    rows = db.execute(
        f"SELECT * FROM orders WHERE {condition} ORDER BY create_date DESC, id DESC "
        "LIMIT ? OFFSET ?",
        [*args, limit, offset],
    ).fetchall()
    return int(total), rows


def lines_of(db: sqlite3.Connection, order_ids: Sequence[str]) -> dict[str, list[Row]]:
    """The lines of several orders, by order id, in their order."""
    by_order: dict[str, list[Row]] = {order_id: [] for order_id in order_ids}
    if order_ids:
        rows = db.execute(
            f"SELECT * FROM order_lines WHERE order_id IN ({','.join('?' * len(order_ids))}) "
            "ORDER BY order_id, position",
            list(order_ids),
        )
        for row in rows:
            by_order[row["order_id"]].append(row)
    return by_order


def refund_no(seq: int) -> str:
    """The refund number of the refund stored as ``seq``."""
    return str(REFUND_NO_BASE + seq)


def refunds_page(
    db: sqlite3.Connection, order_id: str, *, limit: int, offset: int
) -> tuple[int, list[Row]]:
    """A page of an order's refunds, newest first, and their total."""
    total = db.execute("SELECT COUNT(*) FROM refunds WHERE order_id = ?", (order_id,))
    rows = db.execute(
        "SELECT refund_no, order_id, status, remark FROM refunds WHERE order_id = ? "
        "ORDER BY seq DESC LIMIT ? OFFSET ?",
        (order_id, limit, offset),
    ).fetchall()
    return int(total.fetchone()[0]), rows
