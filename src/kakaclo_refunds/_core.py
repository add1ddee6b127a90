"""What the sync and async clients share: reading answers, building bodies, deciding.

No I/O here; the two clients only differ in how they wait and send.
"""

from __future__ import annotations

import datetime
import json
import math
import os
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from kakaclo_client import AuthenticatedClient, spec_facts
from kakaclo_client.models import (
    CountryCode,
    Error,
    Refund,
    RefundItem,
    RefundReason,
    RefundRequest,
    RefundStatus,
)
from kakaclo_client.types import Response

from kakaclo_refunds import _wire, bounds, urls
from kakaclo_refunds.errors import (
    SUCCESS_CODE,
    AnswerRefusedError,
    ErrorAnswer,
    KakacloError,
    NotFoundError,
    Reconciliation,
    RefundOutcomeUnknownError,
    RefundWaitTimeout,
    RequestInfo,
    RequestTimeoutError,
    TransportError,
    UnexpectedResponseError,
    make_error,
)
from kakaclo_refunds.retry import RetryableOutcome

PRODUCTION_URL = "https://developer.kakaclo.com/openapi"
BASE_URL_ENV = "KAKACLO_BASE_URL"
TOKEN_ENV = "KAKACLO_TOKEN"
SETTLED = frozenset({RefundStatus.REFUND_SUCCESSFULLY, RefundStatus.REFUND_FAILED})
MAX_PAGE_SIZE = spec_facts.PAGE_SIZE_MAXIMUM

T = TypeVar("T")


def base_url_from(value: str | None, *, check: bool = True) -> str:
    """The API base URL: the argument, else ``KAKACLO_BASE_URL``, else production.

    With ``check``, a URL that is not ``http(s)://host/...`` (or not a valid URL:
    a malformed IPv6 address, a port out of range) is refused at once
    (``ValueError``, the URL shown without its password) rather than retried as a
    network failure.
    """
    url = (value or os.environ.get(BASE_URL_ENV) or PRODUCTION_URL).rstrip("/")
    problem = urls.base_url_problem(url) if check else None
    if problem is not None:
        raise ValueError(
            f"base_url {urls.masked_url(url)!r} cannot be used: {problem} (e.g. {PRODUCTION_URL})"
        )
    return url


def token_from_environment() -> str | None:
    """``KAKACLO_TOKEN``, when it is set and not empty."""
    return os.environ.get(TOKEN_ENV) or None


def token_from(value: str | None) -> str:
    """The bearer token: the argument, else ``KAKACLO_TOKEN``; refuse to go without one."""
    token = value or token_from_environment()
    if not token:
        raise ValueError(f"no token: pass token=... or set {TOKEN_ENV}")
    return token


def server_root(base_url: str) -> str:
    """The server root of a base URL (``.../openapi`` removed): where ``/_sandbox`` lives."""
    return base_url.removesuffix(spec_facts.SERVER_ROOT)


@dataclass(frozen=True)
class Item:
    """Some pieces of one order line, named by itemId + skuCode + countryCode."""

    item_id: str
    sku_code: str
    quantity: int
    country_code: CountryCode | str

    def to_model(self) -> RefundItem:
        """The generated request model."""
        return RefundItem(
            item_id=self.item_id,
            sku_code=self.sku_code,
            quantity=self.quantity,
            country_code=CountryCode(self.country_code),
        )


def refund_body(
    items: Sequence[Item | RefundItem] | None,
    reason: RefundReason | str | None,
    remark: str | None,
) -> RefundRequest:
    """The Refund Order body; fields left out are left to the server's defaults."""
    body = RefundRequest()
    if remark is not None:
        body.remark = remark
    if reason is not None:
        body.refund_reason = RefundReason(reason)
    if items is not None:
        body.order_items = [i.to_model() if isinstance(i, Item) else i for i in items]
    return body


def request_info(
    method: str, base_url: str, path: str, order_id: str | None = None, key: str | None = None
) -> RequestInfo:
    """The request an error is about (never with the token)."""
    return RequestInfo(method, base_url + path, order_id, key)


def _retry_after(response: Response[Any]) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _whole_number(value: object) -> int | None:
    """An envelope's ``code`` as an int; None for one that is not a whole number (1e400, NaN)."""
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _envelope(response: Response[Any]) -> tuple[int | None, str]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None, response.content[:200].decode(
            "utf-8", "replace"
        ) or response.status_code.phrase
    if not isinstance(body, dict):
        return None, str(body)[:200]
    code = body.get("code")
    return (code if isinstance(code, int) else None), str(body.get("message", ""))


