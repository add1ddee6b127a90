"""What only the async client can do: run calls concurrently and be cancelled.

Everything the two clients share runs twice through ``conftest.py``'s
``flavour``; here the async client runs natively, on httpx's ASGI transport.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from kakaclo_client.models import RefundStatus

from kakaclo_refunds import AsyncKakacloClient, Item, RetryPolicy
from tests.client.conftest import BASE, Time

SKU = "FSZW08923_R_L_NUB"


def _client(app: Any, clock: Time, sleep: Any = None) -> AsyncKakacloClient:
    return AsyncKakacloClient(
        token="demo-token",
        base_url=BASE,
        transport=httpx.ASGITransport(app=app),
        retry=RetryPolicy(jitter=lambda: 1.0),
        sleep=sleep or clock.async_sleep,
        clock=clock,
    )


def test_concurrent_calls_share_one_client(app: Any, clock: Time) -> None:
    async def main() -> tuple[list[str], list[str]]:
        async with _client(app, clock) as client:
            numbers = await asyncio.gather(
                client.refund_order("10001", [Item("120001", SKU, 1, "CN")]),
                client.refund_order("10002"),
                client.refund_order("10007"),
            )
            ids = [order.id async for order in client.iter_orders(page_size=3)]
            return list(numbers), ids

    numbers, ids = asyncio.run(main())
    assert len(set(numbers)) == 3 and all(number.isdigit() for number in numbers)
    assert len(ids) == len(set(ids)) == 10


def test_a_cancelled_wait_leaves_the_client_usable(make_app: Any, clock: Time) -> None:
    app = make_app(settle_after=10_000)
    asleep = asyncio.Event()

    async def sleep_until_cancelled(seconds: float) -> None:
        clock.sleep(seconds)
        asleep.set()
        await asyncio.Event().wait()  # nothing wakes it: only the cancel ends it

    async def main() -> RefundStatus:
        async with _client(app, clock, sleep_until_cancelled) as client:
            number = await client.refund_order("10002")
            waiting = asyncio.create_task(client.wait_for_refund("10002", number, poll=1.0))
            await asleep.wait()  # the wait has polled once and sleeps
            waiting.cancel()
            try:
                await waiting
            except asyncio.CancelledError:
                pass
            else:
                raise AssertionError("the wait was not cancelled")
            refunds = await client.list_refunds("10002")
            return refunds[0].refund_status

    assert asyncio.run(main()) == RefundStatus.PENDING_REVIEW
