"""Every query of the sandbox on PostgreSQL: plain async functions over a connection the
caller holds (in a transaction where it writes), as :mod:`kakaclo_sandbox.storage.queries`
on SQLite. They read and write what the refund rules decide, and decide nothing.

The reads' SQL and the mapping of their rows are shared with the console's synchronous
read (:mod:`.timeline`): :func:`orders_query` and :func:`stored_orders`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

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
from kakaclo_sandbox.storage.interface import Bucket, Glance
from kakaclo_sandbox.storage.postgres import failures
from kakaclo_sandbox.storage.postgres.schema import VERSION_KEY, WIPED_TABLES
from kakaclo_sandbox.storage.queries import (
    LINE_COLUMNS,
    ORDER_COLUMNS,
    NewRefund,
    refund_no,
    seq_of,
)
from kakaclo_sandbox.storage.rows import LineRow, OrderRow, insert_sql, line_rows, order_row
from kakaclo_sandbox.storage.schema import IS_PENDING

Connection = AsyncConnection[TupleRow]
PENDING = RefundStatus.PENDING_REVIEW.value
INSERT_ORDER = insert_sql("orders", OrderRow._fields, "%s")
INSERT_LINE = insert_sql("order_lines", LineRow._fields, "%s")
REFUND_SEQUENCE = "refunds_seq_seq"  # refunds.seq's (a BIGSERIAL's own sequence)
DUE_ORDER = "settle_at, seq"  # the order refunds are locked in, by settlement and wipe alike


class StoredKey(NamedTuple):
    """An answer to store under an Idempotency-Key."""

    merchant: str
    key: str
    digest: str
    number: str
    created_at: float


# -- orders ---------------------------------------------------------------------------


class OrderBusy(Exception):
    """The order's row is locked by another transaction (:func:`order_state` ``if_free``)."""


async def order_state(
    db: Connection, merchant: str, order_id: str, *, if_free: bool = False
) -> OrderState | None:
    """The merchant's order with this id and its lines, the order's row locked (FOR UPDATE):
    every writer of an order's lines locks its order first, so two refunds of one order take
    turns. The lines are read by a statement of their own, which runs once the lock is
    taken, so they are current. ``if_free``: never wait for the lock (``SKIP LOCKED``);
    :class:`OrderBusy` when another transaction holds it."""
    where = {"merchant": merchant, "id": order_id}
    if if_free:
        # the same snapshot tells a locked row from a missing one
        order_cursor = await db.execute(
            "WITH free AS (SELECT pk, status, financial_status, fulfillment_status FROM orders "
            "WHERE merchant = %(merchant)s AND id = %(id)s FOR UPDATE SKIP LOCKED) "
            "SELECT f.pk, f.status, f.financial_status, f.fulfillment_status, "
            "EXISTS (SELECT FROM orders WHERE merchant = %(merchant)s AND id = %(id)s) "
            "FROM (VALUES (1)) AS one LEFT JOIN free f ON true",
            where,
        )
    else:
        order_cursor = await db.execute(
            "SELECT pk, status, financial_status, fulfillment_status FROM orders "
            "WHERE merchant = %(merchant)s AND id = %(id)s FOR UPDATE",
            where,
        )
    found = await order_cursor.fetchone()
    order = None if found is None or found[0] is None else found
    if order is None:
        if found is not None and found[4]:
            raise OrderBusy(order_id)
        return None
    lines_cursor = await db.execute(
        "SELECT l.pk, l.id, l.item_id, l.sku_code, l.country_code, l.product_num, l.reserved "
        "FROM order_lines l WHERE l.order_pk = %s ORDER BY l.position",
        (order[0],),
    )
    rows = await lines_cursor.fetchall()
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


ORDER_WIDTH = len(ORDER_COLUMNS.split(","))
LINE_WIDTH = len(LINE_COLUMNS.split(","))


def _matching(
    merchant: str,
    ids: Sequence[str] | None,
    created: tuple[float | None, float | None],
    modified: tuple[float | None, float | None],
) -> tuple[str, list[Any]]:
    """The WHERE condition of the merchant's orders matching the filters, and its arguments."""
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
    return " AND ".join(where), args


