"""Every query of the sandbox on PostgreSQL: plain async functions over a connection the
caller holds (in a transaction where it writes), as :mod:`kakaclo_sandbox.storage.queries`
on SQLite. They read and write what the refund rules decide, and decide nothing.

The reads' SQL and the mapping of their rows are shared with the console's synchronous
read (:mod:`.timeline`): :func:`orders_query`, :func:`lines_query`, :func:`stored_orders`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kakaclo_client.models import OrderStatus, RefundStatus
from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from kakaclo_sandbox.domain.orders import (
    Line,
    NewOrder,
    OrderState,
    PendingRefund,
    StoredAnswer,
    StoredLine,
    StoredOrder,
    StoredRefund,
)
from kakaclo_sandbox.storage.postgres.schema import VERSION_KEY, WIPED_TABLES
from kakaclo_sandbox.storage.queries import (
    LINE_COLUMNS,
    ORDER_COLUMNS,
    refund_no,
    seq_of,
)
from kakaclo_sandbox.storage.rows import LineRow, OrderRow, insert_sql, line_rows, order_row
from kakaclo_sandbox.storage.schema import IS_PENDING

Connection = AsyncConnection[TupleRow]
PENDING = RefundStatus.PENDING_REVIEW.value
INSERT_ORDER = insert_sql("orders", OrderRow._fields, "%s")
INSERT_LINE = insert_sql("order_lines", LineRow._fields, "%s")

# -- orders ---------------------------------------------------------------------------


async def order_state(db: Connection, merchant: str, order_id: str) -> OrderState | None:
    """The merchant's order with this id and its lines, the order's row locked (FOR UPDATE):
    every writer of an order's lines locks its order first, so two refunds of one order take
    turns. The lines are read by a statement of their own, which runs once the lock is
    taken, so they are current."""
    order_cursor = await db.execute(
        "SELECT pk, status, financial_status, fulfillment_status FROM orders "
        "WHERE merchant = %s AND id = %s FOR UPDATE",
        (merchant, order_id),
    )
    lines_cursor = await db.execute(
        "SELECT l.pk, l.id, l.item_id, l.sku_code, l.country_code, l.product_num, l.reserved "
        "FROM order_lines l JOIN orders o ON o.pk = l.order_pk "
        "WHERE o.merchant = %s AND o.id = %s ORDER BY l.position",
        (merchant, order_id),
    )
    order = await order_cursor.fetchone()
    rows = await lines_cursor.fetchall()
    if order is None:
        return None
    lines = tuple(
        Line(
            id=row[1],
            item_id=row[2],
            sku_code=row[3],
            country_code=row[4],
            product_num=row[5],
            reserved=row[6],
            key=row[0],
        )
        for row in rows
    )
    return OrderState(
        id=order_id,
        status=order[1],
        financial_status=order[2],
        fulfillment_status=order[3],
        lines=lines,
        key=order[0],
    )


def orders_query(
    merchant: str,
    *,
    ids: Sequence[str] | None,
    created: tuple[float | None, float | None],
    modified: tuple[float | None, float | None],
    limit: int,
    offset: int,
) -> tuple[str, list[Any], str, list[Any]]:
    """The count and the page of the merchant's orders matching the filters: (count SQL,
    its arguments, page SQL, its arguments)."""
    where = ["merchant = %s"]
    args: list[Any] = [merchant]
    if ids is not None:
        where.append("id = ANY(%s)")
        args.append(list(ids))
    for column, (start, end) in (("create_date", created), ("modify_date", modified)):
        if start is not None:
            where.append(f"{column} >= %s")
            args.append(start)
        if end is not None:
            where.append(f"{column} <= %s")
            args.append(end)
    condition = " AND ".join(where)
    return (
        f"SELECT COUNT(*) FROM orders WHERE {condition}",
        args,
        f"SELECT {ORDER_COLUMNS} FROM orders WHERE {condition} "
        "ORDER BY create_date DESC, id DESC LIMIT %s OFFSET %s",
        [*args, limit, offset],
    )


def lines_query(order_keys: Sequence[int]) -> tuple[str, list[Any]]:
    """The lines of these orders (by key), in their order."""
    return (
        f"SELECT {LINE_COLUMNS} FROM order_lines WHERE order_pk = ANY(%s) "
        "ORDER BY order_pk, position",
        [list(order_keys)],
    )


def stored_orders(rows: Sequence[TupleRow], lines: Sequence[TupleRow]) -> list[StoredOrder]:
    """Orders (rows of ORDER_COLUMNS) with their lines (rows of LINE_COLUMNS)."""
    by_order: dict[int, list[StoredLine]] = {row[0]: [] for row in rows}
    for line in lines:
        by_order[line[0]].append(StoredLine._make(line[1:]))
    return [StoredOrder._make((*row, tuple(by_order[row[0]]))) for row in rows]


async def _with_lines(db: Connection, rows: Sequence[TupleRow]) -> list[StoredOrder]:
    if not rows:
        return []
    sql, args = lines_query([row[0] for row in rows])
    cursor = await db.execute(sql, args)
    return stored_orders(rows, await cursor.fetchall())


async def find_orders(
    db: Connection,
    merchant: str,
    *,
    ids: Sequence[str] | None,
    created: tuple[float | None, float | None],
    modified: tuple[float | None, float | None],
    limit: int,
    offset: int,
) -> tuple[int, list[StoredOrder]]:
    """A page of the merchant's orders matching the filters, newest first, and the total."""
    count, count_args, page, page_args = orders_query(
        merchant, ids=ids, created=created, modified=modified, limit=limit, offset=offset
    )
    cursor = await db.execute(count, count_args)
    total = await cursor.fetchone()
    cursor = await db.execute(page, page_args)
    rows = await cursor.fetchall()
    return int(total[0] if total else 0), await _with_lines(db, rows)


