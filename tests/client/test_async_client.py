"""AsyncKakacloClient: the same decisions as the sync client, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from kakaclo_client.models import RefundStatus

from kakaclo_refunds import (
    AsyncKakacloClient,
    Item,
    Order,
    QuantityExceededError,
    RetryPolicy,
    UnexpectedResponseError,
)
from kakaclo_sandbox import RateLimit
from tests.client.conftest import BASE, Time

SKU = "FSZW08923_R_L_NUB"


class AsyncForward(httpx.AsyncBaseTransport):
    """ASGITransport with optional sabotage, recording what was sent."""

    def __init__(self, app: Any, sabotage: Any = None) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.sabotage = sabotage
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)

        async def forward() -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return response

        if self.sabotage is not None:
            result: httpx.Response = await self.sabotage(request, forward)
            return result
        return await forward()


def _run(
    clock: Time,
    app: Any,
    scenario: Callable[[AsyncKakacloClient, AsyncForward], Awaitable[None]],
    sabotage: Any = None,
    **options: Any,
) -> None:
    async def main() -> None:
        transport = AsyncForward(app, sabotage)
        options.setdefault("retry", RetryPolicy(jitter=lambda: 1.0))
        async with AsyncKakacloClient(
            token="demo-token",
            base_url=BASE,
            transport=transport,
            sleep=clock.async_sleep,
            clock=clock,
            **options,
        ) as client:
            await scenario(client, transport)

    asyncio.run(main())


def test_vendor_flows_and_waiting(app: Any, clock: Time) -> None:
    async def scenario(client: AsyncKakacloClient, _: AsyncForward) -> None:
        partial = await client.refund_order(
            "10001", [Item("120001", SKU, 1, "CN"), Item("120002", SKU, 2, "US")], remark="test"
        )
        whole = await client.refund_order("10001", remark="other reason")
        assert partial != whole
        refund = await client.wait_for_refund("10001", whole, poll=1.0)
        assert refund.refund_status == RefundStatus.REFUND_SUCCESSFULLY
        order = await client.get_order("10001")
        assert order.refundable_amount == 0

    _run(clock, app, scenario)
    assert clock.slept == [1.0, 1.5, 2.25, 3.375]


def test_paging_and_errors(app: Any, clock: Time) -> None:
    async def scenario(client: AsyncKakacloClient, _: AsyncForward) -> None:
        ids = [order.id async for order in client.iter_orders(page_size=4)]
        assert len(ids) == len(set(ids)) == 10
        with pytest.raises(QuantityExceededError):
            await client.refund_order("10001", [Item("120001", SKU, 9, "CN")])

    _run(clock, app, scenario)


def test_429_storm_and_dropped_connection_make_no_duplicate(
    make_app: Callable[..., Any], clock: Time
) -> None:
    app = make_app(rate_limit=RateLimit(2, 0.5))
    dropped: list[bool] = []

    async def sabotage(
        request: httpx.Request, forward: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        if request.method == "POST" and not dropped:
            dropped.append(True)
            await forward()
            raise httpx.RemoteProtocolError("connection dropped", request=request)
        return await forward()

    async def scenario(client: AsyncKakacloClient, transport: AsyncForward) -> None:
        numbers = [
            await client.refund_order("10007", [Item("120071", SKU, 1, "CN")]) for _ in range(3)
        ]
        assert len(set(numbers)) == 3
        assert len(await client.list_refunds("10007")) == 3

    _run(clock, app, scenario, sabotage, retry=RetryPolicy(attempts=6, jitter=lambda: 1.0))
    assert 2.0 in clock.slept


def test_a_200_with_another_code_is_an_error(app: Any, clock: Time) -> None:
    async def sabotage(request: httpx.Request, forward: Any) -> httpx.Response:
        return httpx.Response(200, json={"code": 12345, "message": "odd", "data": None})

    async def scenario(client: AsyncKakacloClient, _: AsyncForward) -> None:
        with pytest.raises(UnexpectedResponseError) as caught:
            await client.list_refunds("10001")
        assert caught.value.code == 12345

    _run(clock, app, scenario, sabotage)


def test_orders_come_clean(app: Any, clock: Time) -> None:
    async def scenario(client: AsyncKakacloClient, _: AsyncForward) -> None:
        order = await client.get_order("10001")
        assert isinstance(order, Order)
        assert order.refund_status is None  # the wire says "NULL"
        assert order.raw.refund_status == "NULL"
        assert [option.name for option in order.lines[0].options] == ["color", "size"]

    _run(clock, app, scenario)
