"""The console's read of a merchant: its orders, and its refunds with their times (its live
timeline), through the feeds' worker thread's own connection (synchronous: it runs there).

Not an answer of the API, so not among the queries ``make mutation`` mutates
(they carry the refund rules, which the contract suite checks);
``tests/sandbox/test_console.py`` and the browser test check this one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from kakaclo_sandbox.domain.orders import StoredOrder, TimelineRefund
from kakaclo_sandbox.storage.queries import find_orders, refund_no

Connection = sqlite3.Connection  # what the web layer names without speaking SQL


def open_reader(path: str) -> sqlite3.Connection | None:
    """A read-only connection of its own to the database file, for the console's worker
    thread (WAL: it never waits for the writer, nor the writer for it); None for
    ``:memory:``, which no second connection can see."""
    if path == ":memory:":
        return None
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=10.0)
    connection.row_factory = sqlite3.Row
    return connection


def merchant_refunds(
    db: sqlite3.Connection, merchant: str, limit: int | None = None
) -> list[TimelineRefund]:
    """The refunds of the merchant's orders, newest first (at most ``limit``)."""
    rows = db.execute(
        "SELECT r.seq, o.id AS order_id, r.status, r.remark, r.created_at, r.settled_at "
        "FROM refunds r JOIN orders o ON o.pk = r.order_pk WHERE o.merchant = ? "
        "ORDER BY r.seq DESC LIMIT ?",
        (merchant, -1 if limit is None else limit),
    )
    return [
        TimelineRefund(
            refund_no(row["seq"]),
            row["order_id"],
            row["status"],
            row["remark"],
            row["created_at"],
            row["settled_at"],
        )
        for row in rows
    ]


def merchant_state(
    db: sqlite3.Connection, merchant: str, max_orders: int, max_refunds: int
) -> tuple[list[StoredOrder], list[TimelineRefund]]:
    """The merchant's orders (newest first, at most ``max_orders``) and refunds (newest
    first, at most ``max_refunds``), as the console shows them."""
    _, orders = find_orders(
        db,
        merchant,
        ids=None,
        created=(None, None),
        modified=(None, None),
        limit=max_orders,
        offset=0,
    )
    return orders, merchant_refunds(db, merchant, limit=max_refunds)
