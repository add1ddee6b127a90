"""The console's read of a merchant on PostgreSQL (:mod:`kakaclo_sandbox.storage.timeline`
on SQLite): a synchronous connection of the feeds' worker thread's own, in autocommit."""

from __future__ import annotations

import psycopg
from psycopg.rows import TupleRow

from kakaclo_sandbox.domain.orders import StoredOrder, TimelineRefund
from kakaclo_sandbox.storage.postgres.queries import orders_query, stored_orders
from kakaclo_sandbox.storage.queries import refund_no

Connection = psycopg.Connection[TupleRow]


def open_reader(url: str) -> Connection:
    """A connection of its own for the console's worker thread."""
    return psycopg.connect(url, autocommit=True)


def merchant_refunds(
    db: Connection, merchant: str, limit: int | None = None
) -> list[TimelineRefund]:
    """The refunds of the merchant's orders, newest first (at most ``limit``)."""
    rows = db.execute(
        "SELECT r.seq, o.id, r.status, r.remark, r.created_at, r.settled_at "
        "FROM refunds r JOIN orders o ON o.pk = r.order_pk WHERE o.merchant = %s "
        "ORDER BY r.seq DESC LIMIT %s",
        (merchant, limit),
    ).fetchall()
    return [TimelineRefund(refund_no(row[0]), *row[1:]) for row in rows]


def merchant_state(
    db: Connection, merchant: str, max_orders: int, max_refunds: int
) -> tuple[list[StoredOrder], list[TimelineRefund]]:
    """The merchant's orders (newest first, at most ``max_orders``) and refunds (newest
    first, at most ``max_refunds``), as the console shows them."""
    _, orders = stored_orders(
        db.execute(
            *orders_query(
                merchant,
                ids=None,
                created=(None, None),
                modified=(None, None),
                limit=max_orders,
                offset=0,
            )
        ).fetchall()
    )
    return orders, merchant_refunds(db, merchant, limit=max_refunds)
