"""Every query of the sandbox: plain functions over a connection the caller holds inside a
transaction (see :class:`kakaclo_sandbox.storage.store.Store`). They read and write what the
refund rules decide, and decide nothing themselves.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kakaclo_client.models import OrderStatus, RefundStatus

from kakaclo_sandbox.domain.orders import (
    Line,
    OrderState,
    PendingRefund,
    StoredAnswer,
    StoredLine,
    StoredOrder,
    StoredRefund,
)
from kakaclo_sandbox.storage.schema import IS_PENDING, Row

# Refund numbers look like the vendor's (19 digits, beyond a JS-safe integer).
REFUND_NO_BASE = 1_560_897_343_230_000_000


def refund_no(seq: int) -> str:
    """The refund number of the refund stored as ``seq``."""
    return str(REFUND_NO_BASE + seq)


def seq_of(number: str) -> int:
    """The stored ``seq`` of a refund number (the inverse of :func:`refund_no`)."""
    return int(number) - REFUND_NO_BASE


# -- orders ---------------------------------------------------------------------------


def order_state(db: sqlite3.Connection, merchant: str, order_id: str) -> OrderState | None:
    """The merchant's order with this id, with its lines (one statement)."""
    rows = db.execute(
        "SELECT o.pk, o.status, o.financial_status, o.fulfillment_status, l.pk AS line_pk, "
        "l.id AS line_id, l.item_id, l.sku_code, l.country_code, l.product_num, l.reserved "
        "FROM orders o LEFT JOIN order_lines l ON l.order_pk = o.pk "
        "WHERE o.merchant = ? AND o.id = ? ORDER BY l.position",
        (merchant, order_id),
    ).fetchall()
    if not rows:
        return None
    first = rows[0]
    return OrderState(
        id=order_id,
        status=first["status"],
        financial_status=first["financial_status"],
        fulfillment_status=first["fulfillment_status"],
        lines=tuple(
            Line(
                id=row["line_id"],
                item_id=row["item_id"],
                sku_code=row["sku_code"],
                country_code=row["country_code"],
                product_num=row["product_num"],
                reserved=row["reserved"],
                key=row["line_pk"],
            )
            for row in rows
            if row["line_pk"] is not None
        ),
        key=first["pk"],
    )


# The columns of StoredOrder and StoredLine, in their order (a line's order key first).
ORDER_COLUMNS = (
    "pk, id, custom_order_id, remark, status, financial_status, fulfillment_status, "
    "warehouse_id, currency_code, freight_e4, coupon_e4, promotion_e4, pending_refunds, "
    "purchase_date, pay_date, create_date, modify_date, cancel_date, refund_date, "
    "shipping_address, fulfillments"
)
LINE_COLUMNS = (
    "order_pk, pk, id, item_id, sku_code, country_code, product_name, image_url, option1, "
    "option2, option3, amount_e4, product_num, stock_status, reserved, refunded"
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
) -> tuple[int, list[StoredOrder]]:
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
        f"SELECT {ORDER_COLUMNS} FROM orders WHERE {condition} "
        "ORDER BY create_date DESC, id DESC LIMIT ? OFFSET ?",
        [*args, limit, offset],
    ).fetchall()
    return int(total), _with_lines(db, rows)


def _with_lines(db: sqlite3.Connection, rows: Sequence[Row]) -> list[StoredOrder]:
    """Orders (rows of ORDER_COLUMNS) with their lines, in their order: one statement."""
    by_order: dict[int, list[StoredLine]] = {row[0]: [] for row in rows}
    if by_order:
        lines = db.execute(
            f"SELECT {LINE_COLUMNS} FROM order_lines "
            f"WHERE order_pk IN ({','.join('?' * len(by_order))}) ORDER BY order_pk, position",
            list(by_order),
        )
        for line in lines:
            by_order[line[0]].append(StoredLine._make(line[1:]))
    return [StoredOrder._make((*row, tuple(by_order[row[0]]))) for row in rows]


def stored_order(db: sqlite3.Connection, merchant: str, order_id: str) -> StoredOrder | None:
    """The merchant's order with this id and its lines, if any."""
    rows = db.execute(
        f"SELECT {ORDER_COLUMNS} FROM orders WHERE merchant = ? AND id = ?", (merchant, order_id)
    ).fetchall()
    found = _with_lines(db, rows)
    return found[0] if found else None


