"""The PostgreSQL schema of the sandbox: SQLite's (:mod:`kakaclo_sandbox.storage.schema`) in
PostgreSQL's types, the same tables, columns and constraints (both rendered from
:mod:`kakaclo_sandbox.storage.tables`).

Keys are ``BIGINT GENERATED ALWAYS AS IDENTITY``; a refund's ``seq`` is a ``BIGSERIAL``
(its sequence never gives a number twice, as SQLite's AUTOINCREMENT); times are ``DOUBLE
PRECISION`` epoch seconds; money is ``BIGINT`` ten-thousandths; the JSON columns are TEXT,
as SQLite stores them, so the reads return the same plain values. The schema's version is
a row of ``meta`` (a wipe keeps it). ``write_version`` is a sequence every write
transaction moves once it has committed: the version the answer cache goes by.
"""

from __future__ import annotations

from kakaclo_sandbox.storage.tables import TABLES, Kind, render

SCHEMA_VERSION = 4  # SQLite's: the same schema
VERSION_KEY = "schema_version"  # its meta row

POSTGRES_TYPES: dict[Kind, str] = {
    "key": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    "serial": "BIGSERIAL PRIMARY KEY",
    "integer": "BIGINT",
    "text": "TEXT",
    "real": "DOUBLE PRECISION",
}

# A sandbox's refunds pile up on a few hot orders, so the planner's statistics see few
# distinct orders and guess that any order has a large share of the refunds: a prepared
# Query Refund then scans every refund by number to find a quiet order's few (measured:
# 131 -> 40 answers/s as one order reached 285,000 refunds; 216 ms a page). Telling it
# orders are many (5% of the rows) keeps it on the (order_pk, seq) index: 0.05 ms.
PLANNER_HINTS = "ALTER TABLE refunds ALTER COLUMN order_pk SET (n_distinct = -0.05);\n"
# Tables made before they were unlogged become so (once: an unlogged one is left alone).
MADE_UNLOGGED = "".join(
    "DO $$ BEGIN IF (SELECT relpersistence FROM pg_class WHERE oid = "
    f"'{table.name}'::regclass) = 'p' THEN ALTER TABLE {table.name} SET UNLOGGED; "
    "END IF; END $$;\n"
    for table in TABLES
    if table.unlogged
)
SCHEMA = (
    render(POSTGRES_TYPES, unlogged=True)
    + "CREATE SEQUENCE IF NOT EXISTS write_version;\n"
    + PLANNER_HINTS
    + MADE_UNLOGGED
)

# Every table, children first (for ``--fresh`` on a database of another version).
DROP_TABLES = """
DROP TABLE IF EXISTS queued_failures, key_claims, rate_buckets, idempotency_keys, refund_lines,
    refunds, order_lines, orders, merchants, meta;
DROP SEQUENCE IF EXISTS write_version;
"""

# What a wipe deletes, children first (the schema's version stays).
WIPED_TABLES = (
    "key_claims",
    "rate_buckets",
    "idempotency_keys",
    "refund_lines",
    "refunds",
    "order_lines",
    "orders",
    "merchants",
)

# Two sandboxes creating the schema at once take turns (any constant key of our own).
SCHEMA_LOCK = 0x6B616B61
