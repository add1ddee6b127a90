"""The SQLite schema of the sandbox, and the names the layers above see of a connection.

Money is stored as integer ten-thousandths (the vendor's amounts have up to
four decimals), so sums are exact. Each line keeps two counters maintained in
the same transaction as the refund that changes them: ``reserved`` (pieces in
pending or successful refunds) and ``refunded`` (pieces in successful ones),
so a refund of a line with thousands of earlier refunds is still one row read.

Order ids and line ids are the merchant's own: two merchants may use the same
ones, and neither learns of the other's. Each order and each line has an
internal integer key (``pk``), and ``UNIQUE (merchant, id)`` makes an id unique
within one merchant. Chosen over a composite ``(merchant, id)`` key because every
other table points at an order or a line by that one integer: the hot path's
updates (a refund's counters, settlement) find their row by its key alone, with
no text index between, and a refund's rows carry no merchant string. A line
carries its order's merchant (``UNIQUE (merchant, id)`` needs it in its table),
and the composite foreign key ``(order_pk, merchant)`` keeps the two equal. All
of it is portable SQL: in PostgreSQL ``pk`` would be a ``GENERATED ... AS
IDENTITY`` column, the rest as written. Refund numbers stay global
(:func:`~kakaclo_sandbox.storage.queries.refund_no` of ``refunds.seq``).
"""

from __future__ import annotations

import sqlite3

from kakaclo_client.models import RefundStatus

# The one place a status is written into SQL: a partial index serves only a query
# whose condition has the same literal (a bound parameter would not match it).
IS_PENDING = f"status = '{RefundStatus.PENDING_REVIEW.value}'"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS merchants (
    token    TEXT PRIMARY KEY,
    merchant TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    pk                 INTEGER PRIMARY KEY,
    merchant           TEXT NOT NULL,
    id                 TEXT NOT NULL,
    custom_order_id    TEXT,
    remark             TEXT,
    status             TEXT NOT NULL,
    financial_status   TEXT NOT NULL,
    fulfillment_status TEXT NOT NULL,
    warehouse_id       INTEGER,
    currency_code      TEXT NOT NULL,
    freight_e4         INTEGER NOT NULL,
    coupon_e4          INTEGER NOT NULL,
    promotion_e4       INTEGER NOT NULL,
    pending_refunds    INTEGER NOT NULL DEFAULT 0,
    purchase_date      REAL,
    pay_date           REAL,
    create_date        REAL NOT NULL,
    modify_date        REAL NOT NULL,
    cancel_date        REAL,
    refund_date        REAL,
    shipping_address   TEXT NOT NULL,
    fulfillments       TEXT,
    UNIQUE (merchant, id),
    UNIQUE (pk, merchant)  -- the target of order_lines' foreign key
);
CREATE INDEX IF NOT EXISTS orders_by_merchant ON orders (merchant, create_date);
CREATE TABLE IF NOT EXISTS order_lines (
    pk           INTEGER PRIMARY KEY,
    order_pk     INTEGER NOT NULL,
    merchant     TEXT NOT NULL,
    id           TEXT NOT NULL,
    position     INTEGER NOT NULL,
    item_id      TEXT NOT NULL,
    sku_code     TEXT NOT NULL,
    country_code TEXT,
    product_name TEXT,
    image_url    TEXT,
    option1      TEXT,
    option2      TEXT,
    option3      TEXT,
    amount_e4    INTEGER NOT NULL,
    product_num  INTEGER NOT NULL,
    stock_status TEXT NOT NULL,
    reserved     INTEGER NOT NULL DEFAULT 0,
    refunded     INTEGER NOT NULL DEFAULT 0,
    CHECK (0 <= refunded AND refunded <= reserved AND reserved <= product_num),
    UNIQUE (merchant, id),
    FOREIGN KEY (order_pk, merchant) REFERENCES orders (pk, merchant)
);
CREATE INDEX IF NOT EXISTS lines_by_order ON order_lines (order_pk, position);
CREATE TABLE IF NOT EXISTS refunds (
    -- the refund number is derived from seq (queries.refund_no), so it costs no
    -- index; AUTOINCREMENT never reuses a seq
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    order_pk   INTEGER NOT NULL REFERENCES orders (pk),
    status     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    remark     TEXT,
    created_at REAL NOT NULL,
    settle_at  REAL NOT NULL,
    settled_at REAL
);
CREATE INDEX IF NOT EXISTS refunds_by_order ON refunds (order_pk, seq);
-- Pending refunds by due time: settling costs a range lookup, however many
-- refunds are stored. (Settlement is never per order any more: the index
-- refunds_due_by_order of older databases is dropped, one write less per refund.)
DROP INDEX IF EXISTS refunds_due_by_order;
CREATE INDEX IF NOT EXISTS refunds_due ON refunds (settle_at) WHERE {IS_PENDING};
CREATE TABLE IF NOT EXISTS refund_lines (
    refund_seq INTEGER NOT NULL REFERENCES refunds (seq),
    line_pk    INTEGER NOT NULL REFERENCES order_lines (pk),
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (refund_seq, line_pk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency_keys (
    merchant    TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    refund_no   TEXT NOT NULL,
    created_at  REAL NOT NULL,
    PRIMARY KEY (merchant, key)
);
"""

SCHEMA_VERSION = 4

# Every table of this or an older schema, children first (for ``--fresh`` on an older
# database; dropping a table drops its indexes).
DROP_TABLES = """
BEGIN;
DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS refund_lines;
DROP TABLE IF EXISTS refunds;
DROP TABLE IF EXISTS order_lines;
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS merchants;
DROP TABLE IF EXISTS meta;
COMMIT;
"""


Row = sqlite3.Row
Connection = sqlite3.Connection  # what the layers above pass through, never open
