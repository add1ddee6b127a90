"""Refund Order on PostgreSQL in batches: the refunds of one moment, one transaction, one commit.

A refund's unit joins the open batch: one transaction on one pooled connection, shared
by the refunds of this process until it commits. The first refund of an order in a
batch locks the order's row (``FOR UPDATE``) and reads its lines; the batch keeps that
state in memory with the pieces its refunds reserve
(:class:`~kakaclo_sandbox.storage.kept_orders.KeptOrders`), so later refunds of the
order read nothing. The row lock keeps that state exact until the commit, whatever
another process writes. An accepted refund is staged in memory, its number taken from
a block of the refunds' sequence; the batch writes every staged refund and answer in
one statement (:func:`.queries.insert_refunds`) and commits, and only then does each
refund's unit end: an answer goes out after its refund is on disk.

Refunds take turns on the batch's connection (:class:`RefundBatches`' lock, first come
first served). A batch commits once the refunds queued before its commit are done;
while its ``COMMIT`` waits for the disk, the next refunds open the next batch on another
connection (and wait there for the row locks the first still holds). Every other write
(settlement, the control surface, data files) takes the same lock and commits the open
batch first, so no two transactions of this process wait for each other's row locks.

A batch waits for an order's row only while it holds no row: once it holds one, it
takes the next with ``SKIP LOCKED``, and when another transaction holds that one (another
process's batch or settlement, which may be waiting for an order this batch holds), the
batch is committed as it stands and the refund goes on in a new one, which waits holding
nothing. So processes sharing a database never deadlock on orders.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any

from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool

from kakaclo_sandbox.domain.orders import OrderState, StoredAnswer
from kakaclo_sandbox.storage.kept_orders import KeptOrders
from kakaclo_sandbox.storage.postgres import queries
from kakaclo_sandbox.storage.postgres.queries import Connection, StoredKey
from kakaclo_sandbox.storage.postgres.reachability import is_unreachable, reaching, unavailable
from kakaclo_sandbox.storage.queries import NewRefund, refund_no
from kakaclo_sandbox.storage.rows import line_pieces

log = logging.getLogger("kakaclo_sandbox")

MAX_BLOCK = 256  # refund numbers taken from the sequence in one statement, at most


class Batch:
    """The open transaction that refunds join: what it locked and read, what it staged."""

    __slots__ = ("answers", "committed", "db", "done", "kept", "merchants", "refunds", "seqs")

    def __init__(self, db: Connection) -> None:
        self.db = db
        self.kept = KeptOrders()  # the orders this transaction locked, with what it reserved
        self.refunds: list[NewRefund] = []
        self.answers: dict[tuple[str, str], StoredKey] = {}
        self.seqs: list[int] = []  # numbers taken from the sequence, not yet given
        self.merchants: set[str] = set()  # whose consoles another process should redraw
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.done = False  # closed: no refund joins it any more

    def __len__(self) -> int:
        return len(self.refunds) + len(self.answers)


class RefundBatches:
    """The batches of one event loop's pool, and the lock every write of it takes."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        shown_url: str,
        move_version: Callable[[Connection, Sequence[str]], Awaitable[None]],
        shared: Callable[[], bool],
    ) -> None:
        self._pool = pool
        self.shown_url = shown_url  # how errors name the database (no password)
        self._move_version = move_version  # after each commit
        self._shared = shared  # True while other processes share the database
        self._lock = asyncio.Lock()
        self._open: Batch | None = None
        self._waiting = 0  # refunds queued for the lock (the size of the next number block)
        self._committers: set[asyncio.Task[None]] = set()

    async def enter(self) -> Batch:
        """Take the lock and the open batch (a new one if none is open)."""
        self._waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self._waiting -= 1
        try:
            if self._open is None:
                with reaching(self.shown_url):
                    self._open = await self._begin()
        except BaseException:
            self._lock.release()
            raise
        return self._open

    def leave(self, batch: Batch) -> None:
        """Let the next refund have the lock; a batch whose transaction failed (a lost
        connection, a cancelled statement) takes no more refunds."""
        if batch.db.info.transaction_status != TransactionStatus.INTRANS and not batch.done:
            batch.done = True
            self._open = None
            self._committers_add(self._end(batch, written=False))
        self._lock.release()

    async def next_seq(self, batch: Batch) -> int:
        """A refund number's ``seq`` for the batch: from its block, or a new block sized by
        the refunds queued now (each may be accepted)."""
        if not batch.seqs:
            with reaching(self.shown_url):
                seqs = await queries.refund_seqs(batch.db, min(MAX_BLOCK, 1 + self._waiting))
            batch.seqs = seqs[::-1]
        return batch.seqs.pop()

    async def rotate(self, batch: Batch) -> Batch:
        """Hand ``batch`` over to be committed and open a new one, the lock still held (a
        refund about to wait for a row another transaction holds)."""
        if not batch.done:
            written = await self._close(batch)
            self._committers_add(self._end(batch, written=written))
        with reaching(self.shown_url):
            self._open = await self._begin()
        return self._open

    async def _begin(self) -> Batch:
        db: Connection = await self._pool.getconn()
        try:
            await db.execute("BEGIN")
        except BaseException:
            await self._pool.putconn(db)
            raise
        batch = Batch(db)
        self._committers_add(self._commit_soon(batch))
        return batch

    def _committers_add(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._committers.add(task)
        task.add_done_callback(self._committers.discard)

    async def _commit_soon(self, batch: Batch) -> None:
        """Commit the batch once the refunds queued before this are done (the lock is
        first come, first served); the ``COMMIT`` itself outside the lock."""
        await asyncio.sleep(0)  # the refunds ready in this turn of the loop join first
        async with self._lock:
            if batch.done:
                return  # another write committed it
            written = await self._close(batch)
        await self._end(batch, written=written)

    async def commit_open(self) -> None:
        """Commit the open batch now (the caller holds the lock: another write)."""
        batch = self._open
        if batch is not None and not batch.done:
            await self._end(batch, written=await self._close(batch))

    async def _close(self, batch: Batch) -> bool:
        """Take no more refunds into ``batch`` and write what it staged; False when the
        write failed (the batch is then rolled back)."""
        batch.done = True
        self._open = None
        if not len(batch):
            return True
        try:
            await queries.insert_refunds(batch.db, batch.refunds, list(batch.answers.values()))
        except BaseException as error:  # every refund of the batch is told, whatever it is
            # not committed: a server that went away carried none of them out
            _fail(batch, unavailable(self.shown_url, error) if is_unreachable(error) else error)
            return False
        return True

    async def _end(self, batch: Batch, *, written: bool) -> None:
        """``COMMIT`` (or ``ROLLBACK``) the batch, tell its refunds, give the connection back.
        A ``COMMIT`` that fails is told as it is, even for a lost server: whether it was
        carried out is not known (a 500, never a 503)."""
        try:
            if written and len(batch):
                await batch.db.execute("COMMIT")
                changed = sorted(batch.merchants) if self._shared() else ()
                await self._move_version(batch.db, changed)
            else:
                await batch.db.execute("ROLLBACK")
        except BaseException as error:  # every refund of the batch is told, whatever it is
            _fail(batch, error)
        finally:
            if not batch.committed.done():
                batch.committed.set_result(None)
            await self._pool.putconn(batch.db)

    async def take_alone(self) -> None:
        """Take the lock for a write that is not a refund, the open batch committed first;
        :meth:`let_go` gives it back."""
        await self._lock.acquire()
        try:
            await self.commit_open()
        except BaseException:
            self._lock.release()
            raise

    def let_go(self) -> None:
        """Give back the lock :meth:`take_alone` took."""
        self._lock.release()


def _fail(batch: Batch, error: BaseException) -> None:
    """Every refund of a failed batch gets its error (a failed write is logged once)."""
    if not batch.committed.done():
        log.error("a batch of %d refund(s) failed: %s", len(batch.refunds), error)
        batch.committed.set_exception(error)
        batch.committed.exception()  # retrieved: its refunds raise it, or none is waiting


class BatchedRefund:
    """One refund's unit (a :class:`~kakaclo_sandbox.storage.interface.RefundUnit`) in the
    open batch: entered with the lock, left when its batch has committed."""

    __slots__ = ("_answered", "_batch", "_batches", "_count", "_replaced", "_writer")

    def __init__(self, writer: Callable[[], Awaitable[RefundBatches]]) -> None:
        self._writer = writer  # the running loop's batches

    async def __aenter__(self) -> BatchedRefund:
        self._batches = await self._writer()
        batch = self._batch = await self._batches.enter()
        self._count = len(batch.refunds)
        self._replaced: tuple[str, OrderState] | None = None
        self._answered: tuple[tuple[str, str], StoredKey | None] | None = None
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        batch = self._batch
        if error is not None:
            self._undo(batch)
            self._batches.leave(batch)
            return  # the error goes on
        self._batches.leave(batch)
        # shielded: a refund whose request is cancelled must not cancel its batch's commit
        await asyncio.shield(batch.committed)

    def _undo(self, batch: Batch) -> None:
        """Drop what this refund staged and put back the order state it replaced."""
        del batch.refunds[self._count :]
        if self._answered is not None:
            where, previous = self._answered
            if previous is None:
                del batch.answers[where]
            else:
                batch.answers[where] = previous
        if self._replaced is not None:
            merchant, order = self._replaced
            batch.kept.keep(merchant, order)

    async def stored_answer(self, merchant: str, key: str, since: float) -> StoredAnswer | None:
        """The answer staged in the batch under the key, or stored after ``since``."""
        staged = self._batch.answers.get((merchant, key))
        if staged is not None:
            return StoredAnswer(staged.digest, staged.number)
        with reaching(self._batches.shown_url):
            return await queries.stored_answer(self._batch.db, merchant, key, since)

    async def order_state(self, merchant: str, order_id: str) -> OrderState | None:
        """The batch's state of the order, or read with its row locked (kept from then); a
        batch that holds rows already never waits for one (the module's docstring)."""
        batch = self._batch
        kept = batch.kept.get(merchant, order_id)
        if kept is not None:
            return kept
        with reaching(self._batches.shown_url):
            try:
                order = await queries.order_state(
                    batch.db, merchant, order_id, if_free=self._may_rotate(batch)
                )
            except queries.OrderBusy:
                batch = self._batch = await self._batches.rotate(batch)
                self._count = 0
                order = await queries.order_state(batch.db, merchant, order_id)
        if order is not None:
            batch.kept.keep(merchant, order)
        return order

    def _may_rotate(self, batch: Batch) -> bool:
        """True when ``batch`` holds rows and this refund has staged nothing in it yet
        (what it staged could not be undone once another commit took it)."""
        return len(batch.kept) > 0 and self._replaced is None and self._answered is None

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
        """Stage the refund in the batch and keep its order with the pieces reserved."""
        batch = self._batch
        seq = await self._batches.next_seq(batch)
        batch.refunds.append(
            NewRefund(
                seq,
                order.key,
                line_pieces(order, pieces),
                reason,
                remark,
                now,
                settle_at,
            )
        )
        self._replaced = (merchant, order)
        batch.kept.reserve(merchant, order, pieces)
        batch.merchants.add(merchant)
        return refund_no(seq)

    async def remember_answer(
        self, merchant: str, key: str, digest: str, number: str, now: float
    ) -> None:
        """Stage the answer under the key, written with the batch's refunds."""
        answers = self._batch.answers
        self._answered = ((merchant, key), answers.get((merchant, key)))
        answers[merchant, key] = StoredKey(merchant, key, digest, number, now)
