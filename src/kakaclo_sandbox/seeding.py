"""Storing a checked data file: its merchants, orders and settled refunds, through the rules."""

from __future__ import annotations

from kakaclo_sandbox.data import SEED_RULES, DataError, Dataset, SeedOrder
from kakaclo_sandbox.domain.errors import OrderNotFound, RuleViolation
from kakaclo_sandbox.service.refunds import create_refund
from kakaclo_sandbox.service.settlement import settle
from kakaclo_sandbox.storage.interface import WritingUnit


async def seed(unit: WritingUnit, dataset: Dataset) -> None:
    """Store a dataset's tokens and orders, and settle its refunds (in ``unit``)."""
    by_merchant: dict[str, list[str]] = {}
    for token, merchant in dataset.tokens.items():
        by_merchant.setdefault(merchant, []).append(token)
    for merchant, tokens in by_merchant.items():
        await unit.add_merchant(merchant, tokens)
    for seeded in dataset.orders:
        await add_order(unit, seeded)


async def add_order(unit: WritingUnit, seeded: SeedOrder) -> None:
    """Store one order and apply its settled refunds through the refund rules.

    An order id or a line id the merchant's orders already use is a :class:`DataError`
    (nothing stored); another merchant's ids are no concern of this one.
    """
    order, where = seeded.order, seeded.where
    # Ids are the merchant's own: only its own orders can have taken one.
    if await unit.order_exists(order.merchant, order.id):
        raise DataError(f"{where}.id: order {order.id} already exists")
    taken = await unit.taken_line_ids(order.merchant, [line.id for line in order.lines])
    for index, line in enumerate(order.lines):
        if line.id in taken:
            raise DataError(
                f"{where}.orderItems[{index}].id: line id {line.id} is already "
                f"a line of order {taken[line.id]}"
            )
    await unit.insert_order(order)
    at = order.modify_date
    for r, refund in enumerate(seeded.refunds):
        try:
            number = await create_refund(
                unit,
                order.merchant,
                order.id,
                refund.request,
                rules=SEED_RULES,
                now=at,
                settle_at=at,
            )
        except (RuleViolation, OrderNotFound) as error:
            raise DataError(f"{where}: refunds[{r}]: {error}") from None
        await settle(unit, await unit.pending_refund(number), refund.status)


__all__ = ["add_order", "seed"]
