"""The storage interface on SQLite: :class:`SqliteStore`.

:class:`~kakaclo_sandbox.storage.store.Store` is the engine (the connection,
the group commit, the memory it keeps exact); this module is what the use
cases see of it (:mod:`kakaclo_sandbox.storage.interface`). Its methods are
``async`` and never suspend, but for a refund's wait for its batch's commit.

A method that implements the interface is marked ``@override``: what it does is the
interface's docstring; its own says only what SQLite adds.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType

from kakaclo_sandbox.domain.orders import (
    NewOrder,
    OrderState,
    PendingRefund,
    StoredAnswer,
    StoredOrder,
    StoredRefund,
)
from kakaclo_sandbox.storage import interface, queries
from kakaclo_sandbox.storage.failure_queue import MemoryFailures
from kakaclo_sandbox.storage.interface import (
    Bucket,
    DatabaseGone,
    Glance,
    RefundUnit,
    SettlingUnit,
    Window,
    WritingUnit,
)
from kakaclo_sandbox.storage.rows import line_pieces
from kakaclo_sandbox.storage.schema import Connection
from kakaclo_sandbox.storage.staged_refunds import StagedRefunds
from kakaclo_sandbox.storage.store import Batch, Store

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override


class BatchedRefund(RefundUnit):
    """A refund of Refund Order in the current batch (through ``db``): its order read from
    the kept states when kept, its rows staged until the batch commits, and what it
    reserves kept."""

    __slots__ = ("_db", "_store")

    def __init__(self, db: Connection, store: Store) -> None:
        self._db = db
        self._store = store

    @override
    async def stored_answer(self, merchant: str, key: str, since: float) -> StoredAnswer | None:
        return queries.stored_answer(self._db, merchant, key, since)

    @override
    async def order_state(self, merchant: str, order_id: str) -> OrderState | None:
        """The order's kept state, or read when it is not kept."""
        kept = self._store.kept_orders.get(merchant, order_id)
        return kept if kept is not None else queries.order_state(self._db, merchant, order_id)

    @override
    async def add_refund(
        self,
        merchant: str,
        order: OrderState,
        pieces: Mapping[str, int],
        *,
        reason: str,
        remark: str | None,
        now: float,
        settle_at: float,
    ) -> str:
        """Staged until the batch commits; its order kept with the pieces reserved."""
        seq = self._store.staged_refunds.add(
            self._db,
            order.key,
            line_pieces(order, pieces),
            reason=reason,
            remark=remark,
            now=now,
            settle_at=settle_at,
        )
        self._store.kept_orders.reserve(merchant, order, pieces)
        return queries.refund_no(seq)

    @override
    async def remember_answer(
        self, merchant: str, key: str, digest: str, number: str, now: float
    ) -> None:
        """In the refund's savepoint."""
        queries.remember_answer(self._db, merchant, key, digest, number, now)


class _Refunding(BatchedRefund, AbstractAsyncContextManager[BatchedRefund]):
    """The block of one refund and its unit: the current batch (a savepoint when the
    refund has a key), its exit waiting for the batch's commit. One object, not a
    generator: it is on every refund's path."""

    __slots__ = ("_batch", "_key", "_staged")

    def __init__(self, store: Store, key: bool) -> None:
        self._store = store
        self._key = key  # with a key, a savepoint: without one the refund writes no SQL itself

    async def __aenter__(self) -> BatchedRefund:
        self._batch, self._staged = self._store.begin_write(refund=True, savepoint=self._key)
        self._db = self._store.connection
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        # on an error the refund is undone, and the error goes on
        self._store.end_write(error, self._staged, savepoint=self._key)
        if error is None:
            batch: Batch = self._batch
            await batch.committed


class _Settling:
    """Settlement's reads and writes through one connection, inside the caller's unit."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    async def due_refunds(self, now: float) -> Sequence[PendingRefund]:
        return queries.due_refunds(self._db, now)

    async def pending_refund(self, number: str) -> PendingRefund:
        return queries.pending_refund(self._db, number)

    async def mark_settled(self, refund: PendingRefund, status: str) -> None:
        queries.mark_settled(self._db, refund, status)

    async def release_pieces(self, refund: PendingRefund) -> None:
        queries.release_pieces(self._db, refund)

    async def refund_pieces(self, refund: PendingRefund) -> None:
        queries.refund_pieces(self._db, refund)

    async def line_counts(self, order_key: int) -> list[tuple[int, int]]:
        return queries.line_counts(self._db, order_key)

    async def cancel_order(self, order_key: int, at: float) -> None:
        queries.cancel_order(self._db, order_key, at)

    async def next_due(self) -> float | None:
        return queries.next_due(self._db)


class _Writing(_Settling):
    """A transaction of its own (the store forgot its kept states and staged refunds when
    it began): a refund's rows are written at once, so what follows reads them."""

    def __init__(self, db: Connection, store: Store) -> None:
        super().__init__(db)
        self._store = store

    async def stored_answer(self, merchant: str, key: str, since: float) -> StoredAnswer | None:
        return queries.stored_answer(self._db, merchant, key, since)

    async def order_state(self, merchant: str, order_id: str) -> OrderState | None:
        return queries.order_state(self._db, merchant, order_id)

    async def add_refund(
        self,
        merchant: str,
        order: OrderState,
        pieces: Mapping[str, int],
        *,
        reason: str,
        remark: str | None,
        now: float,
        settle_at: float,
    ) -> str:
        staged = StagedRefunds()
        seq = staged.add(
            self._db,
            order.key,
            line_pieces(order, pieces),
            reason=reason,
            remark=remark,
            now=now,
            settle_at=settle_at,
        )
        staged.write(self._db)
        return queries.refund_no(seq)

    async def remember_answer(
        self, merchant: str, key: str, digest: str, number: str, now: float
    ) -> None:
        queries.remember_answer(self._db, merchant, key, digest, number, now)

    async def wipe(self) -> None:
        self._store.wipe(self._db)

    async def add_merchant(self, merchant: str, tokens: Sequence[str]) -> None:
        self._store.add_merchant(self._db, merchant, tokens)
        self._store.forget_merchants()

    async def order_exists(self, merchant: str, order_id: str) -> bool:
        return self._store.order_exists(self._db, merchant, order_id)

    async def taken_line_ids(self, merchant: str, line_ids: Sequence[str]) -> dict[str, str]:
        return queries.taken_line_ids(self._db, merchant, line_ids)

    async def insert_order(self, order: NewOrder) -> None:
        self._store.insert_order(self._db, order)

    async def set_meta(self, key: str, value: str) -> None:
        self._store.set_meta(self._db, key, value)

    async def locked_meta(self, keys: Sequence[str]) -> tuple[str | None, ...]:
        """Read in the unit's transaction: one process writes its file, one unit at a time."""
        return tuple(queries.meta_value(self._db, key) for key in keys)


