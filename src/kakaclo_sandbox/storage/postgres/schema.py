"""The PostgreSQL schema of the sandbox: SQLite's (:mod:`kakaclo_sandbox.storage.schema`) in
PostgreSQL's types, the same tables, columns and constraints.

Keys are ``BIGINT GENERATED ALWAYS AS IDENTITY``; a refund's ``seq`` is a ``BIGSERIAL``
(its sequence never gives a number twice, as SQLite's AUTOINCREMENT); times are ``DOUBLE
PRECISION`` epoch seconds; money is ``BIGINT`` ten-thousandths; the JSON columns are TEXT,
as SQLite stores them, so the reads return the same plain values. The schema's version is
a row of ``meta`` (a wipe keeps it). ``write_version`` is a sequence every write
transaction moves once it has committed: the version the answer cache goes by.
"""

from __future__ import annotations

from kakaclo_sandbox.storage.schema import IS_PENDING

SCHEMA_VERSION = 4  # SQLite's: the same schema
VERSION_KEY = "schema_version"  # its meta row

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
    pk                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant           TEXT NOT NULL,
    id                 TEXT NOT NULL,
    custom_order_id    TEXT,
    remark             TEXT,
    status             TEXT NOT NULL,
    financial_status   TEXT NOT NULL,
    fulfillment_status TEXT NOT NULL,
    warehouse_id       BIGINT,
    currency_code      TEXT NOT NULL,
    freight_e4         BIGINT NOT NULL,
    coupon_e4          BIGINT NOT NULL,
    promotion_e4       BIGINT NOT NULL,
    pending_refunds    BIGINT NOT NULL DEFAULT 0,
    purchase_date      DOUBLE PRECISION,
    pay_date           DOUBLE PRECISION,
    create_date        DOUBLE PRECISION NOT NULL,
    modify_date        DOUBLE PRECISION NOT NULL,
    cancel_date        DOUBLE PRECISION,
    refund_date        DOUBLE PRECISION,
    shipping_address   TEXT NOT NULL,
    fulfillments       TEXT,
    UNIQUE (merchant, id),
    UNIQUE (pk, merchant)
);
CREATE INDEX IF NOT EXISTS orders_by_merchant ON orders (merchant, create_date);
CREATE TABLE IF NOT EXISTS order_lines (
    pk           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_pk     BIGINT NOT NULL,
    merchant     TEXT NOT NULL,
    id           TEXT NOT NULL,
    position     BIGINT NOT NULL,
    item_id      TEXT NOT NULL,
    sku_code     TEXT NOT NULL,
    country_code TEXT,
    product_name TEXT,
    image_url    TEXT,
    option1      TEXT,
    option2      TEXT,
    option3      TEXT,
    amount_e4    BIGINT NOT NULL,
    product_num  BIGINT NOT NULL,
    stock_status TEXT NOT NULL,
    reserved     BIGINT NOT NULL DEFAULT 0,
    refunded     BIGINT NOT NULL DEFAULT 0,
    CHECK (0 <= refunded AND refunded <= reserved AND reserved <= product_num),
    UNIQUE (merchant, id),
    FOREIGN KEY (order_pk, merchant) REFERENCES orders (pk, merchant)
);
CREATE INDEX IF NOT EXISTS lines_by_order ON order_lines (order_pk, position);
CREATE TABLE IF NOT EXISTS refunds (
    seq        BIGSERIAL PRIMARY KEY,
    order_pk   BIGINT NOT NULL REFERENCES orders (pk),
    status     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    remark     TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    settle_at  DOUBLE PRECISION NOT NULL,
    settled_at DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS refunds_by_order ON refunds (order_pk, seq);
CREATE INDEX IF NOT EXISTS refunds_due ON refunds (settle_at) WHERE {IS_PENDING};
CREATE TABLE IF NOT EXISTS refund_lines (
    refund_seq BIGINT NOT NULL REFERENCES refunds (seq),
    line_pk    BIGINT NOT NULL REFERENCES order_lines (pk),
    quantity   BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (refund_seq, line_pk)
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    merchant    TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    refund_no   TEXT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (merchant, key)
);
CREATE SEQUENCE IF NOT EXISTS write_version;
"""

# Every table, children first (for ``--fresh`` on a database of another version).
DROP_TABLES = """
DROP TABLE IF EXISTS idempotency_keys, refund_lines, refunds, order_lines, orders, merchants,
    meta;
DROP SEQUENCE IF EXISTS write_version;
"""

# What a wipe deletes, children first (the schema's version stays).
WIPED_TABLES = (
    "idempotency_keys",
    "refund_lines",
    "refunds",
    "order_lines",
    "orders",
    "merchants",
)

# Two sandboxes creating the schema at once take turns (any constant key of our own).
SCHEMA_LOCK = 0x6B616B61