async def stored_order(db: Connection, merchant: str, order_id: str) -> StoredOrder | None:
    """The merchant's order with this id and its lines, if any."""
    cursor = await db.execute(
        f"SELECT {ORDER_COLUMNS} FROM orders WHERE merchant = %s AND id = %s", (merchant, order_id)
    )
    found = await _with_lines(db, await cursor.fetchall())
    return found[0] if found else None


async def order_exists(db: Connection, merchant: str, order_id: str) -> bool:
    """True when the merchant has an order with this id."""
    cursor = await db.execute(
        "SELECT 1 FROM orders WHERE merchant = %s AND id = %s", (merchant, order_id)
    )
    return await cursor.fetchone() is not None


async def taken_line_ids(db: Connection, merchant: str, line_ids: Sequence[str]) -> dict[str, str]:
    """Which of ``line_ids`` a line of the merchant's orders already has, and that order's id."""
    if not line_ids:
        return {}
    cursor = await db.execute(
        "SELECT l.id, o.id FROM order_lines l JOIN orders o ON o.pk = l.order_pk "
        "WHERE l.merchant = %s AND l.id = ANY(%s)",
        (merchant, list(line_ids)),
    )
    return {row[0]: row[1] for row in await cursor.fetchall()}


async def insert_order(db: Connection, order: NewOrder) -> None:
    """Insert one order and its lines (their ids checked free first)."""
    cursor = await db.execute(INSERT_ORDER + " RETURNING pk", order_row(order))
    inserted = await cursor.fetchone()
    assert inserted is not None
    async with db.cursor() as lines:
        await lines.executemany(INSERT_LINE, line_rows(order, inserted[0]))


async def line_counts(db: Connection, order_key: int) -> list[tuple[int, int]]:
    """(pieces, refunded pieces) of each line of an order (by its key)."""
    cursor = await db.execute(
        "SELECT product_num, refunded FROM order_lines WHERE order_pk = %s", (order_key,)
    )
    return [(row[0], row[1]) for row in await cursor.fetchall()]


async def cancel_order(db: Connection, order_key: int, at: float) -> None:
    """Mark an order (by its key) cancelled at ``at``."""
    await db.execute(
        "UPDATE orders SET status = %s, cancel_date = %s WHERE pk = %s",
        (OrderStatus.CANCEL.value, at, order_key),
    )


# -- refunds --------------------------------------------------------------------------