def checked(response: Response[Any], expected: type[T], request: RequestInfo) -> T:
    """The parsed success model, or the mapped error (a 200 not carrying 10000 included)."""
    parsed = response.parsed
    if response.status_code == 200 and isinstance(parsed, expected):
        code = getattr(parsed, "code", SUCCESS_CODE)
        if code == SUCCESS_CODE:
            return parsed
    if isinstance(parsed, Error):
        code, message = _whole_number(parsed.code), parsed.message
    else:
        code, message = _envelope(response)
    answer = ErrorAnswer(int(response.status_code), code, message, _retry_after(response))
    raise make_error(answer, request)


def transport_failure(error: httpx.HTTPError, request: RequestInfo) -> Exception:
    """An httpx failure as this package's error."""
    if isinstance(error, bounds.AnswerDeadlineExceeded):
        return RequestTimeoutError(f"no answer in time: {error}", request)
    if isinstance(error, (bounds.AnswerTooLarge, bounds.AnswerTooDeep, bounds.AnswerUndecodable)):
        return AnswerRefusedError(f"answer refused: {error}", request)
    if isinstance(error, httpx.TimeoutException):
        return RequestTimeoutError(f"no answer in time: {error.__class__.__name__}", request)
    return TransportError(f"no answer: {error.__class__.__name__}: {error}", request)


def generated_client(
    base_url: str,
    token: str,
    timeout: float,
    hook: Any,
    transport: Any,
    *,
    asynchronous: bool = False,
    deadline: float | None = None,
) -> AuthenticatedClient:
    """The generated client both clients wrap, with the raw-answer hook installed.

    Its httpx client is one of :mod:`kakaclo_refunds._wire`'s, built with what the
    generated client would give its own: the token, the timeout, no redirects.
    """
    api = AuthenticatedClient(base_url=base_url, token=token, timeout=httpx.Timeout(timeout))
    http_args: dict[str, Any] = {
        "base_url": base_url,
        "headers": {api.auth_header_name: f"{api.prefix} {token}"},
        "timeout": httpx.Timeout(timeout),
        "event_hooks": {"response": [hook]},
    }
    if transport is not None:
        http_args["transport"] = transport
    else:  # the answer deadline, size cap and depth limit (bounds.py)
        deadline = bounds.ANSWER_DEADLINE if deadline is None else deadline
        http_args["transport"] = (
            bounds.AsyncBoundedTransport(deadline=deadline)
            if asynchronous
            else bounds.BoundedTransport(deadline=deadline)
        )
    if asynchronous:
        api.set_async_httpx_client(_wire.AsyncJoinedURLClient(**http_args))
    else:
        api.set_httpx_client(_wire.JoinedURLClient(**http_args))
    return api


def adopt_http_client(http_client: httpx.Client | httpx.AsyncClient, token: str, hook: Any) -> None:
    """Make a caller's httpx client send the token and feed the raw-answer hook."""
    http_client.headers["Authorization"] = f"Bearer {token}"
    http_client.event_hooks["response"].append(hook)


def more_pages(collected: int, page_entries: int, total: int) -> bool:
    """Whether another page is worth asking for."""
    return page_entries > 0 and collected < total


def reconcile(
    order_id: str,
    before: set[str],
    after: Sequence[Refund],
    remark: str | None,
    error: KakacloError,
    request: RequestInfo,
) -> str:
    """After an unanswered Refund Order: its refund number, or why it is safe or unsafe to resend.

    One new refund that could be ours: it went through. None: it did not
    (``RetryableOutcome``: send again). More: ``RefundOutcomeUnknownError``.
    """
    candidates = new_refunds(before, after, remark)
    found = Reconciliation(order_id, tuple(sorted(before)), tuple(r.refund_no for r in candidates))
    if len(candidates) == 1:
        return candidates[0].refund_no
    if not candidates:
        raise RetryableOutcome(error, found)
    raise RefundOutcomeUnknownError(
        f"refund of order {order_id} may have gone through ({error.message}); "
        f"{len(candidates)} new refunds could be it",
        request,
        {"error": str(error), "new_refunds": list(found.new)},
        reconciliation=found,
    )


def lookup_failed(
    order_id: str,
    before: set[str],
    error: KakacloError,
    lookup: KakacloError,
    request: RequestInfo,
) -> RefundOutcomeUnknownError:
    """Reconciliation could not even list the refunds."""
    return RefundOutcomeUnknownError(
        f"refund of order {order_id} may have gone through ({error.message}); "
        f"Query Refund failed too ({lookup.message})",
        request,
        {"error": str(error), "lookup_error": str(lookup)},
        reconciliation=Reconciliation(order_id, tuple(sorted(before)), (), str(lookup)),
    )


