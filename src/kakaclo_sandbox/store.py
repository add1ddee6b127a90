"""SQLite storage of the sandbox: schema, transactions and queries. No business rules.

Money is stored as integer ten-thousandths (the vendor's amounts have up to
four decimals), so sums are exact. Each line keeps two counters maintained in
the same transaction as the refund that changes them: ``reserved`` (pieces in
pending or successful refunds) and ``refunded`` (pieces in successful ones),
so a refund of a line with thousands of earlier refunds is still one row read.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS merchants (
    token    TEXT PRIMARY KEY,
    merchant TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id                 TEXT PRIMARY KEY,
    merchant           TEXT NOT NULL,
    custom_order_id    TEXT,
    remark             TEXT,
    status             TEXT NOT NULL,
    financial_status   TEXT NOT NULL,
    fulfillment_status TEXT NOT NULL,
    warehouse_id       INTEGER NOT NULL,
    currency_code      TEXT NOT NULL,
    freight_e4         INTEGER NOT NULL,
    coupon_e4          INTEGER NOT NULL,
    promotion_e4       INTEGER NOT NULL,
    refunded_e4        INTEGER NOT NULL DEFAULT 0,
    reserved_e4        INTEGER NOT NULL DEFAULT 0,
    pending_refunds    INTEGER NOT NULL DEFAULT 0,
    purchase_date      REAL NOT NULL,
    pay_date           REAL,
    create_date        REAL NOT NULL,
    modify_date        REAL NOT NULL,
    cancel_date        REAL,
    refund_date        REAL,
    shipping_address   TEXT NOT NULL,
    fulfillments       TEXT
);
CREATE INDEX IF NOT EXISTS orders_by_merchant ON orders (merchant, create_date);
CREATE TABLE IF NOT EXISTS order_lines (
    id           TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES orders (id),
    position     INTEGER NOT NULL,
    item_id      TEXT NOT NULL,
    sku_code     TEXT NOT NULL,
    country_code TEXT NOT NULL,
    product_name TEXT NOT NULL,
    image_url    TEXT NOT NULL,
    amount_e4    INTEGER NOT NULL,
    product_num  INTEGER NOT NULL,
    stock_status TEXT NOT NULL,
    reserved     INTEGER NOT NULL DEFAULT 0,
    refunded     INTEGER NOT NULL DEFAULT 0,
    CHECK (0 <= refunded AND refunded <= reserved AND reserved <= product_num)
);
CREATE INDEX IF NOT EXISTS lines_by_order ON order_lines (order_id, position);
CREATE TABLE IF NOT EXISTS refunds (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    refund_no  TEXT NOT NULL UNIQUE,
    order_id   TEXT NOT NULL REFERENCES orders (id),
    status     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    remark     TEXT,
    amount_e4  INTEGER NOT NULL,
    created_at REAL NOT NULL,
    settle_at  REAL NOT NULL,
    settled_at REAL
);
CREATE INDEX IF NOT EXISTS refunds_by_order ON refunds (order_id, seq);
CREATE INDEX IF NOT EXISTS refunds_due ON refunds (settle_at) WHERE status = 'pending_review';
CREATE TABLE IF NOT EXISTS refund_lines (
    refund_no TEXT NOT NULL REFERENCES refunds (refund_no),
    line_id   TEXT NOT NULL REFERENCES order_lines (id),
    quantity  INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (refund_no, line_id)
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    merchant    TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    refund_no   TEXT NOT NULL,
    created_at  REAL NOT NULL,
    PRIMARY KEY (merchant, key)
);
"""

# Refund numbers look like the vendor's (19 digits, beyond a JS-safe integer).
REFUND_NO_BASE = 1_560_897_343_230_000_000


@dataclass(frozen=True)
class Line:
    """One order line with its refund counters."""

    id: str
    item_id: str
    sku_code: str
    country_code: str
    amount_e4: int
    product_num: int
    reserved: int
    refunded: int

    @property
    def refundable(self) -> int:
        """Pieces not yet in a pending or successful refund."""
        return self.product_num - self.reserved


