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
of it is portable SQL but the column types: the tables are written once
(:mod:`kakaclo_sandbox.storage.tables`) and rendered here in SQLite's types, in
:mod:`kakaclo_sandbox.storage.postgres.schema` in PostgreSQL's. Refund numbers stay global
(:func:`~kakaclo_sandbox.storage.queries.refund_no` of ``refunds.seq``).
"""

from __future__ import annotations

import sqlite3

from kakaclo_sandbox.storage.tables import IS_PENDING as IS_PENDING
from kakaclo_sandbox.storage.tables import Kind, render

SQLITE_TYPES: dict[Kind, str] = {
    "key": "INTEGER PRIMARY KEY",  # the rowid
    "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",  # AUTOINCREMENT never reuses a seq
    "integer": "INTEGER",
    "text": "TEXT",
    "real": "REAL",
}

SCHEMA = (
    render(SQLITE_TYPES, without_rowid=True)
    # Settlement is never per order any more: the index refunds_due_by_order of older
    # databases is dropped, one write less per refund.
    + "DROP INDEX IF EXISTS refunds_due_by_order;\n"
)

SCHEMA_VERSION = 4

# Every table of this or an older schema, children first (for ``--fresh`` on an older
# database; dropping a table drops its indexes).
DROP_TABLES = """
BEGIN;
DROP TABLE IF EXISTS queued_failures;
DROP TABLE IF EXISTS key_claims;
DROP TABLE IF EXISTS rate_buckets;
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
