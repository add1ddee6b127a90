"""Storing a checked data file: its merchants, orders and settled refunds, through the rules."""

from __future__ import annotations

from kakaclo_sandbox import service
from kakaclo_sandbox.data import SEED_RULES, DataError, Dataset, SeedOrder
from kakaclo_sandbox.domain.errors import OrderNotFound, RuleViolation
from kakaclo_sandbox.storage import queries
from kakaclo_sandbox.storage.schema import Connection
from kakaclo_sandbox.storage.staged_refunds import StagedRefunds
from kakaclo_sandbox.storage.store import Store


def seed(store: Store, db: Connection, dataset: Dataset) -> None:
    """Store a dataset's tokens and orders, and settle its refunds (inside a transaction)."""
    by_merchant: dict[str, list[str]] = {}
    for token, merchant in dataset.tokens.items():
        by_merchant.setdefault(merchant, []).append(token)
    for merchant, tokens in by_merchant.items():
        store.add_merchant(db, merchant, tokens)
    store.forget_merchants()
    for seeded in dataset.orders:
        add_order(db, seeded)


def add_order(db: Connection, seeded: SeedOrder) -> None:
    """Store one order and apply its settled refunds through the refund rules.

    An order id or a line id the merchant's orders already use is a :class:`DataError`
    (nothing stored); another merchant's ids are no concern of this one.
    """
    order, where = seeded.order, seeded.where
    # Ids are the merchant's own: only its own orders can have taken one.
    if Store.order_exists(db, order.merchant, order.id):
        raise DataError(f"{where}.id: order {order.id} already exists")
    taken = queries.taken_line_ids(db, order.merchant, [line.id for line in order.lines])
    for index, line in enumerate(order.lines):
        if line.id in taken:
            raise DataError(
                f"{where}.orderItems[{index}].id: line id {line.id} is already "
                f"a line of order {taken[line.id]}"
            )
    Store.insert_order(db, order)
    at = order.modify_date
    for r, refund in enumerate(seeded.refunds):
        staged = StagedRefunds()
        try:
            number = service.create_refund(
                db,
                order.merchant,
                order.id,
                refund.request,
                rules=SEED_RULES,
                now=at,
                settle_at=at,
                staged=staged,
            )
        except (RuleViolation, OrderNotFound) as error:
            raise DataError(f"{where}: refunds[{r}]: {error}") from None
        staged.write(db)  # now: its settlement reads it
        service.settle_seeded(db, number, refund.status)


__all__ = ["add_order", "seed"]