async def insert_refund(
    db: Connection,
    order_key: int,
    pieces: Mapping[int, int],
    *,
    reason: str,
    remark: str | None,
    now: float,
    settle_at: float,
) -> int:
    """Store a pending refund of ``pieces`` (line key -> quantity) and reserve them (the
    order already locked, :func:`order_state`); its ``seq``. One statement: the refund,
    its lines and the counters."""
    keys, quantities = list(pieces), list(pieces.values())
    cursor = await db.execute(
        "WITH refund AS (INSERT INTO refunds (order_pk, status, reason, remark, created_at, "
        "settle_at) VALUES (%(order)s, %(status)s, %(reason)s, %(remark)s, %(now)s, "
        "%(settle_at)s) RETURNING seq), "
        "pieces AS (INSERT INTO refund_lines (refund_seq, line_pk, quantity) "
        "SELECT refund.seq, p.line, p.quantity FROM refund, "
        "unnest(%(keys)s::bigint[], %(quantities)s::bigint[]) AS p (line, quantity)), "
        "lines AS (UPDATE order_lines l SET reserved = l.reserved + p.quantity "
        "FROM unnest(%(keys)s::bigint[], %(quantities)s::bigint[]) AS p (line, quantity) "
        "WHERE l.pk = p.line), "
        "counted AS (UPDATE orders SET pending_refunds = pending_refunds + 1, "
        "modify_date = %(now)s WHERE pk = %(order)s) "
        "SELECT seq FROM refund",
        {
            "order": order_key,
            "status": PENDING,
            "reason": reason,
            "remark": remark,
            "now": now,
            "settle_at": settle_at,
            "keys": keys,
            "quantities": quantities,
        },
    )
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def _pending(db: Connection, rows: Sequence[TupleRow]) -> list[PendingRefund]:
    """Refunds (rows of seq, order_pk, remark, settle_at) with their pieces."""
    if not rows:
        return []
    cursor = await db.execute(
        "SELECT refund_seq, line_pk, quantity FROM refund_lines WHERE refund_seq = ANY(%s) "
        "ORDER BY refund_seq, line_pk",
        ([row[0] for row in rows],),
    )
    pieces: dict[int, list[tuple[int, int]]] = {row[0]: [] for row in rows}
    for seq, line, quantity in await cursor.fetchall():
        pieces[seq].append((line, quantity))
    return [
        PendingRefund(
            seq=row[0],
            order_key=row[1],
            remark=row[2],
            settle_at=row[3],
            pieces=tuple(pieces[row[0]]),
        )
        for row in rows
    ]


async def due_refunds(db: Connection, now: float) -> list[PendingRefund]:
    """Pending refunds whose time has come, earliest first, locked (FOR UPDATE): a second
    settlement waits for the first and then finds them settled."""
    cursor = await db.execute(
        f"SELECT seq, order_pk, remark, settle_at FROM refunds WHERE {IS_PENDING} "
        "AND settle_at <= %s ORDER BY settle_at, seq FOR UPDATE",
        (now,),
    )
    return await _pending(db, await cursor.fetchall())


async def pending_refund(db: Connection, number: str) -> PendingRefund:
    """The refund with this number (data files settle each one they seed)."""
    cursor = await db.execute(
        "SELECT seq, order_pk, remark, settle_at FROM refunds WHERE seq = %s FOR UPDATE",
        (seq_of(number),),
    )
    return (await _pending(db, await cursor.fetchall()))[0]


async def next_due(db: Connection) -> float | None:
    """When the earliest pending refund is due, or None."""
    cursor = await db.execute(f"SELECT min(settle_at) FROM refunds WHERE {IS_PENDING}")
    row = await cursor.fetchone()
    return None if row is None or row[0] is None else float(row[0])


async def mark_settled(db: Connection, refund: PendingRefund, status: str) -> None:
    """Record a pending refund's final status, at its due time."""
    await db.execute(
        "UPDATE refunds SET status = %s, settled_at = %s WHERE seq = %s AND status = %s",
        (status, refund.settle_at, refund.seq, PENDING),
    )


async def _count_pieces(
    db: Connection, refund: PendingRefund, assignment: str, refunded: bool
) -> None:
    """The order first (its lock, as a refund takes it), then its lines (``assignment``:
    the counter's new value from ``l``, the line, and ``p.quantity``, the refund's pieces)."""
    await db.execute(
        "UPDATE orders SET pending_refunds = pending_refunds - 1, "
        "modify_date = GREATEST(modify_date, %s)"
        + (", refund_date = %s" if refunded else "")
        + " WHERE pk = %s",
        (refund.settle_at, refund.settle_at, refund.order_key)
        if refunded
        else (refund.settle_at, refund.order_key),
    )
    await db.execute(
        f"UPDATE order_lines l SET {assignment} "
        "FROM unnest(%s::bigint[], %s::bigint[]) AS p (line, quantity) WHERE l.pk = p.line",
        (
            [line for line, _ in refund.pieces],
            [quantity for _, quantity in refund.pieces],
        ),
    )