def orders_query(
    merchant: str,
    *,
    ids: Sequence[str] | None,
    created: tuple[float | None, float | None],
    modified: tuple[float | None, float | None],
    limit: int,
    offset: int,
) -> tuple[str, list[Any]]:
    """A page of the merchant's orders matching the filters, newest first, with their
    lines and the total of the matching orders: one statement, so the page, its lines and
    the total are one snapshot. Its rows are read by :func:`stored_orders`."""
    condition, args = _matching(merchant, ids, created, modified)
    return (
        f"WITH page AS (SELECT {ORDER_COLUMNS}, COUNT(*) OVER () AS total FROM orders "
        f"WHERE {condition} ORDER BY create_date DESC, id DESC LIMIT %s OFFSET %s) "
        "SELECT page.*, line.* FROM page LEFT JOIN LATERAL "
        f"(SELECT {LINE_COLUMNS}, position AS line_position FROM order_lines "
        "WHERE order_pk = page.pk) line ON true "
        "ORDER BY page.create_date DESC, page.id DESC, line.line_position",
        [*args, limit, offset],
    )


def stored_orders(rows: Sequence[TupleRow]) -> tuple[int, list[StoredOrder]]:
    """The total and the orders with their lines, from :func:`orders_query`'s rows (one
    per line; an order without lines has one row of NULL lines)."""
    if not rows:
        return 0, []
    orders: dict[int, tuple[Any, ...]] = {}
    lines: dict[int, list[StoredLine]] = {}
    for row in rows:
        key = row[0]
        if key not in orders:
            orders[key] = tuple(row[:ORDER_WIDTH])
            lines[key] = []
        line = row[ORDER_WIDTH + 1 : ORDER_WIDTH + 1 + LINE_WIDTH]
        if line[0] is not None:
            lines[key].append(StoredLine._make(line[1:]))
    return int(rows[0][ORDER_WIDTH]), [
        StoredOrder._make((*order, tuple(lines[key]))) for key, order in orders.items()
    ]


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
    sql, args = orders_query(
        merchant, ids=ids, created=created, modified=modified, limit=limit, offset=offset
    )
    cursor = await db.execute(sql, args)
    total, found = stored_orders(await cursor.fetchall())
    if not found and offset > 0:
        # a page past the end has no row to carry the total: counted on its own
        condition, count_args = _matching(merchant, ids, created, modified)
        cursor = await db.execute(f"SELECT COUNT(*) FROM orders WHERE {condition}", count_args)
        row = await cursor.fetchone()
        total = int(row[0]) if row else 0
    return total, found


async def stored_order(db: Connection, merchant: str, order_id: str) -> StoredOrder | None:
    """The merchant's order with this id and its lines, if any."""
    sql, args = orders_query(
        merchant, ids=[order_id], created=(None, None), modified=(None, None), limit=1, offset=0
    )
    cursor = await db.execute(sql, args)
    _, found = stored_orders(await cursor.fetchall())
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


async def refund_seqs(db: Connection, count: int) -> list[int]:
    """``count`` refund ``seq`` values from the refunds' sequence, in the order it gave them:
    unique across every process, never given twice (one not stored is a gap)."""
    cursor = await db.execute(
        f"SELECT nextval('{REFUND_SEQUENCE}') FROM generate_series(1, %s)", (count,)
    )
    return sorted(int(row[0]) for row in await cursor.fetchall())


