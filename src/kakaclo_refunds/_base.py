"""One implementation of every call of both clients, free of I/O (sans-IO).

Each call is a *flow*: a generator that yields what it needs done (send one
request of the generated client, fetch a URL, sleep, hand an order to the
caller) and is sent back the result, or has the failure thrown in. Every
decision (retries and their waits, typed errors, reconciliation of a refund
that may have gone through, paging, the wait for settlement) lives here, once.
``KakacloClient`` runs the flows with blocking I/O and its ``sleep``;
``AsyncKakacloClient`` awaits the same flows; that is all they differ in.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

import httpx
from kakaclo_client import spec_facts
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
from kakaclo_client.types import Response

from kakaclo_refunds import _core, retry
from kakaclo_refunds.errors import (
    AnswerRefusedError,
    KakacloError,
    NotFoundError,
    RequestInfo,
)
from kakaclo_refunds.orders import Order, clean_order
from kakaclo_refunds.retry import RetryableOutcome, RetryNotice, RetryPolicy, is_ambiguous

T = TypeVar("T")
Progress = Callable[[Refund, float], None]
OnRetry = Callable[[RetryNotice], None]

REFUND_PATH = spec_facts.REFUND_ORDER.path
QUERY_REFUND_PATH = spec_facts.QUERY_REFUND.path
QUERY_ORDER_PATH = spec_facts.QUERY_ORDERS.path
SANDBOX_INFO = "/_sandbox/info"


@dataclass(frozen=True)
class Send:
    """Send one request through a generated endpoint module; the result is its Response."""

    endpoint: ModuleType
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fetch:
    """GET a URL with the client's httpx client; the result is the httpx.Response."""

    url: str


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds (the client's injectable sleep)."""

    seconds: float


@dataclass(frozen=True)
class Emit:
    """Hand one item to the caller of an iterating call."""

    item: Any


Effect = Send | Fetch | Sleep | Emit
Flow = Generator[Effect, Any, T]


def captured(flow: Flow[T], result: list[T]) -> Flow[None]:
    """``flow``, its return value appended to ``result`` (for drivers that cannot return)."""
    result.append((yield from flow))


def advance(flow: Flow[T], value: Any, error: Exception | None) -> tuple[bool, Any]:
    """Resume ``flow`` with a result or a failure: (True, its return value) or (False, effect)."""
    try:
        effect = flow.throw(error) if error is not None else flow.send(value)
    except StopIteration as stop:
        return True, stop.value
    return False, effect


class BaseClient:
    """The state and the flows both clients share."""

    def __init__(
        self,
        base_url: str | None,
        retry_policy: RetryPolicy | None,
        clock: Callable[[], float],
        honours_idempotency_key: bool | None,
        on_retry: OnRetry | None = None,
    ) -> None:
        self.base_url = _core.base_url_from(base_url)
        self.retry = retry_policy or RetryPolicy()
        self._clock = clock
        self._honours_keys = honours_idempotency_key
        self._on_retry = on_retry

    # -- requests ---------------------------------------------------------------

    def _once(
        self, endpoint: ModuleType, expected: type[T], request: RequestInfo, **arguments: Any
    ) -> Flow[T]:
        try:
            response: Response[Any] = yield Send(endpoint, arguments)
        except httpx.HTTPError as error:
            raise _core.transport_failure(error, request) from error
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise _core.unparseable(error, request) from error
        return _core.checked(response, expected, request)

    def _pause(self, attempt: int, error: Exception, seconds: float) -> Flow[None]:
        """Tell ``on_retry`` what failed and how long the wait is, then wait."""
        if self._on_retry is not None:
            cause, found = error, None
            if isinstance(error, RetryableOutcome):
                cause, found = error.cause, error.reconciliation
            if isinstance(cause, KakacloError):
                self._on_retry(RetryNotice(attempt, self.retry.attempts, cause, seconds, found))
        yield Sleep(seconds)

    def _retried(self, attempt: Callable[[], Flow[T]]) -> Flow[T]:
        # The first attempt runs bare: most calls succeed at once, and entering
        # tenacity's loop costs about 30 us, more than the rest of this layer.
        try:
            return (yield from attempt())
        except Exception as error:
            if self.retry.attempts == 1 or not self.retry.retries(error):
                stopped = self.retry.stopped(error)
                if stopped is error:
                    raise
                raise stopped from error
            yield from self._pause(1, error, self.retry.delay(1, error))
        # tenacity decides the rest (attempts, waits, Retry-After); its sleep only
        # notes the wait, which this flow yields so that each client sleeps its own way.
        waits: list[float] = []
        failed: list[Exception] = []
        try:
            for state in retry.retrying(self.retry, waits.append, done=1):
                if waits:
                    yield from self._pause(len(failed) + 1, failed[-1], waits.pop())
                with state:
                    try:
                        result = yield from attempt()
                    except Exception as error:
                        failed.append(error)
                        raise
        except Exception as error:
            stopped = self.retry.stopped(error)
            if stopped is error:
                raise
            raise stopped from error
        return result

    def _page(
        self,
        endpoint: ModuleType,
        expected: type[T],
        request: RequestInfo,
        number: int,
        **arguments: Any,
    ) -> Flow[T]:
        """One page of a paged operation, retried."""
        return self._retried(
            lambda: self._once(endpoint, expected, request, page_number=number, **arguments)
        )

    def _honours(self) -> Flow[bool]:
        if self._honours_keys is None:
            try:
                info = yield Fetch(_core.server_root(self.base_url) + SANDBOX_INFO)
                self._honours_keys = _core.sandbox_honours_keys(info)
            except httpx.HTTPError:
                self._honours_keys = False
        return self._honours_keys

    # -- the calls ----------------------------------------------------------------

    def _refund_order(
        self,
        order_id: str,
        items: Sequence[_core.Item | RefundItem] | None,
        reason: RefundReason | str | None,
        remark: str | None,
        idempotency_key: str | None,
    ) -> Flow[str]:
        key = idempotency_key or uuid.uuid4().hex
        body = _core.refund_body(items, reason, remark)
        request = _core.request_info(
            "POST", self.base_url, REFUND_PATH.format(id=order_id), order_id, key
        )
        honours = yield from self._honours()
        before: set[str] | None = None
        if not honours:
            before = {refund.refund_no for refund in (yield from self._list_refunds(order_id))}
        reached: list[bool] = []  # one per unanswered attempt: may it have reached the server?

        def attempt() -> Flow[str]:
            try:
                answer = yield from self._once(
                    refund_order,
                    RefundOrderResponse,
                    request,
                    id=order_id,
                    body=body,
                    idempotency_key=key,
                )
                return str(answer.data)
            except KakacloError as error:
                if not is_ambiguous(error):
                    raise
                reached.append(_core.may_have_reached(error))
                if before is None:
                    raise
                return (yield from self._reconcile(order_id, before, remark, error, request))

        try:
            return (yield from self._retried(attempt))
        except RetryableOutcome as exhausted:
            if not any(reached):
                raise exhausted.cause from None
            unknown = _core.outcome_unknown(
                order_id, exhausted.cause, request, honours, exhausted.reconciliation
            )
            raise unknown from exhausted.cause
        except KakacloError as error:
            if not (any(reached) and is_ambiguous(error)):
                raise
            raise _core.outcome_unknown(order_id, error, request, honours, None) from error

    def _reconcile(
        self,
        order_id: str,
        before: set[str],
        remark: str | None,
        error: KakacloError,
        request: RequestInfo,
    ) -> Flow[str]:
        try:
            after = yield from self._list_refunds(order_id)
        except KakacloError as lookup:
            raise _core.lookup_failed(order_id, before, error, lookup, request) from error
        return _core.reconcile(order_id, before, after, remark, error, request)

    def _list_refunds(self, order_id: str) -> Flow[list[Refund]]:
        request = _core.request_info(
            "GET", self.base_url, QUERY_REFUND_PATH.format(id=order_id), order_id
        )
        refunds: list[Refund] = []
        page_number = 1
        while True:
            answer = yield from self._page(
                query_refund,
                QueryRefundResponse,
                request,
                page_number,
                id=order_id,
                page_size=_core.MAX_PAGE_SIZE,
            )
            page = answer.data
            refunds.extend(page.list_)
            if not _core.more_pages(len(refunds), len(page.list_), page.total):
                return refunds
            page_number += 1

    def _iter_orders(
        self,
        ids: Sequence[str] | None,
        created_from: datetime.datetime | None,
        created_to: datetime.datetime | None,
        updated_from: datetime.datetime | None,
        updated_to: datetime.datetime | None,
        page_size: int,
    ) -> Flow[None]:
        request = _core.request_info("GET", self.base_url, QUERY_ORDER_PATH)
        filters = _core.order_filters(ids, created_from, created_to, updated_from, updated_to)
        seen = 0
        page_number = 1
        while True:
            answer = yield from self._page(
                query_orders,
                QueryOrderResponse,
                request,
                page_number,
                page_size=page_size,
                **filters,
            )
            page = answer.data
            for order in page.list_:
                try:
                    cleaned = clean_order(order)
                except ValueError as error:
                    raise AnswerRefusedError(
                        f"order {order.id!r} breaks the spec: {error}", request
                    ) from None
                yield Emit(cleaned)
            seen += len(page.list_)
            if not _core.more_pages(seen, len(page.list_), page.total):
                return
            page_number += 1

    def _get_order(self, order_id: str) -> Flow[Order]:
        listing = self._iter_orders([order_id], None, None, None, None, 1)
        value: Any = None
        error: Exception | None = None
        while True:  # the listing's effects pass through; its first order ends it
            done, effect = advance(listing, value, error)
            if done:
                break
            if isinstance(effect, Emit):
                listing.close()
                order: Order = effect.item
                return order
            try:
                value, error = (yield effect), None
            except Exception as caught:
                value, error = None, caught
        raise NotFoundError(
            200,
            None,
            f"order {order_id} not found (Query Order listed nothing)",
            _core.request_info("GET", self.base_url, QUERY_ORDER_PATH, order_id),
        )

    def _wait_for_refund(
        self,
        order_id: str,
        refund_no: str,
        timeout: float,
        poll: float,
        max_poll: float,
        on_progress: Progress | None,
    ) -> Flow[Refund]:
        request = _core.request_info(
            "GET", self.base_url, QUERY_REFUND_PATH.format(id=order_id), order_id
        )
        started = self._clock()
        interval = poll
        while True:
            refund = _core.find_refund((yield from self._list_refunds(order_id)), refund_no)
            elapsed = self._clock() - started
            if refund is not None and on_progress is not None:
                on_progress(refund, elapsed)
            remaining = _core.wait_step(refund, order_id, refund_no, elapsed, timeout, request)
            if remaining is None:
                assert refund is not None
                return refund
            yield Sleep(min(interval, remaining))
            interval = _core.next_poll(interval, max_poll, remaining)