def taken_line_ids(
    db: sqlite3.Connection, merchant: str, line_ids: Sequence[str]
) -> dict[str, str]:
    """Which of ``line_ids`` a line of the merchant's orders already has, and that order's id."""
    if not line_ids:
        return {}
    rows = db.execute(
        "SELECT l.id, o.id AS order_id FROM order_lines l JOIN orders o ON o.pk = l.order_pk "
        f"WHERE l.merchant = ? AND l.id IN ({','.join('?' * len(line_ids))})",
        [merchant, *line_ids],
    )
    return {row["id"]: row["order_id"] for row in rows}


def line_counts(db: sqlite3.Connection, order_key: int) -> list[tuple[int, int]]:
    """(pieces, refunded pieces) of each line of an order (by its key)."""
    rows = db.execute(
        "SELECT product_num, refunded FROM order_lines WHERE order_pk = ?", (order_key,)
    )
    return [(row["product_num"], row["refunded"]) for row in rows]


def cancel_order(db: sqlite3.Connection, order_key: int, at: float) -> None:
    """Mark an order (by its key) cancelled at ``at``."""
    db.execute(
        "UPDATE orders SET status = ?, cancel_date = ? WHERE pk = ?",
        (OrderStatus.CANCEL.value, at, order_key),
    )


# -- refunds --------------------------------------------------------------------------


# slots, not frozen, as the rules' values: one is built on every refund.
@dataclass(slots=True)
class NewRefund:
    """A pending refund to store: ``pieces`` (line key -> quantity) of one order (by its key)."""

    seq: int
    order_key: int
    pieces: dict[int, int]
    reason: str
    remark: str | None
    created_at: float
    settle_at: float


def last_refund_seq(db: sqlite3.Connection) -> int:
    """The highest ``seq`` a refund was ever stored with (0 for none).

    AUTOINCREMENT's own count: it outlives deleted rows, so a seq is never reused.
    """
    row = db.execute(
        "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)", ("refunds",)
    ).fetchone()
    return int(row[0])


def insert_refunds(db: sqlite3.Connection, refunds: Sequence[NewRefund]) -> None:
    """Store pending refunds and reserve their pieces, one statement per table for all."""
    pending = RefundStatus.PENDING_REVIEW.value
    pieces = [(r.seq, line, quantity) for r in refunds for line, quantity in r.pieces.items()]
    db.executemany(
        "INSERT INTO refunds (seq, order_pk, status, reason, remark, created_at, settle_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (r.seq, r.order_key, pending, r.reason, r.remark, r.created_at, r.settle_at)
            for r in refunds
        ],
    )
    db.executemany(
        "INSERT INTO refund_lines (refund_seq, line_pk, quantity) VALUES (?, ?, ?)", pieces
    )
    # One update per line and per order, however many of the refunds touch it: the
    # sums, and the last refund's time (what one update per refund would leave).
    reserved: dict[int, int] = {}
    for _, line, quantity in pieces:
        reserved[line] = reserved.get(line, 0) + quantity
    orders: dict[int, tuple[int, float]] = {}
    for r in refunds:
        count = orders[r.order_key][0] if r.order_key in orders else 0
        orders[r.order_key] = (count + 1, r.created_at)
    db.executemany(
        "UPDATE order_lines SET reserved = reserved + ? WHERE pk = ?",
        [(quantity, line) for line, quantity in reserved.items()],
    )
    db.executemany(
        "UPDATE orders SET pending_refunds = pending_refunds + ?, modify_date = ? WHERE pk = ?",
        [(count, at, order) for order, (count, at) in orders.items()],
    )


def _pending(db: sqlite3.Connection, row: Row) -> PendingRefund:
    pieces = db.execute(
        "SELECT line_pk, quantity FROM refund_lines WHERE refund_seq = ?", (row["seq"],)
    )
    return PendingRefund(
        seq=row["seq"],
        order_key=row["order_pk"],
        remark=row["remark"],
        settle_at=row["settle_at"],
        pieces=tuple((piece["line_pk"], piece["quantity"]) for piece in pieces),
    )


def due_refunds(db: sqlite3.Connection, now: float) -> list[PendingRefund]:
    """Pending refunds whose time has come, earliest first."""
    rows = db.execute(
        f"SELECT seq, order_pk, remark, settle_at FROM refunds WHERE {IS_PENDING} "
        "AND settle_at <= ? ORDER BY settle_at",
        (now,),
    ).fetchall()
    return [_pending(db, row) for row in rows]