class SqliteStore(MemoryFailures, Store, interface.Store):
    """The storage interface (:class:`~kakaclo_sandbox.storage.interface.Store`) on one
    SQLite database.

    Its reads are :meth:`Store.reading`'s, written out: a read is on every request's
    path, and a generator-based context manager costs more than the read's own Python.

    Its failures queue is in memory (:class:`.failure_queue.MemoryFailures`), not a
    table: one process per file shares it with no other, a call of the API knows nothing
    is queued without a statement, and queuing never waits for a batch's commit. A
    restart forgets it.
    """

    def _committed(self) -> Connection:
        """The connection, the open batch committed (the caller holds the lock)."""
        if self._batch is not None:
            self.commit_batch()
        if self.lost is not None:
            raise DatabaseGone(self.lost)
        return self.connection

    @override
    def refunding(self, *, key: bool) -> AbstractAsyncContextManager[RefundUnit]:
        """In the current batch; its exit awaits the batch's commit."""
        return _Refunding(self, key)

    @override
    @asynccontextmanager
    async def settling(self, *, with_refunds: bool = False) -> AsyncIterator[SettlingUnit]:
        """Settle in the current batch (``with_refunds``: its own savepoint, committed with
        the refunds) or in a transaction of its own."""
        if with_refunds:
            with self.batched() as (db, _):
                yield _Settling(db)
        else:
            with self.transaction() as db:
                yield _Settling(db)

    @override
    @asynccontextmanager
    async def writing(self) -> AsyncIterator[WritingUnit]:
        """An open batch is committed first."""
        with self.transaction() as db:
            yield _Writing(db, self)

    @override
    async def stored_answer(self, merchant: str, key: str, since: float) -> StoredAnswer | None:
        with self._lock:
            return queries.stored_answer(self._committed(), merchant, key, since)

    @override
    async def refunds_page(
        self, merchant: str, order_id: str, *, limit: int, offset: int
    ) -> tuple[int, list[StoredRefund]] | None:
        with self._lock:
            return queries.refunds_page(
                self._committed(), merchant, order_id, limit=limit, offset=offset
            )

    @override
    async def orders_page(
        self,
        merchant: str,
        *,
        ids: Sequence[str] | None,
        created: Window,
        modified: Window,
        limit: int,
        offset: int,
    ) -> tuple[int, list[StoredOrder]]:
        with self._lock:
            return queries.find_orders(
                self._committed(),
                merchant,
                ids=ids,
                created=created,
                modified=modified,
                limit=limit,
                offset=offset,
            )

    @override
    async def stored_order(self, merchant: str, order_id: str) -> StoredOrder | None:
        with self._lock:
            return queries.stored_order(self._committed(), merchant, order_id)

    @override
    async def next_due(self) -> float | None:
        with self._lock:
            return queries.next_due(self._committed())

    @override
    async def meta(self, key: str) -> str | None:
        return self.get_meta(key)

    @override
    async def is_new(self) -> bool:
        return self.is_empty()

    @property
    @override
    def alone(self) -> bool:
        """Always: one process per database file (the file's lock sees to it)."""
        return True

    @override
    async def glance(
        self, meta_keys: Sequence[str], bucket: Bucket | None, take: str | None = None
    ) -> Glance | None:
        """None: one process per database file, whose memory is the record."""
        return None

    @override
    @asynccontextmanager
    async def key_claim(self, merchant: str, key: str) -> AsyncIterator[bool]:
        """Always claimed: one process per database file (its memory holds the keys in
        flight)."""
        yield True

    @override
    def on_change(self, told: Callable[[str | None], None]) -> None:
        """Nothing to tell: one process per database file."""

    @override
    def started(self) -> None:
        """Nothing: one process per database file (the file's lock sees to it)."""

    @override
    async def release(self) -> None:
        """Nothing: SQLite's connection belongs to no event loop."""

    @override
    async def read_version(self) -> int:
        """The open batch is committed first."""
        with self._lock:
            self._committed()
            return self.version
