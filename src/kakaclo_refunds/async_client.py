"""``AsyncKakacloClient``: the async twin of ``KakacloClient`` (same decisions, awaited I/O)."""

from __future__ import annotations

import asyncio
import datetime
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from kakaclo_client.api.orders import query_orders
from kakaclo_client.api.refunds import query_refund, refund_order
from kakaclo_client.models import (
    QueryOrderResponse,
    QueryRefundResponse,
    Refund,
    RefundItem,
    RefundOrderResponse,
    RefundReason,
)
from kakaclo_client.types import UNSET, Response

from kakaclo_refunds import _core
from kakaclo_refunds.client import QUERY_ORDER_PATH, QUERY_REFUND_PATH, REFUND_PATH, Progress
from kakaclo_refunds.errors import (
    KakacloError,
    NotFoundError,
    RequestInfo,
)
from kakaclo_refunds.orders import Order, clean_order
from kakaclo_refunds.retry import RetryableOutcome, RetryPolicy, async_retrying, is_ambiguous

T = TypeVar("T")


class AsyncKakacloClient:
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
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        honours_idempotency_key: bool | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Build a client.

        ``base_url`` defaults to ``KAKACLO_BASE_URL``, then production; ``token``
        to ``KAKACLO_TOKEN``. ``transport`` or ``http_client`` replace httpx's
        defaults (tests, proxies). ``honours_idempotency_key`` says whether the
        server replays ``Idempotency-Key``; unknown (None) asks ``/_sandbox/info``
        once. ``sleep`` and ``clock`` are injectable for tests.
        """
        self.base_url = _core.base_url_from(base_url)
        token = _core.token_from(token)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._honours_keys = honours_idempotency_key
        self._api = _core.generated_client(
            self.base_url, token, timeout, _core.remember_response_async, transport
        )
        if http_client is not None:
            _core.adopt_http_client(http_client, token, _core.remember_response_async)
            self._api.set_async_httpx_client(http_client)

    # -- plumbing -------------------------------------------------------------

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

    async def _once(
        self, send: Callable[[], Awaitable[Response[Any]]], expected: type[T], request: RequestInfo
    ) -> T:
        try:
            response = await send()
        except httpx.HTTPError as error:
            raise _core.transport_failure(error, request) from error
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise _core.unparseable(error, request) from error
        return _core.checked(response, expected, request)

    async def _retried(
        self, send: Callable[[], Awaitable[Response[Any]]], expected: type[T], request: RequestInfo
    ) -> T:
        result: T = await async_retrying(self.retry, self._sleep)(
            self._once, send, expected, request
        )
        return result

    async def honours_idempotency_key(self) -> bool:
        """Whether the server is known to replay ``Idempotency-Key`` (a sandbox says so)."""
        if self._honours_keys is None:
            try:
                info = await self._api.get_async_httpx_client().get(
                    _core.server_root(self.base_url) + "/_sandbox/info"
                )
                self._honours_keys = _core.sandbox_honours_keys(info)
            except httpx.HTTPError:
                self._honours_keys = False
        return self._honours_keys

    # -- the calls ------------------------------------------------------------

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
        key = idempotency_key or uuid.uuid4().hex
        body = _core.refund_body(items, reason, remark)
        request = _core.request_info(
            "POST", self.base_url, REFUND_PATH.format(id=order_id), order_id, key
        )
        honours = await self.honours_idempotency_key()
        before = None if honours else {r.refund_no for r in await self.list_refunds(order_id)}

        async def attempt() -> str:
            try:
                answer = await self._once(
                    lambda: refund_order.asyncio_detailed(
                        order_id, client=self._api, body=body, idempotency_key=key
                    ),
                    RefundOrderResponse,
                    request,
                )
                return str(answer.data)
            except KakacloError as error:
                if before is None or not is_ambiguous(error):
                    raise
                return await self._reconcile(order_id, before, remark, error, request)

        try:
            result: str = await async_retrying(self.retry, self._sleep)(attempt)
        except RetryableOutcome as exhausted:
            raise exhausted.cause from None
        return result

    async def _reconcile(
        self,
        order_id: str,
        before: set[str],
        remark: str | None,
        error: KakacloError,
        request: RequestInfo,
    ) -> str:
        try:
            after = await self.list_refunds(order_id)
        except KakacloError as lookup:
            raise _core.lookup_failed(order_id, error, lookup, request) from error
        return _core.reconcile(order_id, before, after, remark, error, request)

    async def list_refunds(self, order_id: str) -> list[Refund]:
        """Every refund of the order, newest first (all pages)."""
        request = _core.request_info(
            "GET", self.base_url, QUERY_REFUND_PATH.format(id=order_id), order_id
        )
        refunds: list[Refund] = []
        page_number = 1
        while True:
            page = (
                await self._retried(
                    partial(
                        query_refund.asyncio_detailed,
                        order_id,
                        client=self._api,
                        page_number=page_number,
                        page_size=_core.MAX_PAGE_SIZE,
                    ),
                    QueryRefundResponse,
                    request,
                )
            ).data
            refunds.extend(page.list_)
            if not _core.more_pages(len(refunds), len(page.list_), page.total):
                return refunds
            page_number += 1

    async def iter_orders(
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
        request = _core.request_info("GET", self.base_url, QUERY_ORDER_PATH)
        filters = _core.order_filters(ids, created_from, created_to, updated_from, updated_to)
        seen = 0
        page_number = 1
        while True:
            page = (
                await self._retried(
                    partial(
                        query_orders.asyncio_detailed,
                        client=self._api,
                        page_number=page_number,
                        page_size=page_size,
                        **filters,
                    ),
                    QueryOrderResponse,
                    request,
                )
            ).data
            for order in page.list_:
                yield clean_order(order)
            seen += len(page.list_)
            if not _core.more_pages(seen, len(page.list_), page.total):
                return
            page_number += 1

    async def get_order(self, order_id: str) -> Order:
        """One order by id; ``NotFoundError`` when Query Order lists nothing."""
        async for order in self.iter_orders(ids=[order_id], page_size=1):
            return order
        raise NotFoundError(
            200,
            None,
            f"order {order_id} not found (Query Order listed nothing)",
            _core.request_info("GET", self.base_url, QUERY_ORDER_PATH, order_id),
        )

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
        request = _core.request_info(
            "GET", self.base_url, QUERY_REFUND_PATH.format(id=order_id), order_id
        )
        started = self._clock()
        interval = poll
        while True:
            refund = _core.find_refund(await self.list_refunds(order_id), refund_no)
            elapsed = self._clock() - started
            if refund is not None and on_progress is not None:
                on_progress(refund, elapsed)
            remaining = _core.wait_step(refund, order_id, refund_no, elapsed, timeout, request)
            if remaining is None:
                assert refund is not None
                return refund
            await self._sleep(min(interval, remaining))
            interval = _core.next_poll(interval, max_poll, remaining)


__all__ = ["UNSET", "AsyncKakacloClient"]