@dataclass(frozen=True)
class OrderState:
    """What the refund rules need to know about an order."""

    id: str
    merchant: str
    status: str
    financial_status: str
    fulfillment_status: str
    final_e4: int
    reserved_e4: int
    lines: tuple[Line, ...]


Row = sqlite3.Row


class Store:
    """One SQLite database. All access runs under one lock, one writer at a time."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the event loop and test threads; the lock
        # makes each transaction exclusive within this process, and
        # BEGIN IMMEDIATE makes it exclusive against other processes too.
        self.connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self.connection.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self.connection.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: a committed transaction survives a crash or kill -9
            # of this process (it is in the OS's page cache); only an OS crash
            # or power loss may lose the newest ones. FULL would fsync on
            # every refund.
            self.connection.execute("PRAGMA synchronous = NORMAL")
            self.connection.execute("PRAGMA foreign_keys = ON")
            self.connection.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self.connection.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any error."""
        with self._lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A consistent read (one snapshot) of several queries."""
        with self._lock:
            self.connection.execute("BEGIN")
            try:
                yield self.connection
            finally:
                self.connection.execute("COMMIT")

    # -- meta -------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """A value of the meta table."""
        with self._lock:
            row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, db: sqlite3.Connection, key: str, value: str) -> None:
        """Set a meta value inside a transaction."""
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- merchants ----------------------------------------------------------

    def merchant_of(self, token: str) -> str | None:
        """The merchant a bearer token belongs to, or None."""
        with self._lock:
            row = self.connection.execute(
                "SELECT merchant FROM merchants WHERE token = ?", (token,)
            ).fetchone()
        return None if row is None else str(row["merchant"])

    def is_empty(self) -> bool:
        """True when no merchant exists yet (a new database)."""
        with self._lock:
            return self.connection.execute("SELECT 1 FROM merchants LIMIT 1").fetchone() is None

    def wipe(self, db: sqlite3.Connection) -> None:
        """Delete every row (inside a transaction)."""
        for table in (
            "idempotency_keys",
            "refund_lines",
            "refunds",
            "order_lines",
            "orders",
            "merchants",
            "meta",
        ):
            db.execute(f"DELETE FROM {table}")

    # -- orders -------------------------------------------------------------

    @staticmethod
    def order_state(db: sqlite3.Connection, merchant: str, order_id: str) -> OrderState | None:
        """The order with its lines, if it belongs to ``merchant``."""
        order = db.execute(
            "SELECT id, merchant, status, financial_status, fulfillment_status, freight_e4, "
            "coupon_e4, reserved_e4 FROM orders WHERE id = ? AND merchant = ?",
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
                amount_e4=row["amount_e4"],
                product_num=row["product_num"],
                reserved=row["reserved"],
                refunded=row["refunded"],
            )
            for row in db.execute(
                "SELECT id, item_id, sku_code, country_code, amount_e4, product_num, reserved, "
                "refunded FROM order_lines WHERE order_id = ? ORDER BY position",
                (order_id,),
            )
        )
        subtotal = sum(line.amount_e4 * line.product_num for line in lines)
        return OrderState(
            id=order["id"],
            merchant=order["merchant"],
            status=order["status"],
            financial_status=order["financial_status"],
            fulfillment_status=order["fulfillment_status"],
            final_e4=subtotal + order["freight_e4"] - order["coupon_e4"],
            reserved_e4=order["reserved_e4"],
            lines=lines,
        )

    @staticmethod
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

    @staticmethod
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

    # -- refunds ------------------------------------------------------------

    @staticmethod
    def next_refund_no(db: sqlite3.Connection) -> str:
        """The refund number the next inserted refund will get."""
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'refunds'").fetchone()
        return str(REFUND_NO_BASE + (row[0] if row else 0) + 1)

    @staticmethod
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
