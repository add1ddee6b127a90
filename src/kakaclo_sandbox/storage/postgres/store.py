"""The storage interface on PostgreSQL: :class:`PostgresStore` (async psycopg, a pool).

Every unit of work is one transaction on one pooled connection, committed when its block
ends (and rolled back when it raises), so a refund's answer goes out only after its
``COMMIT`` returned, with ``synchronous_commit`` on: a ``kill -9`` of the sandbox loses
nothing it answered. A refund locks its order's row first (:func:`.queries.order_state`),
so two refunds of one order take turns, whatever process they run in. SQLite's staged
refunds, kept orders and group commit are not used here: the server commits concurrent
transactions together itself (its WAL flush), and the rows stay the one record.

The pool belongs to the event loop that opened it: it opens on first use in the running
loop (uvicorn's, a test client's) and :meth:`PostgresStore.release` closes it (the app's
lifespan does, at shutdown). Startup work, before any loop, runs in a loop of its own
through :meth:`PostgresStore.run_sync`, which closes that loop's pool at the end.

A method that implements the interface is marked ``@override``: what it does is the
interface's docstring; its own says only what PostgreSQL adds.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from kakaclo_sandbox.database_url import shown
from kakaclo_sandbox.domain.orders import (
    NewOrder,
    OrderState,
    PendingRefund,
    StoredAnswer,
    StoredOrder,
    StoredRefund,
)
from kakaclo_sandbox.storage import interface
from kakaclo_sandbox.storage.interface import (
    Bucket,
    DatabaseUnavailable,
    Glance,
    Queued,
    QueuedFailure,
    RefundUnit,
    SettlingUnit,
    Window,
    WritingUnit,
)
from kakaclo_sandbox.storage.postgres import failures, queries
from kakaclo_sandbox.storage.postgres.batches import BatchedRefund, RefundBatches
from kakaclo_sandbox.storage.postgres.membership import ATTACHED, NAMESPACE, Membership
from kakaclo_sandbox.storage.postgres.reachability import first_line, reaching
from kakaclo_sandbox.storage.postgres.schema import (
    DROP_TABLES,
    SCHEMA,
    SCHEMA_LOCK,
    SCHEMA_VERSION,
    VERSION_KEY,
)
from kakaclo_sandbox.storage.queries import refund_no
from kakaclo_sandbox.storage.rows import line_pieces

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

log = logging.getLogger("kakaclo_sandbox")
T = TypeVar("T")

CONNECT_SECONDS = 10
POOL_SIZE = 8  # connections per event loop: more concurrent units wait for one
# Seconds a unit waits for a pooled connection: past it (a server that went away and is
# not back) the request is answered 503 rather than left hanging.
POOL_WAIT = 5


class DatabaseUnreachable(ValueError):
    """The server cannot be reached, or refuses the connection (one line)."""


def prepare(url: str, *, fresh: bool) -> dict[str, str]:
    """Check the database's schema version and create the schema (``fresh``: drop the
    tables of another version first); the tokens it holds. DatabaseUnreachable or
    ValueError, in one line, for a server it cannot use."""
    try:
        connection = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_SECONDS)
    except psycopg.Error as error:
        raise DatabaseUnreachable(f"cannot connect to {shown(url)}: {first_line(error)}") from None
    try:
        return _prepared(connection, url, fresh=fresh)
    except psycopg.Error as error:
        raise DatabaseUnreachable(f"cannot use {shown(url)}: {first_line(error)}") from None
    finally:
        connection.close()


def _prepared(connection: psycopg.Connection[Any], url: str, *, fresh: bool) -> dict[str, str]:
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        has_tables = connection.execute("SELECT to_regclass('refunds') IS NOT NULL").fetchone()
        version: str | None = None
        if connection.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone() == (True,):
            row = connection.execute(
                "SELECT value FROM meta WHERE key = %s", (VERSION_KEY,)
            ).fetchone()
            version = None if row is None else str(row[0])
        if has_tables == (True,) and version != str(SCHEMA_VERSION):
            if not fresh:
                raise ValueError(
                    f"{shown(url)} was made by another version of kakaclo-sandbox (schema "
                    f"{version}, this one needs {SCHEMA_VERSION}); pass --fresh to replace "
                    "it, or another --db"
                )
            log.warning("%s: dropping the tables of schema %s (--fresh)", shown(url), version)
            connection.execute(DROP_TABLES)
        connection.execute(SCHEMA)
        connection.execute(
            "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
            (VERSION_KEY, str(SCHEMA_VERSION)),
        )
        rows = connection.execute("SELECT token, merchant FROM merchants").fetchall()
    return {token: merchant for token, merchant in rows}


class _Unit:
    """One transaction's reads and writes (every unit's methods: it is a WritingUnit)."""

    __slots__ = ("_db", "_store")

    def __init__(self, db: queries.Connection, store: PostgresStore) -> None:
        self._db = db
        self._store = store

    async def stored_answer(self, merchant: str, key: str, since: float) -> StoredAnswer | None:
        return await queries.stored_answer(self._db, merchant, key, since)

    async def order_state(self, merchant: str, order_id: str) -> OrderState | None:
        return await queries.order_state(self._db, merchant, order_id)

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
        seq = await queries.insert_refund(
            self._db,
            order.key,
            line_pieces(order, pieces),
            reason=reason,
            remark=remark,
            now=now,
            settle_at=settle_at,
        )
        return refund_no(seq)

    async def remember_answer(
        self, merchant: str, key: str, digest: str, number: str, now: float
    ) -> None:
        await queries.remember_answer(self._db, merchant, key, digest, number, now)

    async def due_refunds(self, now: float) -> Sequence[PendingRefund]:
        return await queries.due_refunds(self._db, now)

    async def pending_refund(self, number: str) -> PendingRefund:
        return await queries.pending_refund(self._db, number)

    async def mark_settled(self, refund: PendingRefund, status: str) -> None:
        await queries.mark_settled(self._db, refund, status)

    async def release_pieces(self, refund: PendingRefund) -> None:
        await queries.release_pieces(self._db, refund)

    async def refund_pieces(self, refund: PendingRefund) -> None:
        await queries.refund_pieces(self._db, refund)

    async def line_counts(self, order_key: int) -> list[tuple[int, int]]:
        return await queries.line_counts(self._db, order_key)

    async def cancel_order(self, order_key: int, at: float) -> None:
        await queries.cancel_order(self._db, order_key, at)

    async def next_due(self) -> float | None:
        return await queries.next_due(self._db)

    async def wipe(self) -> None:
        await queries.wipe(self._db)
        self._store.forget_merchants()

    async def add_merchant(self, merchant: str, tokens: Sequence[str]) -> None:
        await queries.add_merchant(self._db, merchant, tokens)
        self._store.forget_merchants()

    async def order_exists(self, merchant: str, order_id: str) -> bool:
        return await queries.order_exists(self._db, merchant, order_id)

    async def taken_line_ids(self, merchant: str, line_ids: Sequence[str]) -> dict[str, str]:
        return await queries.taken_line_ids(self._db, merchant, line_ids)

    async def insert_order(self, order: NewOrder) -> None:
        await queries.insert_order(self._db, order)

    async def set_meta(self, key: str, value: str) -> None:
        await queries.set_meta(self._db, key, value)

    async def locked_meta(self, keys: Sequence[str]) -> tuple[str | None, ...]:
        return await queries.locked_meta(self._db, keys)


async def _configure(connection: psycopg.AsyncConnection[Any]) -> None:
    # An answer goes out after its COMMIT is on disk, whatever the server's default; no
    # JIT: every query here is a few index lookups, which compiling only slows down.
    await connection.execute("SET synchronous_commit = on; SET jit = off")


class VersionOwed(RuntimeError):
    """A write committed but its version move failed twice (answered 500, not 503)."""


class PostgresStore(interface.Store):
    """The storage interface (:class:`~kakaclo_sandbox.storage.interface.Store`) on one
    PostgreSQL database, by its libpq URL."""

    lost: str | None = None  # a server is never a file removed under the sandbox

    def __init__(self, url: str, *, fresh: bool = False, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        self.path = shown(url)  # how messages name it
        self.pool_size = pool_size
        self._membership = Membership(url)
        try:
            self._membership.attach(exclusively=fresh)  # no --fresh under other processes
        except psycopg.Error as error:
            reason = first_line(error)
            raise DatabaseUnreachable(f"cannot connect to {shown(url)}: {reason}") from None
        try:
            self._merchants: dict[str, str] | None = prepare(url, fresh=fresh)
            # alone, it starts with no failure queued, as SQLite's process does
            self._membership.settle_in(alone=failures.clear_now)
        except BaseException:
            self._membership.close()
            raise
        self._exclusive = fresh  # until started(): other processes wait to join
        self._version = 0  # the write version this process last moved it to
        self._owed = False  # a committed write's version move failed: made at the next read
        # the rows it queued less those it took or cleared: while alone, the queue's length
        self._failures = 0
        self._pool: AsyncConnectionPool | None = None
        self._batches: RefundBatches | None = None  # the pool's
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Task[AsyncConnectionPool] | None = None
        self._checking: asyncio.Task[None] | None = None  # the pool's check under way
        self._membership.on_rejoined = self._check_pool

    # -- the pool -----------------------------------------------------------

    async def _connections(self) -> AsyncConnectionPool:
        """The running loop's pool, opened on first use (DatabaseUnavailable while the
        server cannot be reached: the next use tries again)."""
        if not self._membership.joined:
            # its place among the processes lost with the server: none of its writes may
            # land before it has joined again (another may be alone meanwhile)
            raise DatabaseUnavailable(
                f"the sandbox's database {self.path} cannot be reached (the connection "
                "was lost; trying again every second)"
            )
        loop = asyncio.get_running_loop()
        pool = self._pool
        if pool is not None and self._loop is loop:
            return pool
        if self._opening is None or self._loop is not loop:
            self._pool, self._loop = None, loop
            self._opening = loop.create_task(self._open())
        with reaching(self.path):
            return await asyncio.shield(self._opening)

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[queries.Connection]:
        """A pooled connection for reads outside any transaction (autocommit)."""
        pool = await self._connections()
        try:
            with reaching(self.path):
                async with pool.connection() as db:
                    if self._owed:  # before this process reads anything (move_version)
                        self._version = max(self._version, await queries.move_version(db))
                        self._owed = False
                    yield db
        except DatabaseUnavailable:
            self._check_pool()
            raise

    def _check_pool(self) -> None:
        """Have the pool check its idle connections now, broken ones replaced: after a
        server restart each would otherwise fail one request of its own. In the pool's
        loop, one check at a time; from any thread (the membership's, rejoined)."""
        pool, loop = self._pool, self._loop
        if pool is None or loop is None or loop.is_closed():
            return

        def start() -> None:
            if self._checking is None or self._checking.done():
                self._checking = loop.create_task(pool.check())
                # a check that fails (the server gone again) is the next request's to tell
                self._checking.add_done_callback(lambda task: task.cancelled() or task.exception())

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            start()
        else:
            loop.call_soon_threadsafe(start)

    async def _open(self) -> AsyncConnectionPool:
        pool = AsyncConnectionPool(
            self.url,
            # every connection opened up front: a pool that grows does it in tasks which
            # a loop ending without release() (asyncio.run around an app) waits for forever
            min_size=self.pool_size,
            max_size=self.pool_size,
            kwargs={"autocommit": True},
            configure=_configure,
            open=False,
            name="kakaclo-sandbox",
            timeout=POOL_WAIT,
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_SECONDS)
        except BaseException:
            self._opening = None
            await pool.close()
            raise
        self._pool, self._batches = (
            pool,
            RefundBatches(pool, self.path, self.move_version, lambda: not self._membership.alone),
        )
        return pool

    async def _writer(self) -> RefundBatches:
        """The running loop's refund batches (and its lock on every write)."""
        await self._connections()
        assert self._batches is not None
        return self._batches

    @override
    async def release(self) -> None:
        """Close the running loop's pool (the next use opens another); one of another loop
        (an app called from several) is only let go: it cannot be closed from here."""
        pool, self._pool, self._opening, self._batches = self._pool, None, None, None
        if pool is not None and self._loop is asyncio.get_running_loop():
            await pool.close()

    def run_sync(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` to its end in an event loop of its own (startup, before uvicorn's
        loop), its pool closed at the end; in a thread of its own when the caller runs in
        a loop already (an app built inside one)."""

        async def released() -> T:
            try:
                return await work
            finally:
                await self.release()

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(released())
        with ThreadPoolExecutor(1, thread_name_prefix="kakaclo-startup") as startup:
            return startup.submit(asyncio.run, released()).result()

    # -- units of work --------------------------------------------------------

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Unit]:
        """One transaction on a pooled connection, committed on exit, alone among this
        process's writes (the open refund batch committed first); then the version moves
        (after the commit: a read that sees the new version sees what was written)."""
        pool = await self._connections()
        batches = await self._writer()
        await batches.take_alone()
        try:
            with reaching(self.path):
                async with pool.connection() as db:
                    # No pipeline: it saves round trips on the loopback, but costs more
                    # Python than they cost (measured, 32 callers: 1415-1435 refunds/s with
                    # it, 1690-1757 without)
                    async with db.transaction():
                        yield _Unit(db, self)
                    # every merchant's data may have changed
                    await self.move_version(db, () if self._membership.alone else ("",))
        finally:
            batches.let_go()

    @override
    def refunding(self, *, key: bool) -> AbstractAsyncContextManager[RefundUnit]:
        """The unit of one refund, in the open batch (:mod:`.batches`): its exit returns
        once the batch has committed."""
        return BatchedRefund(self._writer)

    @override
    def settling(self, *, with_refunds: bool = False) -> AbstractAsyncContextManager[SettlingUnit]:
        """A transaction of its own, whatever the path."""
        return self._transaction()

    @override
    def writing(self) -> AbstractAsyncContextManager[WritingUnit]:
        return self._transaction()

    # -- reads ----------------------------------------------------------------

    @override
    async def stored_answer(self, merchant: str, key: str, since: float) -> StoredAnswer | None:
        async with self._reader() as db:
            return await queries.stored_answer(db, merchant, key, since)

    @override
    async def refunds_page(
        self, merchant: str, order_id: str, *, limit: int, offset: int
    ) -> tuple[int, list[StoredRefund]] | None:
        async with self._reader() as db:
            return await queries.refunds_page(db, merchant, order_id, limit=limit, offset=offset)

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
        async with self._reader() as db:
            return await queries.find_orders(
                db,
                merchant,
                ids=ids,
                created=created,
                modified=modified,
                limit=limit,
                offset=offset,
            )

    @override
    async def stored_order(self, merchant: str, order_id: str) -> StoredOrder | None:
        async with self._reader() as db:
            return await queries.stored_order(db, merchant, order_id)

    @override
    async def next_due(self) -> float | None:
        async with self._reader() as db:
            return await queries.next_due(db)

    @override
    async def meta(self, key: str) -> str | None:
        async with self._reader() as db:
            return await queries.meta(db, key)

    @override
    async def is_new(self) -> bool:
        async with self._reader() as db:
            return await queries.is_empty(db)

    @override
    async def read_version(self) -> int:
        """The ``write_version`` sequence's value: from memory while this process is the
        database's only one (:mod:`.membership`), else read within the request."""
        if self._membership.alone:
            return self._version
        async with self._reader() as db:
            return await queries.write_version(db)

    @override
    async def glance(
        self, meta_keys: Sequence[str], bucket: Bucket | None, take: str | None = None
    ) -> Glance | None:
        if self._membership.alone:
            return None
        async with self._reader() as db:
            glanced = await queries.glance(db, meta_keys, bucket, take)
        if glanced.failure is not None:
            self._failures -= 1
        return glanced

    @property
    @override
    def alone(self) -> bool:
        """True while this process is the database's only one (:mod:`.membership`)."""
        return self._membership.alone

    async def move_version(self, db: queries.Connection, changed: Sequence[str] = ()) -> None:
        """Move the write version once a write has committed (every process's answer cache
        then misses). A connection lost before the move: moved on another at once. When
        that fails too, the move is owed: this process's memory moves at once and the
        database's before this process reads from it again (until then its requests
        cannot reach it either), and a process that joins again moves it
        (:mod:`.membership`), as every process does after the server restarted."""
        try:
            version = await queries.move_version(db, changed)
        except psycopg.Error:
            self._owed = True
            self._version += 1
            try:
                pool = await self._connections()
                async with pool.connection() as other:
                    version = await queries.move_version(other, changed)
            except (psycopg.Error, PoolTimeout, DatabaseUnavailable) as error:
                # written: never told as "nothing carried out" (503), but as a 500
                raise VersionOwed(
                    f"written, but the write version was not moved: {error}"
                ) from error
        self._owed = False
        self._version = max(self._version, version)

    @override
    @asynccontextmanager
    async def key_claim(self, merchant: str, key: str) -> AsyncIterator[bool]:
        """Claimed in the database (a row, committed at once), whether or not this
        process is alone: one that joins later sees the claim too."""
        membership = self._membership
        owner = membership.pid
        attached = (NAMESPACE, ATTACHED)
        async with self._reader() as db:
            claimed = await queries.claim_key(db, merchant, key, owner, attached)
        try:
            yield claimed
        finally:
            if claimed:
                async with self._reader() as db:
                    await queries.release_key(db, merchant, key, owner)

    # -- failures on demand ---------------------------------------------------

    @override
    def may_have_failures(self) -> bool:
        """Shared: always (another process may have queued one: only the table knows).
        Alone: unless this process's count of the rows is 0. It counts each row it
        inserted and deleted once the statement is done, so the count is the queue's
        length whenever none of its statements is under way (a failure queued a moment
        before its POST is answered may not apply yet)."""
        return not self._membership.alone or self._failures != 0

    @override
    async def queue_failures(self, failure: QueuedFailure, count: int, most: int) -> Queued:
        async with self._reader() as db:
            queued = await failures.queue(db, failure, count, most)
        if queued.added:
            self._failures += count
        return queued

    @override
    async def take_failure(self, operation: str) -> QueuedFailure | None:
        async with self._reader() as db:
            taken = await failures.take(db, operation)
        if taken is not None:
            self._failures -= 1
        return taken

    @override
    async def queued_failures(self) -> list[QueuedFailure]:
        async with self._reader() as db:
            return await failures.pending(db)

    @override
    async def clear_failures(self) -> None:
        async with self._reader() as db:
            self._failures -= await failures.clear(db)

    @override
    def on_change(self, told: Callable[[str | None], None]) -> None:
        self._membership.on_change = told

    @override
    def started(self) -> None:
        """Startup's writes are done: the processes waiting to join are let in (a lone
        process's, or a ``--fresh`` start's)."""
        if self._exclusive:
            self._membership.share()
            self._exclusive = False
        self._membership.started()

    # -- tokens ---------------------------------------------------------------

    @override
    def merchant_of(self, token: str) -> str | None:
        """The tokens are read again, synchronously, after they changed (a reset, a data
        file)."""
        merchants = self._merchants
        if merchants is None:
            with psycopg.connect(self.url, autocommit=True) as connection:
                rows = connection.execute("SELECT token, merchant FROM merchants").fetchall()
            merchants = self._merchants = {token: merchant for token, merchant in rows}
        return merchants.get(token)

    @override
    def forget_merchants(self) -> None:
        self._merchants = None

    def still_there(self) -> bool:
        """Always: a server's database is not a file removed under the sandbox."""
        return True

    @override
    def close(self) -> None:
        """Let go of the pool (:meth:`release` closes it inside its loop, at shutdown) and
        detach from the database's processes."""
        self._pool, self._opening = None, None
        self._membership.close()
