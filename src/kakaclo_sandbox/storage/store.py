"""The SQLite database of the sandbox: connection, transactions, group commit.

The schema is in :mod:`kakaclo_sandbox.storage.schema`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kakaclo_sandbox.domain.orders import NewOrder
from kakaclo_sandbox.storage import queries
from kakaclo_sandbox.storage.interface import DatabaseGone
from kakaclo_sandbox.storage.kept_orders import KeptOrders
from kakaclo_sandbox.storage.rows import LineRow, OrderRow, insert_sql, line_rows, order_row
from kakaclo_sandbox.storage.schema import DROP_TABLES, SCHEMA, SCHEMA_VERSION
from kakaclo_sandbox.storage.staged_refunds import StagedRefunds

log = logging.getLogger("kakaclo_sandbox")

INSERT_ORDER = insert_sql("orders", OrderRow._fields, "?")
INSERT_LINE = insert_sql("order_lines", LineRow._fields, "?")


@dataclass
class Batch:
    """Writes of several requests committed together (group commit)."""

    loop: asyncio.AbstractEventLoop
    committed: asyncio.Future[None]

    def settle(self, error: BaseException | None) -> None:
        """Resolve ``committed`` from any thread."""

        def resolve() -> None:
            if self.committed.done():
                return
            if error is None:
                self.committed.set_result(None)
            else:
                self.committed.set_exception(error)

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            resolve()
        else:
            self.loop.call_soon_threadsafe(resolve)


class Store:
    """One SQLite database. All access runs under one lock, one writer at a time.

    Writes of requests go through :meth:`batched`: each request's writes sit in
    a transaction shared by every request handled in the same turn of the event
    loop (its own SQL in a savepoint), which is committed once at the end of
    that turn. A refund's rows wait in memory and are written with the batch's
    others just before the commit
    (:mod:`~kakaclo_sandbox.storage.staged_refunds`). A request answers only
    after ``await batch.committed``, so nothing is acknowledged before it is in
    the database, and the commit (a WAL append, and now and then a checkpoint
    with fsync) is paid once per batch.

    The database must stay the file its path names. After every commit (one
    ``stat`` per batch, none per read) the store checks that the path still
    names the file it opened; :meth:`still_there` checks it on demand (the
    command does, ten times a second). Once it does not (the file was deleted
    or another put in its place), the store is :attr:`lost`: the batch just
    committed (into a file no path names any more) fails with
    :class:`DatabaseGone`, and so does every later read and write.
    """

    def __init__(self, path: str | Path, *, fresh: bool = False) -> None:
        """Open (or create) the database at ``path``.

        A database of another schema version is refused (ValueError), unless
        ``fresh``: then its tables are dropped first (``--fresh`` replaces the
        data anyway).
        """
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
        self._batch: Batch | None = None
        self._merchants: dict[str, str] | None = None  # token -> merchant, read once
        # Moves when a write begins and when it ends, so what was read at one
        # version is still what the database holds while the version stays.
        self.version = 0
        # Order states between refunds, and the refunds of the open batch not yet
        # written; both forgotten by every other write (below).
        self.kept_orders = KeptOrders()
        self.staged_refunds = StagedRefunds()
        with self._lock:
            self.connection.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: a committed transaction survives a crash or kill -9
            # of this process (it is in the OS's page cache); only an OS crash
            # or power loss may lose the newest ones. FULL would fsync on
            # every refund.
            self.connection.execute("PRAGMA synchronous = NORMAL")
            self.connection.execute("PRAGMA foreign_keys = ON")
            version = self.connection.execute("PRAGMA user_version").fetchone()[0]
            has_tables = self.connection.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'refunds'"
            ).fetchone()
            if has_tables and version != SCHEMA_VERSION and fresh:
                log.warning("%s: dropping the tables of schema %s (--fresh)", self.path, version)
                self.connection.executescript(DROP_TABLES)
            elif has_tables and version != SCHEMA_VERSION:
                self.connection.close()
                raise ValueError(
                    f"{self.path} was made by another version of kakaclo-sandbox "
                    f"(schema {version}, this one needs {SCHEMA_VERSION}); "
                    "move it away or pass another --db"
                )
            self.connection.executescript(SCHEMA)
            self.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        # What the path named when the database was opened (None: in memory).
        self._file: tuple[int, int] | None = None
        if self.path != ":memory:":
            opened = os.stat(self.path)
            self._file = (opened.st_dev, opened.st_ino)
        # Why the database is no longer the file its path names, once it is not.
        self.lost: str | None = None

    def still_there(self) -> bool:
        """True while the path names the file the database was opened from (an
        in-memory database always is); else log it once and mark the store :attr:`lost`."""
        if self._file is None:
            return True
        if self.lost is None:
            try:
                now = os.stat(self.path)
                named: tuple[int, int] | None = (now.st_dev, now.st_ino)
            except OSError:
                named = None
            if named == self._file:
                return True
            self.lost = (
                f"the database file {self.path} was removed or replaced while the sandbox ran; "
                "writes are refused (503) and the sandbox stops"
            )
            log.error("%s", self.lost)
        return False

    def _refuse_if_lost(self) -> None:
        if self.lost is not None:
            raise DatabaseGone(self.lost)

    def close(self) -> None:
        """Close the database (committing an open batch)."""
        with self._lock:
            self.commit_batch()
            self._forget_memory()
            self.connection.close()

    @contextmanager
    def batched(
        self, *, refund: bool = False, savepoint: bool = True
    ) -> Iterator[tuple[sqlite3.Connection, Batch]]:
        """One request's writes, in the current batch; undone on any error.

        Await the yielded batch's ``committed`` before answering.

        ``refund``: the writes are a refund's, staged in :attr:`staged_refunds`
        and written when the batch commits, and it keeps :attr:`kept_orders`
        current itself. Any other writes find the staged refunds written and
        make the store forget what it kept.

        ``savepoint``: the block's own SQL writes sit in a savepoint, rolled back
        on an error. Pass ``False`` only for a block that writes no SQL itself.
        """
        batch, staged = self.begin_write(refund=refund, savepoint=savepoint)
        try:
            yield self.connection, batch
        except BaseException as error:
            self.end_write(error, staged, savepoint=savepoint)
            raise
        self.end_write(None, staged, savepoint=savepoint)

    def begin_write(self, *, refund: bool, savepoint: bool) -> tuple[Batch, int]:
        """What :meth:`batched` does on entry, for a caller that cannot use a generator
        (the refund path, where it costs more than the rest): the batch, and how many
        refunds were staged before. Takes the lock; :meth:`end_write` releases it."""
        self._lock.acquire()
        try:
            self._refuse_if_lost()
            forget = not refund or self.kept_orders.full()
            if self._batch is None:
                loop = asyncio.get_running_loop()
                self.connection.execute("BEGIN IMMEDIATE")
                self._batch = Batch(loop, loop.create_future())
                loop.call_soon(self.commit_batch)
            elif forget:
                # Forgetting kept states is only safe once no staged refund needs them.
                self._write_staged()
            if forget:
                self._forget_memory()
            batch = self._batch
            self.version += 1
            staged = len(self.staged_refunds)
            if savepoint:
                self.connection.execute("SAVEPOINT request")
        except BaseException:
            self._lock.release()
            raise
        return batch, staged

    def end_write(self, error: BaseException | None, staged: int, *, savepoint: bool) -> None:
        """What :meth:`batched` does on exit: the block's writes kept, or undone after
        ``error`` (the caller re-raises it); the lock released."""
        try:
            if error is None:
                if savepoint:
                    self.connection.execute("RELEASE request")
                return
            if savepoint:
                self.connection.execute("ROLLBACK TO request")
                self.connection.execute("RELEASE request")
            if len(self.staged_refunds) > staged:
                # This request's refund is undone, so is the state its order was
                # kept with: write the others' refunds, then forget every state.
                self.staged_refunds.drop_after(staged)
                self._write_staged()
                self.kept_orders.forget()
        finally:
            self._lock.release()

    def commit_batch(self) -> None:
        """Write the staged refunds and commit the open batch, if any; tell its requests."""
        with self._lock:
            batch = self._batch
            if batch is None:
                return
            self.version += 1
            try:
                self.staged_refunds.write(self.connection)
                self.connection.execute("COMMIT")
            except Exception as error:  # any: the batch's requests must be told, never left
                self._roll_back_batch(error)
                return
            self._batch = None
            if not self.still_there():
                # Committed into a file no path names: acknowledge none of it.
                self._forget_memory()
                batch.settle(DatabaseGone(self.lost))
                return
            batch.settle(None)

    def _write_staged(self) -> None:
        """Write the staged refunds into the open batch; on failure, roll it back and raise."""
        try:
            self.staged_refunds.write(self.connection)
        except Exception as error:  # any: the batch's requests must be told
            self._roll_back_batch(error)
            raise

    def _roll_back_batch(self, error: BaseException) -> None:
        """Undo the open batch: its requests get ``error`` and nothing of it stays."""
        batch, self._batch = self._batch, None
        self._forget_memory()
        try:
            # SQLite may have rolled back already (a full disk, an I/O error).
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
        finally:
            if batch is not None:
                batch.settle(error)

    def _forget_memory(self) -> None:
        """Forget kept states, staged refunds and the refund count: after a write that is
        not a refund's, what memory holds may no longer be what the database holds."""
        self.kept_orders.forget()
        self.staged_refunds.forget()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction of its own: committed on success, rolled back on any error.

        An open batch is committed first, so this reads only committed data.
        """
        with self._lock:
            self.commit_batch()
            self._refuse_if_lost()
            self.connection.execute("BEGIN IMMEDIATE")
            self.version += 1
            self._forget_memory()
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            finally:
                self.version += 1
            self.connection.execute("COMMIT")
            if not self.still_there():
                raise DatabaseGone(self.lost)

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A consistent read of committed data.

        No BEGIN ... COMMIT: every write of this process goes through this
        connection under the lock held here, and ``kakaclo-sandbox`` locks the
        database file against other processes, so the statements of one read
        see one state without a transaction of their own.
        """
        with self._lock:
            self.commit_batch()
            self._refuse_if_lost()
            yield self.connection

    # -- meta -------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """A value of the meta table."""
        with self._lock:
            return queries.meta_value(self.connection, key)

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
        merchants = self._merchants
        if merchants is None:
            with self._lock:
                rows = self.connection.execute("SELECT token, merchant FROM merchants")
                merchants = self._merchants = {row["token"]: row["merchant"] for row in rows}
        return merchants.get(token)

    def is_empty(self) -> bool:
        """True when no merchant exists yet (a new database)."""
        with self._lock:
            return self.connection.execute("SELECT 1 FROM merchants LIMIT 1").fetchone() is None

    def wipe(self, db: sqlite3.Connection) -> None:
        """Delete every row (inside a transaction)."""
        self._merchants = None
        for table in (
            "key_claims",
            "rate_buckets",
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
    def add_merchant(db: sqlite3.Connection, merchant: str, tokens: Sequence[str]) -> None:
        """Store a merchant's tokens (inside a transaction)."""
        db.executemany(
            "INSERT INTO merchants (token, merchant) VALUES (?, ?)",
            [(token, merchant) for token in tokens],
        )

    def forget_merchants(self) -> None:
        """Read the token table again on the next request (after tokens changed)."""
        self._merchants = None

    @staticmethod
    def order_exists(db: sqlite3.Connection, merchant: str, order_id: str) -> bool:
        """True when the merchant has an order with this id (another merchant's does not
        count: ids are each merchant's own)."""
        found = db.execute(
            "SELECT 1 FROM orders WHERE merchant = ? AND id = ?", (merchant, order_id)
        ).fetchone()
        return found is not None

    @staticmethod
    def insert_order(db: sqlite3.Connection, order: NewOrder) -> None:
        """Insert one order and its lines (inside a transaction).

        Ids taken within the merchant break a UNIQUE constraint (sqlite3.IntegrityError):
        check them first (:meth:`order_exists`, :func:`~.queries.taken_line_ids`).
        """
        inserted = db.execute(INSERT_ORDER, order_row(order))
        assert inserted.lastrowid is not None
        db.executemany(INSERT_LINE, line_rows(order, inserted.lastrowid))
