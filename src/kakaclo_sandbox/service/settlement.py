"""Settlement: pending refunds settle at their due time, by the rules of
:mod:`kakaclo_sandbox.domain.settlement`.

Settlement happens before every read or write of an order (so what a client
sees never lags the sandbox's clock) and in a background loop (so it also
happens when nobody asks). :class:`Settlement` remembers when the next
refund is due, so a read with nothing due takes no write lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from kakaclo_client.models import RefundStatus

from kakaclo_sandbox.domain.orders import PendingRefund
from kakaclo_sandbox.domain.refunds import fully_refunded
from kakaclo_sandbox.domain.settlement import outcome
from kakaclo_sandbox.storage.interface import DatabaseUnavailable, SettlingUnit, Store

log = logging.getLogger("kakaclo_sandbox.service")


async def settle(unit: SettlingUnit, refund: PendingRefund, status: str) -> None:
    """Settle one pending refund: failed ones give their pieces back, others refund them
    (and cancel the order once every piece of it is refunded)."""
    await unit.mark_settled(refund, status)
    if status == RefundStatus.REFUND_FAILED:
        await unit.release_pieces(refund)
        return
    await unit.refund_pieces(refund)
    if fully_refunded(await unit.line_counts(refund.order_key)):
        await unit.cancel_order(refund.order_key, refund.settle_at)


async def settle_due(unit: SettlingUnit, now: float) -> int:
    """Settle every pending refund whose time has come, as its remark says; how many."""
    due = await unit.due_refunds(now)
    for refund in due:
        await settle(unit, refund, outcome(refund.remark))
    return len(due)


class Settlement:
    """Settles due refunds, and remembers when the earliest pending one is due.

    Kept in memory, so that a read with nothing due needs no write transaction;
    it holds for one process per database (``kakaclo-sandbox`` locks the file).
    Whoever writes refunds other than through :meth:`added` calls :meth:`reload`.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.earliest: float | None = None  # unknown until reload()

    async def reload(self) -> None:
        """Read the earliest due time from the database again."""
        self.earliest = await self.store.next_due()

    def due(self, now: float) -> bool:
        """True when some pending refund's time has come by ``now``."""
        return self.earliest is not None and self.earliest <= now

    def added(self, settle_at: float) -> None:
        """A pending refund due at ``settle_at`` was written."""
        if self.earliest is None or settle_at < self.earliest:
            self.earliest = settle_at

    async def settle_now(self, now: float, *, with_refunds: bool = False) -> int:
        """Settle what is due by ``now`` (nothing is written when nothing is due); how many.

        ``with_refunds``: on the refund path, in a unit of its own that the store may
        commit with the refunds (a refusal of the refund does not undo it).
        """
        if not self.due(now):
            return 0
        async with self.store.settling(with_refunds=with_refunds) as unit:
            settled = await settle_due(unit, now)
            self.earliest = await unit.next_due()
        return settled


async def settle_forever(
    settlement: Settlement, now: Callable[[], float], idle: float = 1.0
) -> None:
    """Background loop: settle due refunds, then sleep until the next is due (at most ``idle``)."""
    while True:
        try:
            settled = await settlement.settle_now(now())
        except DatabaseUnavailable as error:
            # Nothing settled now; the next turn tries again (requests settle too).
            log.warning("background settlement: %s", error)
            settled = 0
        if settled:
            log.info("settled %d refund(s)", settled)
        due = settlement.earliest
        wait = idle if due is None else min(idle, max(0.01, due - now()))
        await asyncio.sleep(wait)