def pending_refund(db: sqlite3.Connection, number: str) -> PendingRefund:
    """The refund with this number (data files settle each one they seed)."""
    row = db.execute(
        "SELECT seq, order_pk, remark, settle_at FROM refunds WHERE seq = ?", (seq_of(number),)
    ).fetchone()
    return _pending(db, row)


def next_due(db: sqlite3.Connection) -> float | None:
    """When the earliest pending refund is due, or None."""
    row = db.execute(f"SELECT min(settle_at) FROM refunds WHERE {IS_PENDING}").fetchone()
    return None if row[0] is None else float(row[0])


def mark_settled(db: sqlite3.Connection, refund: PendingRefund, status: str) -> None:
    """Record a pending refund's final status, at its due time."""
    db.execute(
        "UPDATE refunds SET status = ?, settled_at = ? WHERE seq = ? AND status = ?",
        (status, refund.settle_at, refund.seq, RefundStatus.PENDING_REVIEW.value),
    )


def release_pieces(db: sqlite3.Connection, refund: PendingRefund) -> None:
    """Give a failed refund's pieces back to their lines."""
    db.executemany(
        "UPDATE order_lines SET reserved = reserved - ? WHERE pk = ?",
        [(quantity, line) for line, quantity in refund.pieces],
    )
    db.execute(
        "UPDATE orders SET pending_refunds = pending_refunds - 1, "
        "modify_date = max(modify_date, ?) WHERE pk = ?",
        (refund.settle_at, refund.order_key),
    )


def refund_pieces(db: sqlite3.Connection, refund: PendingRefund) -> None:
    """Count a successful refund's pieces as refunded; the order's refund date is its due time."""
    db.executemany(
        "UPDATE order_lines SET refunded = refunded + ? WHERE pk = ?",
        [(quantity, line) for line, quantity in refund.pieces],
    )
    db.execute(
        "UPDATE orders SET pending_refunds = pending_refunds - 1, "
        "modify_date = max(modify_date, ?), refund_date = ? WHERE pk = ?",
        (refund.settle_at, refund.settle_at, refund.order_key),
    )


def refunds_page(
    db: sqlite3.Connection, merchant: str, order_id: str, *, limit: int, offset: int
) -> tuple[int, list[StoredRefund]] | None:
    """A page of an order's refunds, newest first, and their total; None when ``merchant``
    has no order with this id."""
    owned = db.execute(
        "SELECT pk, (SELECT COUNT(*) FROM refunds WHERE order_pk = orders.pk) FROM orders "
        "WHERE merchant = ? AND id = ?",
        (merchant, order_id),
    ).fetchone()
    if owned is None:
        return None
    order_key, total = int(owned[0]), int(owned[1])
    if offset >= total:
        return total, []
    rows = db.execute(
        "SELECT seq, status, remark FROM refunds WHERE order_pk = ? "
        "ORDER BY seq DESC LIMIT ? OFFSET ?",
        (order_key, limit, offset),
    )
    page = [
        StoredRefund(refund_no(row["seq"]), order_id, row["status"], row["remark"]) for row in rows
    ]
    return total, page


# -- Idempotency-Key ------------------------------------------------------------------


def stored_answer(
    db: sqlite3.Connection, merchant: str, key: str, since: float
) -> StoredAnswer | None:
    """The answer stored under the merchant's key, if it was stored after ``since``."""
    row = db.execute(
        "SELECT fingerprint, refund_no FROM idempotency_keys "
        "WHERE merchant = ? AND key = ? AND created_at > ?",
        (merchant, key, since),
    ).fetchone()
    return None if row is None else StoredAnswer(row["fingerprint"], str(row["refund_no"]))


def remember_answer(
    db: sqlite3.Connection, merchant: str, key: str, digest: str, number: str, now: float
) -> None:
    """Store a successful answer under the key (replacing an expired entry)."""
    db.execute(
        "INSERT INTO idempotency_keys (merchant, key, fingerprint, refund_no, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (merchant, key) DO UPDATE SET "
        "fingerprint = excluded.fingerprint, refund_no = excluded.refund_no, "
        "created_at = excluded.created_at",
        (merchant, key, digest, number, now),
    )


def meta_value(db: sqlite3.Connection, key: str) -> str | None:
    """A value of the meta table."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])
