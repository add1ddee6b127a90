"""``AsyncKakacloClient``: the async twin of ``KakacloClient`` (the same flows, awaited I/O)."""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from kakaclo_client.models import Refund, RefundItem, RefundReason

from kakaclo_refunds import _core
from kakaclo_refunds._base import (
    BaseClient,
    Effect,
    Emit,
    Fetch,
    Flow,
    Progress,
    Send,
    Sleep,
    advance,
    captured,
)
from kakaclo_refunds.orders import Order
from kakaclo_refunds.retry import RetryNotice, RetryPolicy

T = TypeVar("T")

__all__ = ["AsyncKakacloClient"]


class AsyncKakacloClient(BaseClient):
    """The async twin of ``KakacloClient``: every call, awaited.

    >>> async with AsyncKakacloClient(token="demo-token") as kk:
    ...     refund_no = await kk.refund_order("10002", remark="other reason")
    """

    def __init__(
        self,
        token: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 10.0,
        deadline: float | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        honours_idempotency_key: bool | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_retry: Callable[[RetryNotice], None] | None = None,
    ) -> None:
        """Build a client.

        ``timeout`` bounds each read; ``deadline`` each whole answer, connect to last
        byte (default :data:`kakaclo_refunds.bounds.ANSWER_DEADLINE`, 30 s), which
        is also capped in size and JSON depth (:mod:`kakaclo_refunds.bounds`; not
        with your own ``transport`` or ``http_client``).
        ``base_url`` defaults to ``KAKACLO_BASE_URL``, then production; ``token``
        to ``KAKACLO_TOKEN``. ``transport`` or ``http_client`` replace httpx's
        defaults (tests, proxies). ``honours_idempotency_key`` says whether the
        server replays ``Idempotency-Key``; unknown (None) asks ``/_sandbox/info``
        once. ``sleep`` and ``clock`` are injectable for tests. ``on_retry`` hears
        each retry before its wait (what failed, the wait, the attempt): a CLI shows it.
        """
        super().__init__(base_url, retry, clock, honours_idempotency_key, on_retry)
        token = _core.token_from(token)
        self._sleep = sleep
        self._api = _core.generated_client(
            self.base_url,
            token,
            timeout,
            _core.remember_response_async,
            transport,
            asynchronous=True,
            deadline=deadline,
        )
        if http_client is not None:
            _core.adopt_http_client(http_client, token, _core.remember_response_async)
            self._api.set_async_httpx_client(http_client)

    # -- plumbing: how this client performs what the flows ask ------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._api.get_async_httpx_client().aclose()

    async def _perform(self, effect: Effect) -> Any:
        if isinstance(effect, Send):
            return await effect.endpoint.asyncio_detailed(client=self._api, **effect.arguments)
        if isinstance(effect, Fetch):
            return await self._api.get_async_httpx_client().get(effect.url)
        if isinstance(effect, Sleep):
            return await self._sleep(effect.seconds)
        raise TypeError(f"{effect!r} cannot be performed here")

    async def _steps(self, flow: Flow[None]) -> AsyncIterator[Any]:
        """Drive ``flow``: yield what it emits."""
        value: Any = None
        error: Exception | None = None
        try:
            while True:
                done, effect = advance(flow, value, error)
                if done:
                    return
                value, error = None, None
                if isinstance(effect, Emit):
                    yield effect.item
                    continue
                try:
                    value = await self._perform(effect)
                except Exception as caught:  # handed to the flow, which decides
                    error = caught
        finally:
            flow.close()

    async def _run(self, flow: Flow[T]) -> T:
        result: list[T] = []
        async for _ in self._steps(captured(flow, result)):
            raise TypeError("a call that returns one value emitted items")
        return result[0]

    # -- the calls ----------------------------------------------------------------

    async def honours_idempotency_key(self) -> bool:
        """Whether the server is known to replay ``Idempotency-Key`` (a sandbox says so)."""
        return await self._run(self._honours())

    async def refund_order(
        self,
        order_id: str,
        items: Sequence[_core.Item | RefundItem] | None = None,
        *,
        reason: RefundReason | str | None = None,
        remark: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Refund the whole order (no ``items``) or the given pieces; return the refund number.

        One ``Idempotency-Key`` is made per call (or yours is used) and sent on
        every retry. Against a server not known to honour it, a request that may
        have gone through is reconciled through Query Refund instead of being
        resent blindly; when that cannot tell, ``RefundOutcomeUnknownError``.
        """
        return await self._run(self._refund_order(order_id, items, reason, remark, idempotency_key))

    async def list_refunds(self, order_id: str) -> list[Refund]:
        """Every refund of the order, newest first (all pages)."""
        return await self._run(self._list_refunds(order_id))

    def iter_orders(
        self,
        *,
        ids: Sequence[str] | None = None,
        created_from: datetime.datetime | None = None,
        created_to: datetime.datetime | None = None,
        updated_from: datetime.datetime | None = None,
        updated_to: datetime.datetime | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[Order]:
        """Orders matching the filters, fetched page by page as you iterate."""
        flow = self._iter_orders(ids, created_from, created_to, updated_from, updated_to, page_size)
        return self._steps(flow)

    async def get_order(self, order_id: str) -> Order:
        """One order by id; ``NotFoundError`` when Query Order lists nothing."""
        return await self._run(self._get_order(order_id))

    async def wait_for_refund(
        self,
        order_id: str,
        refund_no: str,
        *,
        timeout: float = 24 * 3600,
        poll: float = 5.0,
        max_poll: float = 60.0,
        on_progress: Progress | None = None,
    ) -> Refund:
        """Poll Query Refund until the refund settles; return it (successful or failed).

        The interval grows from ``poll`` by half each time up to ``max_poll``;
        ``on_progress(refund, elapsed_seconds)`` hears every poll. After
        ``timeout`` seconds, ``RefundWaitTimeout`` names the last status.
        """
        flow = self._wait_for_refund(order_id, refund_no, timeout, poll, max_poll, on_progress)
        return await self._run(flow)
