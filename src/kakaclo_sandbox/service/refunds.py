"""Refund Order, whole: the Idempotency-Key (replay, 40911, 40912), the refund rules, and
storing the refund before it is answered."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from kakaclo_sandbox.domain import idempotency
from kakaclo_sandbox.domain.errors import OrderNotFound, RuleViolation
from kakaclo_sandbox.domain.idempotency import InFlight
from kakaclo_sandbox.domain.refunds import RefundRequest, RefundRules
from kakaclo_sandbox.service.settlement import Settlement
from kakaclo_sandbox.storage.interface import DatabaseUnavailable, RefundUnit, Store

# Reads and validates the request's body (the handler's part), inside the key's hold.
ReadRequest = Callable[[], Awaitable[RefundRequest]]


async def create_refund(
    unit: RefundUnit,
    merchant: str,
    order_id: str,
    request: RefundRequest,
    *,
    rules: RefundRules,
    now: float,
    settle_at: float,
) -> str:
    """Check the rules and store the refund in ``unit``; its refund number (404, 409 raised).

    What the order shows as refunded is decided at settlement (see
    :mod:`kakaclo_sandbox.domain.money`), never here.
    """
    order = await unit.order_state(merchant, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    pieces = rules.plan(order, request.items)
    return await unit.add_refund(
        merchant,
        order,
        pieces,
        reason=request.reason,
        remark=request.remark,
        now=now,
        settle_at=settle_at,
    )


def normalised(request: RefundRequest) -> dict[str, Any]:
    """The body as the refund understands it, so ``2`` and ``2.0`` fingerprint alike."""
    return {
        "items": None
        if request.items is None
        else [[i.item_id, i.sku_code, i.quantity, i.country_code] for i in request.items],
        "reason": request.reason,
        "remark": request.remark,
    }


class Refunds:
    """The Refund Order use case of one sandbox."""

    def __init__(
        self,
        store: Store,
        settlement: Settlement,
        *,
        rules: RefundRules,
        settle_after: float,
        now: Callable[[], float],
    ) -> None:
        self.store = store
        self.settlement = settlement
        self.rules = rules
        self.settle_after = settle_after
        self.now = now
        self.in_flight = InFlight()

    def refund(
        self, merchant: str, order_id: str, key: str | None, read: ReadRequest
    ) -> Awaitable[str]:
        """Refund (part of) the merchant's order as ``read`` gives the request; await the
        refund number, given once the refund is committed. With a key: the stored answer
        replayed, 40911 for another order or body, 40912 while its first request is in
        flight. (Not itself async: without a key it adds no coroutine to the refund.)"""
        if key is None:
            return self._refund(merchant, order_id, None, read)
        return self._keyed(merchant, order_id, key, read)

    async def _keyed(self, merchant: str, order_id: str, key: str, read: ReadRequest) -> str:
        if self.in_flight.busy(merchant, key) and await self._answered(merchant, key):
            # Another replay holds the key, but its first request has finished:
            # replay this one too, however many arrive together.
            return await self._refund(merchant, order_id, key, read)
        with self.in_flight.hold(merchant, key):
            # the claim where processes share the database: taken before the body is read,
            # as the hold above, so the same key on another process is refused meanwhile
            async with self.store.key_claim(merchant, key) as claimed:
                if not claimed and not await self._answered(merchant, key):
                    raise idempotency.in_flight()
                return await self._refund(merchant, order_id, key, read)

    async def _answered(self, merchant: str, key: str) -> bool:
        """True when a live answer is stored under the key (its first request finished)."""
        since = idempotency.live_since(self.now())
        return await self.store.stored_answer(merchant, key, since) is not None

    async def _refund(
        self, merchant: str, order_id: str, key: str | None, read: ReadRequest
    ) -> str:
        request = await read()
        digest = idempotency.fingerprint(order_id, normalised(request)) if key else ""
        now = self.now()
        if self.settlement.due(now):
            # A unit of its own: a refusal below undoes the refund's writes, not this.
            await self.settlement.settle_now(now, with_refunds=True)
        try:
            async with self.store.refunding(key=key is not None) as unit:
                number = None
                if key:
                    stored = await unit.stored_answer(merchant, key, idempotency.live_since(now))
                    number = idempotency.replayed(stored, digest)
                if number is None:
                    settle_at = now + self.settle_after
                    number = await create_refund(
                        unit,
                        merchant,
                        order_id,
                        request,
                        rules=self.rules,
                        now=now,
                        settle_at=settle_at,
                    )
                    self.settlement.added(settle_at)
                    if key:
                        await unit.remember_answer(merchant, key, digest, number, now)
        except (RuleViolation, OrderNotFound):
            raise
        except BaseException:
            # a failed commit undid what was settled or added; a server that cannot be
            # reached keeps the time it had (a refund due early only settles nothing)
            with contextlib.suppress(DatabaseUnavailable):
                await self.settlement.reload()
            raise
        return number