def may_have_reached(error: KakacloError) -> bool:
    """Whether a request that got no good answer may have reached the server.

    Only a connection that was never made (refused, unresolved, timed out while
    connecting) proves it did not.
    """
    return not isinstance(error.__cause__, httpx.ConnectError | httpx.ConnectTimeout)


def outcome_unknown(
    order_id: str,
    error: KakacloError,
    request: RequestInfo,
    honours: bool,
    reconciliation: Reconciliation | None,
) -> RefundOutcomeUnknownError:
    """The retries are spent and some attempt may have made the refund."""
    return RefundOutcomeUnknownError(
        f"refund of order {order_id} may have gone through: the last attempt failed with {error}",
        request,
        {"error": str(error)},
        honours_idempotency_key=honours,
        reconciliation=reconciliation,
    )


def wait_step(
    refund: Refund | None,
    order_id: str,
    refund_no: str,
    elapsed: float,
    timeout: float,
    request: RequestInfo,
) -> float | None:
    """One poll's decision: None when settled, else the seconds left (or raise)."""
    if refund is None:
        raise NotFoundError(200, None, f"order {order_id} lists no refund {refund_no}", request)
    if refund.refund_status in SETTLED:
        return None
    remaining = timeout - elapsed
    if remaining <= 0:
        raise RefundWaitTimeout(
            f"refund {refund_no} of order {order_id} is still {refund.refund_status} "
            f"after {timeout:g}s",
            str(refund.refund_status),
            request,
        )
    return remaining


def new_refunds(before: set[str], after: Sequence[Refund], remark: str | None) -> list[Refund]:
    """Refunds that appeared since ``before`` and could be ours (same remark when given)."""
    return [
        refund
        for refund in after
        if refund.refund_no not in before
        and (remark is None or getattr(refund, "remark", None) in (remark, None))
    ]


def find_refund(refunds: Sequence[Refund], refund_no: str) -> Refund | None:
    """The refund with this number, if listed."""
    return next((refund for refund in refunds if refund.refund_no == refund_no), None)


def next_poll(current: float, max_poll: float, remaining: float) -> float:
    """The next poll interval: grow by half, up to ``max_poll``, never past the deadline."""
    return max(0.0, min(current * 1.5, max_poll, remaining))


def sandbox_honours_keys(info: httpx.Response) -> bool:
    """Whether ``GET /_sandbox/info`` says the server honours ``Idempotency-Key``."""
    if info.status_code != 200:
        return False
    try:
        data = info.json().get("data") or {}
    except ValueError:
        return False
    return bool(data.get("honoursIdempotencyKey"))


def _utc(moment: datetime.datetime | None) -> datetime.datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # naive means UTC, as the vendor's times are
        return moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def order_filters(
    ids: Sequence[str] | None,
    created_from: datetime.datetime | None,
    created_to: datetime.datetime | None,
    updated_from: datetime.datetime | None,
    updated_to: datetime.datetime | None,
) -> dict[str, Any]:
    """Query Order's filters as keyword arguments of the generated call (unset ones left out)."""
    given = {
        "ids": ",".join(ids) if ids else None,
        "create_start_time": _utc(created_from),
        "create_end_time": _utc(created_to),
        "update_start_time": _utc(updated_from),
        "update_end_time": _utc(updated_to),
    }
    return {name: value for name, value in given.items() if value is not None}


# The generated parsers raise on bodies they cannot read (a 200 whose `data` is
# null, say); an httpx response hook keeps the raw answer of this thread or
# task so the layer can still report what the server said.
LAST_RESPONSE: ContextVar[httpx.Response | None] = ContextVar("last_response", default=None)


def remember_response(response: httpx.Response) -> None:
    """httpx response hook (sync)."""
    LAST_RESPONSE.set(response)


async def remember_response_async(response: httpx.Response) -> None:
    """httpx response hook (async)."""
    LAST_RESPONSE.set(response)


def unparseable(error: Exception, request: RequestInfo) -> Exception:
    """An answer the generated models could not read, as this package's error."""
    raw = LAST_RESPONSE.get()
    if raw is None:
        return AnswerRefusedError(f"unreadable answer: {error}", request)
    raw.read()
    status = raw.status_code
    try:
        body = raw.json()
    except ValueError:
        body = None
    code = body.get("code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    if status == 200 and isinstance(code, int) and code != SUCCESS_CODE:
        return UnexpectedResponseError(200, code, str(message), request)
    answer = ErrorAnswer(
        status,
        code if isinstance(code, int) else None,
        f"answer does not match the spec ({error.__class__.__name__}: {error})",
    )
    if status != 200:
        return make_error(answer, request)
    return AnswerRefusedError(answer.message, request)
