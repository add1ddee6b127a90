"""What the sandbox does with a request: read through storage, decide by the rules, write.

Settlement happens before every read or write of an order (so what a client
sees never lags the sandbox's clock) and in a background loop (so it also
happens when nobody asks). :class:`Settlement` remembers when the next
refund is due, so a read with nothing due takes no write lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kakaclo_client.models import RefundStatus

from kakaclo_sandbox.domain import idempotency
from kakaclo_sandbox.domain.errors import OrderNotFound
from kakaclo_sandbox.domain.orders import PendingRefund
from kakaclo_sandbox.domain.refunds import RefundRequest, RefundRules, fully_refunded
from kakaclo_sandbox.domain.settlement import outcome
from kakaclo_sandbox.storage import queries
from kakaclo_sandbox.storage.kept_orders import KeptOrders
from kakaclo_sandbox.storage.schema import Connection
from kakaclo_sandbox.storage.staged_refunds import StagedRefunds
from kakaclo_sandbox.storage.store import Store

log = logging.getLogger("kakaclo_sandbox.service")


def create_refund(
    db: Connection,
    merchant: str,
    order_id: str,
    request: RefundRequest,
    *,
    rules: RefundRules,
    now: float,
    settle_at: float,
    staged: StagedRefunds,
    kept: KeptOrders | None = None,
) -> str:
    """Check the rules and stage the refund, inside the caller's write transaction.

    Returns its refund number. The refund's rows wait in ``staged`` until the
    caller writes them (the store does when the batch commits; see
    :mod:`kakaclo_sandbox.storage.staged_refunds`). What the order shows as
    refunded is decided at settlement (see :mod:`kakaclo_sandbox.domain.money`),
    never here. With ``kept``, the order's state is read from there when it is
    kept, and what the refund reserves is kept too (see
    :mod:`kakaclo_sandbox.storage.kept_orders`).
    """
    order = kept.get(merchant, order_id) if kept is not None else None
    if order is None:
        order = queries.order_state(db, merchant, order_id)
        if order is None:
            raise OrderNotFound(order_id)
    pieces = rules.plan(order, request.items)
    seq = staged.add(
        db,
        order.key,
        {line.key: pieces[line.id] for line in order.lines if line.id in pieces},
        reason=request.reason,
        remark=request.remark,
        now=now,
        settle_at=settle_at,
    )
    if kept is not None:
        kept.reserve(merchant, order, pieces)
    return queries.refund_no(seq)


def replayed_refund(db: Connection, merchant: str, key: str, digest: str, now: float) -> str | None:
    """The refund number stored under a live key with the same digest; refuse another."""
    stored = queries.stored_answer(db, merchant, key, idempotency.live_since(now))
    return idempotency.replayed(stored, digest)


def key_answered(db: Connection, merchant: str, key: str, now: float) -> bool:
    """True when a live answer is stored under the key (its first request finished)."""
    return queries.stored_answer(db, merchant, key, idempotency.live_since(now)) is not None


def settle_due(db: Connection, now: float) -> int:
    """Settle every pending refund whose time has come; return how many."""
    due = queries.due_refunds(db, now)
    for refund in due:
        settle(db, refund, outcome(refund.remark))
    return len(due)


def settle_seeded(db: Connection, number: str, status: str) -> None:
    """Settle one pending refund to ``status`` at its due time (data files seed them so)."""
    settle(db, queries.pending_refund(db, number), status)


def settle(db: Connection, refund: PendingRefund, status: str) -> None:
    """Settle one pending refund: failed ones give their pieces back, others refund them."""
    queries.mark_settled(db, refund, status)
    if status == RefundStatus.REFUND_FAILED:
        queries.release_pieces(db, refund)
        return
    queries.refund_pieces(db, refund)
    if fully_refunded(queries.line_counts(db, refund.order_key)):
        queries.cancel_order(db, refund.order_key, refund.settle_at)


class Settlement:
    """Settles due refunds, and remembers when the earliest pending one is due.

    Kept in memory, so that a read with nothing due needs no write transaction;
    it holds for one process per database (``kakaclo-sandbox`` locks the file).
    Whoever writes refunds other than through :meth:`added` calls :meth:`reload`.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.earliest: float | None = None
        self.reload()

    def reload(self) -> None:
        """Read the earliest due time from the database again."""
        with self.store.reading() as db:
            self.earliest = queries.next_due(db)

    def due(self, now: float) -> bool:
        """True when some pending refund's time has come by ``now``."""
        return self.earliest is not None and self.earliest <= now

    def added(self, settle_at: float) -> None:
        """A pending refund due at ``settle_at`` was written."""
        if self.earliest is None or settle_at < self.earliest:
            self.earliest = settle_at

    def settle(self, db: Connection, now: float) -> int:
        """Settle what is due by ``now``, in the caller's write transaction; return how many.

        The caller must not roll that transaction back: the earliest due time
        kept here would then be wrong.
        """
        if not self.due(now):
            return 0
        settled = settle_due(db, now)
        self.earliest = queries.next_due(db)
        return settled

    def settle_now(self, now: float) -> int:
        """Settle what is due by ``now`` in a write transaction of its own (none when
        nothing is due); return how many."""
        if not self.due(now):
            return 0
        with self.store.transaction() as db:
            return self.settle(db, now)

    @contextmanager
    def view(self, now: float) -> Iterator[Connection]:
        """A consistent read in which every refund due by ``now`` is settled: a write
        transaction only when one is due, else a plain read."""
        if self.due(now):
            with self.store.transaction() as db:
                self.settle(db, now)
                yield db
        else:
            with self.store.reading() as db:
                yield db


async def settle_forever(
    settlement: Settlement, now: Callable[[], float], idle: float = 1.0
) -> None:
    """Background loop: settle due refunds, then sleep until the next is due (at most ``idle``)."""
    while True:
        settled = settlement.settle_now(now())
        if settled:
            log.info("settled %d refund(s)", settled)
        due = settlement.earliest
        wait = idle if due is None else min(idle, max(0.01, due - now()))
        await asyncio.sleep(wait)
