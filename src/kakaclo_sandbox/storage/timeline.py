"""The console's read of a merchant's refunds with their times (its live timeline).

Not an answer of the API, so not among the queries ``make mutation`` mutates
(they carry the refund rules, which the contract suite checks);
``tests/sandbox/test_console.py`` and the browser test check this one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kakaclo_sandbox.storage.queries import refund_no


@dataclass(frozen=True)
class TimelineRefund:
    """A refund with its times, for the console's timeline."""

    refund_no: str
    order_id: str
    status: str
    remark: str | None
    created_at: float
    settled_at: float | None


def merchant_refunds(db: sqlite3.Connection, merchant: str) -> list[TimelineRefund]:
    """Every refund of the merchant's orders, newest first."""
    rows = db.execute(
        "SELECT r.seq, r.order_id, r.status, r.remark, r.created_at, r.settled_at "
        "FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.merchant = ? "
        "ORDER BY r.seq DESC",
        (merchant,),
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
