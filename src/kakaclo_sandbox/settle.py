"""Settlement of pending refunds: ``pending_review`` becomes final once its time has come.

A refund whose remark contains ``[fail]`` settles to ``refund_failed`` and
releases its pieces; every other one settles to ``refund_successfully``.
Settlement happens before every read or write of an order (so what a client
sees never lags the sandbox's clock) and in a background loop (so it also
happens when nobody asks). A settled refund never changes again.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable

from kakaclo_sandbox.refunds import FAILED, PENDING, SUCCEEDED
from kakaclo_sandbox.store import REFUND_NO_BASE, Store

FAIL_MARKER = "[fail]"
log = logging.getLogger("kakaclo_sandbox.settle")


def outcome(remark: str | None) -> str:
    """How a refund with this remark settles."""
    return FAILED if remark and FAIL_MARKER in remark else SUCCEEDED


def settle_due(db: sqlite3.Connection, now: float, order_id: str | None = None) -> int:
    """Settle every pending refund whose time has come (of one order, or all); return how many."""
    # The status is a literal so that SQLite can use the partial indexes.
    query = "SELECT seq, order_id, remark, settle_at FROM refunds "
    query += "WHERE status = 'pending_review' AND settle_at <= ?"
    args: tuple[object, ...] = (now,)
    if order_id is not None:
        query += " AND order_id = ?"
        args += (order_id,)
    due = db.execute(query + " ORDER BY settle_at", args).fetchall()
    for refund in due:
        _settle(db, refund, outcome(refund["remark"]))
    return len(due)


def settle_refund(db: sqlite3.Connection, refund_no: str, status: str) -> None:
    """Settle one pending refund to ``status`` at its due time (data files seed them so)."""
    refund = db.execute(
        "SELECT seq, order_id, remark, settle_at FROM refunds WHERE seq = ?",
        (int(refund_no) - REFUND_NO_BASE,),
    ).fetchone()
    _settle(db, refund, status)


def _settle(db: sqlite3.Connection, refund: sqlite3.Row, status: str) -> None:
    at = refund["settle_at"]
    lines = db.execute(
        "SELECT line_id, quantity FROM refund_lines WHERE refund_seq = ?", (refund["seq"],)
    ).fetchall()
    db.execute(
        "UPDATE refunds SET status = ?, settled_at = ? WHERE seq = ? AND status = ?",
        (status, at, refund["seq"], PENDING),
    )
    if status == FAILED:
        db.executemany(
            "UPDATE order_lines SET reserved = reserved - ? WHERE id = ?",
            [(line["quantity"], line["line_id"]) for line in lines],
        )
        db.execute(
            "UPDATE orders SET pending_refunds = pending_refunds - 1, "
            "modify_date = max(modify_date, ?) WHERE id = ?",
            (at, refund["order_id"]),
        )
        return
    db.executemany(
        "UPDATE order_lines SET refunded = refunded + ? WHERE id = ?",
        [(line["quantity"], line["line_id"]) for line in lines],
    )
    db.execute(
        "UPDATE orders SET pending_refunds = pending_refunds - 1, "
        "modify_date = max(modify_date, ?), refund_date = ? WHERE id = ?",
        (at, at, refund["order_id"]),
    )
    # Every piece refunded: the order is cancelled, as the vendor's "cancel and refund" says.
    db.execute(
        "UPDATE orders SET status = 'cancel', cancel_date = ? WHERE id = ? AND NOT EXISTS "
        "(SELECT 1 FROM order_lines WHERE order_id = ? AND refunded < product_num)",
        (at, refund["order_id"], refund["order_id"]),
    )


def next_due(store: Store) -> float | None:
    """When the earliest pending refund is due, or None."""
    with store.reading() as db:
        row = db.execute(
            "SELECT min(settle_at) FROM refunds WHERE status = 'pending_review'"
        ).fetchone()
    return None if row[0] is None else float(row[0])


async def settle_forever(store: Store, now: Callable[[], float], idle: float = 1.0) -> None:
    """Background loop: settle due refunds, then sleep until the next is due (at most ``idle``)."""
    while True:
        with store.transaction() as db:
            settled = settle_due(db, now())
        if settled:
            log.info("settled %d refund(s)", settled)
        due = next_due(store)
        wait = idle if due is None else min(idle, max(0.01, due - now()))
        await asyncio.sleep(wait)
