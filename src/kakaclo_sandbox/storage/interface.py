"""What the use cases ask of storage: one interface, whatever the engine.

:class:`~kakaclo_sandbox.storage.sqlite.SqliteStore` and
:class:`~kakaclo_sandbox.storage.postgres.store.PostgresStore` (async psycopg)
implement it. Everything a request does is an ``async`` method, so an engine
that waits for its server can; on SQLite nothing in a unit suspends but the
wait for the group commit.

A unit of work is an ``async with``: everything read and written in it is
one transaction's (on SQLite, a savepoint in the current batch or a
transaction of its own), undone when the block raises. Storage knows no
rule: the use cases decide (:mod:`kakaclo_sandbox.service`) and storage reads
and writes plain values (:mod:`kakaclo_sandbox.domain.orders`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import NamedTuple, Protocol

from kakaclo_sandbox.domain.orders import (
    NewOrder,
    OrderState,
    PendingRefund,
    StoredAnswer,
    StoredOrder,
    StoredRefund,
)

# (start, end) of a time filter, either open
Window = tuple[float | None, float | None]


class DatabaseGone(Exception):
    """The database is no longer the one the sandbox opened (its file was removed or
    replaced): nothing is written, and the sandbox stops."""


class DatabaseUnavailable(Exception):
    """The database cannot be reached now (its server is down, restarting or refusing
    connections): nothing of the request was carried out, and it may be tried again.
    The sandbox goes on and answers again once the server is back."""

    retry_after = 1  # seconds a client is told to wait


class QueuedFailure(NamedTuple):
    """A failure queued for a coming call (on demand: :mod:`kakaclo_sandbox.web.failures`)."""

    operation: str | None  # the operation it is for; None: any operation
    code: int | None
    retry_after: int | None
    delay: float
    drop: str | None


class Glance(NamedTuple):
    """What the processes sharing one database may have changed, read within a request."""

    version: int  # the write version (read_version's)
    next_due: float | None  # when the earliest pending refund is due
    meta: tuple[str | None, ...]  # the values of the meta keys asked for, in their order
    wait: int = 0  # with a bucket: 0 if the request was let through, else seconds to wait
    failure: QueuedFailure | None = None  # with an operation to take for: its failure, taken


class Bucket(NamedTuple):
    """A request to pour into a token's rate-limit bucket (shared by the processes)."""

    token: str
    burst: int
    per_second: float


class Queued(NamedTuple):
    """What queuing failures did: whether they were added, and the queue's length after
    (before, when refused)."""

    added: bool
    length: int


class RefundUnit(Protocol):
    """One refund's unit of work (:meth:`Store.refunding`)."""

    # no instance dict: an implementation that subclasses a unit keeps its own __slots__
    __slots__ = ()

    async def stored_answer(self, merchant: str, key: str, since: float) -> StoredAnswer | None:
        """The answer stored under the merchant's key after ``since``, if any."""
        ...

    async def order_state(self, merchant: str, order_id: str) -> OrderState | None:
        """What the refund rules need of the merchant's order (an engine may lock its lines)."""
        ...

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
        """Store a pending refund of ``pieces`` (line id -> quantity) of ``order``, as the
        rules accepted it; its refund number."""
        ...

    async def remember_answer(
        self, merchant: str, key: str, digest: str, number: str, now: float
    ) -> None:
        """Store a successful answer under the key (replacing an expired entry)."""
        ...


class SettlingUnit(Protocol):
    """A unit of work that settles refunds (:meth:`Store.settling`)."""

    __slots__ = ()

    async def due_refunds(self, now: float) -> Sequence[PendingRefund]:
        """Pending refunds whose time has come by ``now``, earliest first."""
        ...

    async def pending_refund(self, number: str) -> PendingRefund:
        """The refund with this number (data files settle each one they seed)."""
        ...

    async def mark_settled(self, refund: PendingRefund, status: str) -> None:
        """Record a pending refund's final status, at its due time."""
        ...

    async def release_pieces(self, refund: PendingRefund) -> None:
        """Give a failed refund's pieces back to their lines."""
        ...

    async def refund_pieces(self, refund: PendingRefund) -> None:
        """Count a successful refund's pieces as refunded."""
        ...

    async def line_counts(self, order_key: int) -> list[tuple[int, int]]:
        """(pieces, refunded pieces) of each line of an order (by its key)."""
        ...

    async def cancel_order(self, order_key: int, at: float) -> None:
        """Mark an order (by its key) cancelled at ``at``."""
        ...

    async def next_due(self) -> float | None:
        """When the earliest pending refund is due, or None."""
        ...


class WritingUnit(RefundUnit, SettlingUnit, Protocol):
    """A write transaction of its own, for the control surface and data files
    (:meth:`Store.writing`): what a refund and a settlement do, and more."""

    __slots__ = ()

    async def wipe(self) -> None:
        """Delete every row."""
        ...

    async def add_merchant(self, merchant: str, tokens: Sequence[str]) -> None:
        """Store a merchant's tokens."""
        ...

    async def order_exists(self, merchant: str, order_id: str) -> bool:
        """True when the merchant has an order with this id."""
        ...

    async def taken_line_ids(self, merchant: str, line_ids: Sequence[str]) -> dict[str, str]:
        """Which of ``line_ids`` a line of the merchant's orders has, and that order's id."""
        ...

    async def insert_order(self, order: NewOrder) -> None:
        """Store one order and its lines (their ids checked free first)."""
        ...

    async def set_meta(self, key: str, value: str) -> None:
        """Set a value of the sandbox's own (its clock, the data it was seeded from)."""
        ...

    async def locked_meta(self, keys: Sequence[str]) -> tuple[str | None, ...]:
        """The values of ``keys``, read to be changed: another process's unit that reads
        them so waits until this one has committed (no change lost between the two)."""
        ...