async def release_pieces(db: Connection, refund: PendingRefund) -> None:
    """Give a failed refund's pieces back to their lines."""
    await _count_pieces(db, refund, "reserved = l.reserved - p.quantity", refunded=False)


async def refund_pieces(db: Connection, refund: PendingRefund) -> None:
    """Count a successful refund's pieces as refunded; the order's refund date is its due time."""
    await _count_pieces(db, refund, "refunded = l.refunded + p.quantity", refunded=True)


async def refunds_page(
    db: Connection, merchant: str, order_id: str, *, limit: int, offset: int
) -> tuple[int, list[StoredRefund]] | None:
    """A page of an order's refunds, newest first, and their total; None when ``merchant``
    has no order with this id."""
    cursor = await db.execute(
        "SELECT pk, (SELECT COUNT(*) FROM refunds WHERE order_pk = orders.pk) FROM orders "
        "WHERE merchant = %s AND id = %s",
        (merchant, order_id),
    )
    owned = await cursor.fetchone()
    if owned is None:
        return None
    order_key, total = int(owned[0]), int(owned[1])
    if offset >= total:
        return total, []
    cursor = await db.execute(
        "SELECT seq, status, remark FROM refunds WHERE order_pk = %s "
        "ORDER BY seq DESC LIMIT %s OFFSET %s",
        (order_key, limit, offset),
    )
    return total, [
        StoredRefund(refund_no(row[0]), order_id, row[1], row[2]) for row in await cursor.fetchall()
    ]


# -- Idempotency-Key ------------------------------------------------------------------


async def stored_answer(
    db: Connection, merchant: str, key: str, since: float
) -> StoredAnswer | None:
    """The answer stored under the merchant's key, if it was stored after ``since``."""
    cursor = await db.execute(
        "SELECT fingerprint, refund_no FROM idempotency_keys "
        "WHERE merchant = %s AND key = %s AND created_at > %s",
        (merchant, key, since),
    )
    row = await cursor.fetchone()
    return None if row is None else StoredAnswer(row[0], str(row[1]))


async def remember_answer(
    db: Connection, merchant: str, key: str, digest: str, number: str, now: float
) -> None:
    """Store a successful answer under the key (replacing an expired entry)."""
    await db.execute(
        "INSERT INTO idempotency_keys (merchant, key, fingerprint, refund_no, created_at) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (merchant, key) DO UPDATE SET "
        "fingerprint = excluded.fingerprint, refund_no = excluded.refund_no, "
        "created_at = excluded.created_at",
        (merchant, key, digest, number, now),
    )


# -- the sandbox's own ----------------------------------------------------------------


async def meta(db: Connection, key: str) -> str | None:
    """A value of the meta table."""
    cursor = await db.execute("SELECT value FROM meta WHERE key = %s", (key,))
    row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def set_meta(db: Connection, key: str, value: str) -> None:
    """Set a meta value."""
    await db.execute(
        "INSERT INTO meta (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


async def merchants(db: Connection) -> dict[str, str]:
    """Every token and its merchant."""
    cursor = await db.execute("SELECT token, merchant FROM merchants")
    return {row[0]: row[1] for row in await cursor.fetchall()}


async def add_merchant(db: Connection, merchant: str, tokens: Sequence[str]) -> None:
    """Store a merchant's tokens."""
    async with db.cursor() as cursor:
        await cursor.executemany(
            "INSERT INTO merchants (token, merchant) VALUES (%s, %s)",
            [(token, merchant) for token in tokens],
        )


async def is_empty(db: Connection) -> bool:
    """True when no merchant exists yet."""
    cursor = await db.execute("SELECT 1 FROM merchants LIMIT 1")
    return await cursor.fetchone() is None


async def wipe(db: Connection) -> None:
    """Delete every row but the schema's version."""
    for table in WIPED_TABLES:
        await db.execute(f"DELETE FROM {table}")
    await db.execute("DELETE FROM meta WHERE key <> %s", (VERSION_KEY,))


async def write_version(db: Connection) -> int:
    """The version of what is stored (moved after every write transaction)."""
    cursor = await db.execute(
        "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM write_version"
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def move_version(db: Connection) -> None:
    """Move the version, once a write transaction has committed."""
    await db.execute("SELECT nextval('write_version')")