async def insert_refunds(
    db: Connection, refunds: Sequence[NewRefund], answers: Sequence[StoredKey]
) -> None:
    """Store pending refunds (their ``seq`` given), reserve their pieces (their orders
    already locked, :func:`order_state`) and store the answers of their keys: one
    statement, however many. One update per line and per order: the sums, and the last
    refund's time (what one update per refund would leave)."""
    pieces = [(r.seq, line, quantity) for r in refunds for line, quantity in r.pieces.items()]
    reserved: dict[int, int] = {}
    for _, line, quantity in pieces:
        reserved[line] = reserved.get(line, 0) + quantity
    orders: dict[int, tuple[int, float]] = {}
    for r in refunds:
        count = orders[r.order_key][0] if r.order_key in orders else 0
        orders[r.order_key] = (count + 1, r.created_at)
    await db.execute(
        "WITH refund AS (INSERT INTO refunds (seq, order_pk, status, reason, remark, "
        "created_at, settle_at) SELECT r.seq, r.order_pk, %(status)s, r.reason, r.remark, "
        "r.created_at, r.settle_at FROM unnest(%(seqs)s::bigint[], %(orders)s::bigint[], "
        "%(reasons)s::text[], %(remarks)s::text[], %(created)s::float8[], "
        "%(settle_at)s::float8[]) AS r (seq, order_pk, reason, remark, created_at, settle_at)), "
        "piece AS (INSERT INTO refund_lines (refund_seq, line_pk, quantity) "
        "SELECT * FROM unnest(%(piece_seqs)s::bigint[], %(piece_lines)s::bigint[], "
        "%(piece_quantities)s::bigint[])), "
        "line AS (UPDATE order_lines l SET reserved = l.reserved + p.quantity "
        "FROM unnest(%(lines)s::bigint[], %(quantities)s::bigint[]) AS p (line, quantity) "
        "WHERE l.pk = p.line), "
        "counted AS (UPDATE orders o SET pending_refunds = o.pending_refunds + c.refunds, "
        "modify_date = c.at FROM unnest(%(order_keys)s::bigint[], %(counts)s::bigint[], "
        "%(times)s::float8[]) AS c (pk, refunds, at) WHERE o.pk = c.pk) "
        "INSERT INTO idempotency_keys (merchant, key, fingerprint, refund_no, created_at) "
        "SELECT * FROM unnest(%(merchants)s::text[], %(keys)s::text[], %(digests)s::text[], "
        "%(numbers)s::text[], %(keyed_at)s::float8[]) "
        "ON CONFLICT (merchant, key) DO UPDATE SET fingerprint = excluded.fingerprint, "
        "refund_no = excluded.refund_no, created_at = excluded.created_at",
        {
            "status": PENDING,
            "seqs": [r.seq for r in refunds],
            "orders": [r.order_key for r in refunds],
            "reasons": [r.reason for r in refunds],
            "remarks": [r.remark for r in refunds],
            "created": [r.created_at for r in refunds],
            "settle_at": [r.settle_at for r in refunds],
            "piece_seqs": [seq for seq, _, _ in pieces],
            "piece_lines": [line for _, line, _ in pieces],
            "piece_quantities": [quantity for _, _, quantity in pieces],
            "lines": list(reserved),
            "quantities": list(reserved.values()),
            "order_keys": list(orders),
            "counts": [count for count, _ in orders.values()],
            "times": [at for _, at in orders.values()],
            "merchants": [a.merchant for a in answers],
            "keys": [a.key for a in answers],
            "digests": [a.digest for a in answers],
            "numbers": [a.number for a in answers],
            "keyed_at": [a.created_at for a in answers],
        },
    )


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
        f"AND settle_at <= %s ORDER BY {DUE_ORDER} FOR UPDATE",
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
    has no order with this id. One statement: the page and the total are one snapshot."""
    cursor = await db.execute(
        "SELECT (SELECT COUNT(*) FROM refunds WHERE order_pk = o.pk), r.seq, r.status, "
        "r.remark FROM orders o LEFT JOIN LATERAL (SELECT seq, status, remark FROM refunds "
        "WHERE order_pk = o.pk ORDER BY seq DESC LIMIT %s OFFSET %s) r ON true "
        "WHERE o.merchant = %s AND o.id = %s ORDER BY r.seq DESC",
        (limit, offset, merchant, order_id),
    )
    rows = await cursor.fetchall()
    if not rows:
        return None
    return int(rows[0][0]), [
        StoredRefund(refund_no(row[1]), order_id, row[2], row[3])
        for row in rows
        if row[1] is not None
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


async def claim_key(
    db: Connection, merchant: str, key: str, owner: int, attached: tuple[int, int]
) -> bool:
    """Claim the merchant's key for ``owner`` (a membership connection's backend pid):
    True when claimed, or taken over from an owner no longer ``attached`` (the advisory
    lock every process holds); False when a live process holds it."""
    cursor = await db.execute(
        "INSERT INTO key_claims AS c (merchant, key, owner) VALUES (%s, %s, %s) "
        "ON CONFLICT (merchant, key) DO UPDATE SET owner = excluded.owner "
        "WHERE NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' "
        "AND l.pid = c.owner AND l.classid = %s::oid AND l.objid = %s::oid "
        "AND l.objsubid = 2 AND l.granted) RETURNING owner",
        (merchant, key, owner, *attached),
    )
    return await cursor.fetchone() is not None


async def release_key(db: Connection, merchant: str, key: str, owner: int) -> None:
    """Give back ``owner``'s claim of the merchant's key."""
    await db.execute(
        "DELETE FROM key_claims WHERE merchant = %s AND key = %s AND owner = %s",
        (merchant, key, owner),
    )


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


META_LOCKS = 0x6B616B6D  # the first key of the meta values' advisory locks ("kakm")
# the values of the meta keys %(keys)s, in their order (None for a key not stored)
META_VALUES = (
    "SELECT m.value FROM unnest(%(keys)s::text[]) WITH ORDINALITY AS k (key, n) "
    "LEFT JOIN meta m ON m.key = k.key ORDER BY k.n"
)


async def locked_meta(db: Connection, keys: Sequence[str]) -> tuple[str | None, ...]:
    """The values of ``keys`` with a lock on each (held until the transaction ends, and
    taken in one order), whether or not it is stored yet."""
    await db.execute(
        "SELECT pg_advisory_xact_lock(%s, hashtext(k)) FROM unnest(%s::text[]) AS k ORDER BY k",
        (META_LOCKS, sorted(keys)),
    )
    cursor = await db.execute(META_VALUES, {"keys": list(keys)})
    return tuple(None if row[0] is None else str(row[0]) for row in await cursor.fetchall())


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
    """Delete every row but the schema's version. The rows other processes' writers lock
    are locked first, in their order (a settlement's refunds by due time, then orders),
    so the wipe waits for those writers while it holds nothing they need: deleting
    table by table, it would hold an order's lines that a batch holding the order's row
    needs for its commit, and wait for that row (a deadlock)."""
    await db.execute(f"SELECT FROM refunds ORDER BY {DUE_ORDER} FOR UPDATE")
    await db.execute("SELECT FROM orders FOR UPDATE")
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


async def glance(
    db: Connection, meta_keys: Sequence[str], bucket: Bucket | None, take: str | None = None
) -> Glance:
    """The write version, the earliest due time and ``meta_keys``' values; with a ``bucket``
    one request poured into that token's rate limit (on the database's clock, the one every
    process shares); with ``take``, that operation's queued failure taken (then the bucket
    is left as it was: a forced failure is not counted). One statement."""
    parts = []  # the common table expressions
    columns = [
        "CASE WHEN v.is_called THEN v.last_value ELSE 0 END",
        f"(SELECT min(settle_at) FROM refunds WHERE {IS_PENDING})",
        f"ARRAY({META_VALUES})",
    ]
    joins = ["write_version v"]
    params: dict[str, Any] = {"keys": list(meta_keys)}
    if take is not None:
        parts.append(f"taken AS ({failures.TAKE})")
        params["operation"] = take
    if bucket is not None:
        # the level the bucket has drained to by now, then one more if it has room (the
        # SET expressions all read the row as it was)
        drained = "greatest(0, b.level - greatest(0, excluded.at - b.at) * %(rate)s)"
        room = f"{drained} + 1 <= %(burst)s"
        unless_taken = " WHERE NOT EXISTS (SELECT FROM taken)" if take is not None else ""
        parts.append(
            "poured AS (INSERT INTO rate_buckets AS b (token, level, at, admitted) "
            f"SELECT %(token)s, 1, extract(epoch FROM clock_timestamp()), 1{unless_taken} "
            f"ON CONFLICT (token) DO UPDATE SET admitted = CASE WHEN {room} THEN 1 ELSE 0 END, "
            f"level = {drained} + CASE WHEN {room} THEN 1 ELSE 0 END, at = excluded.at "
            "RETURNING admitted, level)"
        )
        columns += ["poured.admitted", "poured.level"]
        joins.append("LEFT JOIN poured ON true")
        params.update(token=bucket.token, burst=bucket.burst, rate=bucket.per_second)
    if take is not None:
        columns += [f"taken.{column.strip()}" for column in failures.COLUMNS.split(",")]
        joins.append("LEFT JOIN taken ON true")
    with_ = f"WITH {', '.join(parts)} " if parts else ""
    cursor = await db.execute(f"{with_}SELECT {', '.join(columns)} FROM {' '.join(joins)}", params)
    row = await cursor.fetchone()
    assert row is not None
    version, due, meta = int(row[0]), None if row[1] is None else float(row[1]), tuple(row[2])
    failure = None if take is None else failures.failure_of(row[-failures.WIDTH :])
    wait = 0
    if bucket is not None and failure is None:
        admitted, level = row[3], row[4]
        wait = 0 if admitted else max(1, math.ceil((level + 1 - bucket.burst) / bucket.per_second))
    return Glance(version, due, meta, wait, failure)


CHANGES = "kakaclo_sandbox_change"  # the channel other processes' consoles listen on


MOVE_VERSION = "SELECT nextval('write_version')"


async def move_version(db: Connection, changed: Sequence[str] = ()) -> int:
    """Move the version, once a write transaction has committed; its new value. With
    ``changed``, tell the other processes whose data changed (``""``: every merchant's),
    so their consoles redraw: in this statement of its own, after the ``COMMIT``, because
    a transaction that notifies commits under a lock of the whole cluster (every
    process's commits would take turns)."""
    if changed:
        cursor = await db.execute(
            f"{MOVE_VERSION}, (SELECT count(pg_notify(%s, m)) FROM unnest(%s::text[]) AS m)",
            (CHANGES, list(changed)),
        )
    else:
        cursor = await db.execute(MOVE_VERSION)
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])
