"""Order states kept in memory between refunds, so a refund reads no row of its order.

SQLite stays the record: a kept state is always what the database holds in the
open transaction, with the refunds staged for it
(:mod:`~kakaclo_sandbox.storage.staged_refunds`). Refund Order reads an
order's state here (or from the database when it is not kept), and keeps it
with the pieces its refund reserved (:class:`kakaclo_sandbox.storage.sqlite.BatchedRefund`).

Every other write forgets everything kept, and so does a refund undone after it
was staged. :class:`~kakaclo_sandbox.storage.store.Store` sees to it, and
writes the staged refunds first, so no order with a staged refund is read from
the database: when a transaction or a batched write other than a refund
begins, when a staged refund is rolled back, when a commit fails, and when
:data:`LIMIT` orders are kept. That holds for one process per database, which
``kakaclo-sandbox`` enforces by locking the file.
"""

from __future__ import annotations

from collections.abc import Mapping

from kakaclo_sandbox.domain.orders import Line, OrderState

# Orders kept at most; then the store forgets them all, and they are read again as
# refunds come.
LIMIT = 4_096


class KeptOrders:
    """What the refund rules last saw of each order, by merchant and order id."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._states: dict[tuple[str, str], OrderState] = {}

    def __len__(self) -> int:
        return len(self._states)

    def get(self, merchant: str, order_id: str) -> OrderState | None:
        """The kept state of the merchant's order, if any."""
        return self._states.get((merchant, order_id))

    def reserve(self, merchant: str, order: OrderState, pieces: Mapping[str, int]) -> None:
        """Keep ``order`` with ``pieces`` (line id -> quantity) reserved by a refund just
        staged, as :func:`~.queries.insert_refunds` counts them in its lines."""
        lines = tuple(
            Line(
                id=line.id,
                item_id=line.item_id,
                sku_code=line.sku_code,
                country_code=line.country_code,
                product_num=line.product_num,
                reserved=line.reserved + pieces.get(line.id, 0),
                key=line.key,
            )
            for line in order.lines
        )
        self._states[merchant, order.id] = OrderState(
            id=order.id,
            status=order.status,
            financial_status=order.financial_status,
            fulfillment_status=order.fulfillment_status,
            lines=lines,
            key=order.key,
        )

    def keep(self, merchant: str, order: OrderState) -> None:
        """Keep ``order`` as it is (a refund undone puts back the state it replaced)."""
        self._states[merchant, order.id] = order

    def full(self) -> bool:
        """True when :attr:`limit` orders are kept: time to forget them all."""
        return len(self._states) >= self.limit

    def forget(self) -> None:
        """Drop every kept state (after any write that is not a refund)."""
        self._states.clear()
