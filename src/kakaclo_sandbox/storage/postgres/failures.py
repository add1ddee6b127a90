"""The failures queue on PostgreSQL: a table (``queued_failures``), so every process
sharing the database takes from one queue.

A failure is taken by one statement: a ``DELETE`` of the first row for the operation,
else the first for any, each found with ``FOR UPDATE SKIP LOCKED``, so two processes
taking at once take two rows, and each row once. Queuing counts the queue and inserts
under a transaction-scoped advisory lock: two processes queuing at once take turns, so
together they never pass the bound (a take only shortens the queue meanwhile).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from kakaclo_sandbox.storage.interface import Queued, QueuedFailure
from kakaclo_sandbox.storage.postgres.schema import SCHEMA_LOCK

Connection = AsyncConnection[TupleRow]
# The advisory lock queuing takes: two keys, the first the sandbox's own (membership's
# locks are the same first key with 1 and 2).
QUEUE_LOCK = (SCHEMA_LOCK, 3)
COLUMNS = "operation, code, retry_after, delay, drop_mode"
CLEAR = "DELETE FROM queued_failures"

# The operation's first failure, else the first for any: COALESCE evaluates the second
# subquery (and locks its row) only when the first finds none. The glance runs it too,
# with its named parameter (queries.glance).
TAKE = (
    "DELETE FROM queued_failures WHERE id = coalesce("
    "(SELECT id FROM queued_failures WHERE operation = %(operation)s "
    "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED), "
    "(SELECT id FROM queued_failures WHERE operation IS NULL "
    "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)) "
    f"RETURNING {COLUMNS}"
)
WIDTH = len(COLUMNS.split(","))  # a taken failure's columns in a row


def failure_of(row: Any) -> QueuedFailure | None:
    """A taken failure from its columns (all NULL: none taken)."""
    operation, code, retry_after, delay, drop = row
    if delay is None:  # NOT NULL in the table: an outer join found no row
        return None
    return QueuedFailure(operation, code, retry_after, float(delay), drop)


async def queue(db: Connection, failure: QueuedFailure, count: int, most: int) -> Queued:
    """Queue ``count`` copies of ``failure`` unless the queue would pass ``most`` (one
    transaction, under the queue's lock)."""
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock(%s, %s)", QUEUE_LOCK)
        # counted after the lock is held: READ COMMITTED reads each statement's own snapshot
        cursor = await db.execute("SELECT count(*) FROM queued_failures")
        row = await cursor.fetchone()
        queued = int(row[0]) if row else 0
        if queued + count > most:
            return Queued(added=False, length=queued)
        await db.execute(
            f"INSERT INTO queued_failures ({COLUMNS}) "
            "SELECT %s::text, %s::bigint, %s::bigint, %s::float8, %s::text "
            "FROM generate_series(1, %s)",
            (*failure, count),
        )
    return Queued(added=True, length=queued + count)


async def take(db: Connection, operation: str) -> QueuedFailure | None:
    """The operation's first queued failure, else the first for any, deleted: once."""
    cursor = await db.execute(TAKE, {"operation": operation})
    row = await cursor.fetchone()
    return None if row is None else failure_of(row)


async def pending(db: Connection) -> list[QueuedFailure]:
    """Every queued failure, grouped by operation in the order each was first queued."""
    cursor = await db.execute(
        f"SELECT {COLUMNS} FROM queued_failures ORDER BY min(id) OVER (PARTITION BY operation), id"
    )
    return [failure for row in await cursor.fetchall() if (failure := failure_of(row))]


async def clear(db: Connection) -> int:
    """Delete every queued failure; how many were."""
    cursor = await db.execute(CLEAR)
    return cursor.rowcount


def clear_now(connection: psycopg.Connection[Any]) -> None:
    """Delete every queued failure, on a synchronous connection (startup)."""
    connection.execute(CLEAR)
