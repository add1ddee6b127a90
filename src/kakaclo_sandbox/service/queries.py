"""Query Refund and Query Order: what is due settled first, then one read."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kakaclo_sandbox.domain.errors import OrderNotFound
from kakaclo_sandbox.domain.orders import StoredOrder, StoredRefund
from kakaclo_sandbox.service.settlement import Settlement
from kakaclo_sandbox.storage.interface import Store, Window


class Queries:
    """The read use cases of one sandbox."""

    def __init__(self, store: Store, settlement: Settlement, now: Callable[[], float]) -> None:
        self.store = store
        self.settlement = settlement
        self.now = now

    async def settled_version(self, seen: int | None = None) -> int:
        """Settle every refund due by now; the version the next read sees (an answer
        computed from it holds while the store's version stays). ``seen``: the version
        read earlier within the request, which holds unless this settled something."""
        settled = await self.settlement.settle_now(self.now())
        if seen is not None and not settled:
            return seen
        return await self.store.read_version()

    async def refunds(
        self, merchant: str, order_id: str, *, limit: int, offset: int
    ) -> tuple[int, list[StoredRefund]]:
        """A page of the merchant's order's refunds, newest first, and their total; 404
        (OrderNotFound) for an order the merchant does not have."""
        found = await self.store.refunds_page(merchant, order_id, limit=limit, offset=offset)
        if found is None:
            raise OrderNotFound(order_id)
        return found

    async def orders(
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
        return await self.store.orders_page(
            merchant, ids=ids, created=created, modified=modified, limit=limit, offset=offset
        )