class Store(Protocol):
    """One sandbox's database."""

    def refunding(self, *, key: bool) -> AbstractAsyncContextManager[RefundUnit]:
        """The unit of one refund (``key``: it has an Idempotency-Key, so it stores an
        answer). Its exit returns only once the refund is durably committed: answer after."""
        ...

    def settling(self, *, with_refunds: bool = False) -> AbstractAsyncContextManager[SettlingUnit]:
        """A unit that settles refunds; ``with_refunds``: on the refund path, where an engine
        may commit it with the refunds that follow (SQLite: the same batch)."""
        ...

    def writing(self) -> AbstractAsyncContextManager[WritingUnit]:
        """A write transaction of its own, committed on exit."""
        ...

    async def stored_answer(self, merchant: str, key: str, since: float) -> StoredAnswer | None:
        """The committed answer stored under the merchant's key after ``since``, if any."""
        ...

    async def refunds_page(
        self, merchant: str, order_id: str, *, limit: int, offset: int
    ) -> tuple[int, list[StoredRefund]] | None:
        """A page of an order's refunds, newest first, and their total; None when the
        merchant has no order with this id."""
        ...

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
        """A page of the merchant's orders matching the filters, newest first, and the total."""
        ...

    async def stored_order(self, merchant: str, order_id: str) -> StoredOrder | None:
        """The merchant's order with this id and its lines, if any."""
        ...

    async def next_due(self) -> float | None:
        """When the earliest pending refund is due, or None."""
        ...

    async def meta(self, key: str) -> str | None:
        """A value of the sandbox's own, if set."""
        ...

    async def is_new(self) -> bool:
        """True when no merchant exists yet (a new database)."""
        ...

    async def read_version(self) -> int:
        """The version of what a read sees now: it moves whenever what is stored changes,
        so an answer computed at one version holds while it stays."""
        ...

    def merchant_of(self, token: str) -> str | None:
        """The merchant a bearer token belongs to, or None. Not async: every engine keeps
        the tokens in memory (read once, again after :meth:`forget_merchants`)."""
        ...

    def forget_merchants(self) -> None:
        """Read the tokens again on the next lookup (after they changed)."""
        ...

    async def glance(
        self, meta_keys: Sequence[str], bucket: Bucket | None, take: str | None = None
    ) -> Glance | None:
        """What another process may have changed, read now, with ``bucket`` poured into
        the shared rate limit and, with ``take``, that operation's queued failure taken as
        :meth:`take_failure` does (then ``bucket`` is not poured: a forced failure is not
        counted), in one round trip; None while this process is the database's only one:
        its memory is the record (and its buckets and failures are in memory)."""
        ...

    def may_have_failures(self) -> bool:
        """False only when no failure is queued for sure, known without a statement (while
        this process is the database's only one); every call of the API asks."""
        ...

    async def queue_failures(self, failure: QueuedFailure, count: int, most: int) -> Queued:
        """Queue ``count`` copies of ``failure`` after those queued, unless the queue (every
        process's, where several share the database) would then hold more than ``most``:
        then nothing is queued. Atomic: two processes queuing at once cannot pass ``most``."""
        ...

    async def take_failure(self, operation: str) -> QueuedFailure | None:
        """Take the first failure queued for ``operation``, or else the first for any, if
        one is queued: each is taken once, whichever process takes it."""
        ...

    async def queued_failures(self) -> list[QueuedFailure]:
        """Every failure queued, grouped by operation (in the order each was first queued),
        each group in the order it will be taken."""
        ...

    async def clear_failures(self) -> None:
        """Forget every queued failure (every process's)."""
        ...

    # Why the database is gone (a file removed or replaced under the sandbox), or None.
    lost: str | None

    @property
    def alone(self) -> bool:
        """True while this process is the only one using the database (SQLite: always,
        one process per file)."""
        ...

    def still_there(self) -> bool:
        """False once the database is gone (:attr:`lost` says why): the sandbox stops.
        A server's database is never a file removed under it: always True there."""
        ...

    def key_claim(self, merchant: str, key: str) -> AbstractAsyncContextManager[bool]:
        """Claim the merchant's Idempotency-Key for the block (given back at its end):
        True when claimed, False when another process sharing the database holds it.
        Always True where this process is the database's only one."""
        ...

    def on_change(self, told: Callable[[str | None], None]) -> None:
        """Have ``told`` called, from any thread, with the merchant (None: every one)
        whose data another process sharing the database changed (for the consoles)."""
        ...

    def started(self) -> None:
        """Startup's writes are done (a ``--fresh`` wipe, the data seeded): other
        processes sharing the database may join now."""
        ...

    async def release(self) -> None:
        """Let go of what the running event loop holds (a pool of connections), at the
        end of the app's lifespan; the next use takes it again."""
        ...

    def close(self) -> None:
        """Close the database (committing what is open)."""
        ...
