"""The errors of the client layer, one tree, mapped from HTTP status and envelope code.

    KakacloError
     ├── ApiError                         the server answered, and not with success
     │    ├── AuthError                   401
     │    ├── NotFoundError               404
     │    ├── ValidationError             400, 413 (the request breaks the spec)
     │    ├── ConflictError               409
     │    │    ├── RefundNotAllowedError  40901 40902 40903 40905 (order state, lines)
     │    │    ├── QuantityExceededError  40904
     │    │    └── IdempotencyConflictError 40911 40912
     │    ├── RateLimitedError            429 (carries retry_after)
     │    ├── ServerError                 5xx
     │    └── UnexpectedResponseError     a 200 whose code is not 10000, or an undocumented status
     ├── AnswerRefusedError               an answer refused unread: beyond a bound (size,
     │                                    depth, encoding), or holding what the spec forbids
     ├── TransportError                   no answer (connection failed), after the retries
     ├── KakacloTimeoutError
     │    ├── RequestTimeoutError         no answer in time, after the retries
     │    └── RefundWaitTimeout           the refund did not settle before the deadline
     └── RefundOutcomeUnknownError        a Refund Order may or may not have gone through

Every error carries the request it is about (method, URL, order id,
idempotency key) and never the token. A Refund Order that failed after it may
have reached the server ends as ``RefundOutcomeUnknownError``, never as the
transport or server error of its last attempt (that one is its ``__cause__``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kakaclo_client.models import ErrorCode

SUCCESS_CODE = int(ErrorCode.SUCCESS)


@dataclass(frozen=True)
class RequestInfo:
    """What was asked, without secrets."""

    method: str
    url: str
    order_id: str | None = None
    idempotency_key: str | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


class KakacloError(Exception):
    """The root of every error of this package."""

    hint: str = ""

    def __init__(self, message: str, request: RequestInfo | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class ApiError(KakacloError):
    """The server answered with an error envelope (or an unexpected one).

    ``retry_after`` holds the answer's ``Retry-After`` seconds, when it sent one
    (a 429, or a 503 that says when to come back).
    """

    def __init__(
        self,
        status: int,
        code: int | None,
        message: str,
        request: RequestInfo | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, request)
        self.status = status
        self.code = code
        self.retry_after = retry_after
        if code in _HINTS_BY_CODE:  # a code says more than its class
            self.hint = _HINTS_BY_CODE[code]

    @property
    def code_name(self) -> str:
        """The spec's name of the code (``QUANTITY_EXCEEDS_REFUNDABLE``), or the number."""
        if self.code is None:
            return "no code"
        try:
            return ErrorCode(self.code).name
        except ValueError:
            return str(self.code)

    def __str__(self) -> str:
        return f"{self.status} {self.code_name}: {self.message}"


class AuthError(ApiError):
    """401: the token is missing or unknown."""

    hint = "check KAKACLO_TOKEN (or --token)"


class NotFoundError(ApiError):
    """404: no such order for this merchant (or, without ``ORDER_NOT_FOUND``, no such path)."""

    hint = "check the order id; orders of another merchant do not exist for you"

    def __init__(
        self,
        status: int,
        code: int | None,
        message: str,
        request: RequestInfo | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, code, message, request, retry_after)
        if status == 404 and code != ErrorCode.ORDER_NOT_FOUND:
            self.hint = BASE_URL_HINT  # a 404 that is not the API's own: a wrong base URL


class ValidationError(ApiError):
    """400 or 413: the request breaks the spec."""

    hint = "the message names the field that breaks openapi.yaml"


class ConflictError(ApiError):
    """409: a business or idempotency rule refused a schema-valid request."""


class RefundNotAllowedError(ConflictError):
    """409: the order's state or the named lines do not allow this refund."""

    hint = "only paid orders that are not shipped at all can be refunded"


class QuantityExceededError(ConflictError):
    """409 40904: more pieces than are still refundable (pending refunds count)."""

    hint = (
        "the pieces are already refunded, or held by a refund still pending "
        "(kakaclo refund status ORDER_ID lists the order's refunds)"
    )


class IdempotencyConflictError(ConflictError):
    """409 40911/40912: the key was used for another request, or is still in flight."""

    hint = "use a new Idempotency-Key for a different refund"


class RateLimitedError(ApiError):
    """429: too many requests; ``retry_after`` seconds until the next is allowed."""

    hint = "slow down: the vendor's limit is a leaky bucket per app and store (spec: x-rate-limit)"


class ServerError(ApiError):
    """5xx: the server failed (``retry_after`` when a 503 says when to come back)."""

    hint = "retry later; a Refund Order may still have gone through"


class UnexpectedResponseError(ApiError):
    """A 200 whose envelope code is not 10000, or a status the spec does not document."""

    hint = "the vendor documents only code 10000; report this answer"


class AnswerRefusedError(KakacloError):
    """An answer this client refuses to read, and is no API error answer.

    It broke a bound (:mod:`kakaclo_refunds.bounds`: larger than 8 MiB, JSON
    nested deeper than 64 levels, a ``Content-Encoding`` it cannot decode), or
    it holds a value the spec does not allow (a date, a status, an amount, an
    id). Not retried: the server would send it again. To a Refund Order it
    leaves the outcome open, as a lost answer does (``RefundOutcomeUnknownError``).
    """

    hint = (
        "no answer of the Kakaclo API looks like this: check that the base URL is the API's, "
        "or report the answer to the server's owner"
    )


class TransportError(KakacloError):
    """The server could not be reached (after the retries)."""

    hint = "check KAKACLO_BASE_URL (or --base-url) and the network"


class KakacloTimeoutError(KakacloError):
    """Something did not happen in time."""


class RequestTimeoutError(KakacloTimeoutError):
    """The server did not answer in time (after the retries)."""

    hint = "raise the timeout, or retry later"


class RefundWaitTimeout(KakacloTimeoutError):
    """The refund did not settle before the deadline; ``last_status`` is what was seen."""

    hint = "refunds settle within 1 hour usually, 24 hours at most"

    def __init__(self, message: str, last_status: str | None, request: RequestInfo | None = None):
        super().__init__(message, request)
        self.last_status = last_status


@dataclass(frozen=True)
class Reconciliation:
    """What Query Refund showed after a Refund Order went unanswered (a server that ignores keys).

    ``before``: the order's refund numbers listed before the first attempt;
    ``new``: the refunds listed since that could be this one (same remark);
    ``lookup_error``: why Query Refund failed, when it did (then nothing is known).
    """

    order_id: str
    before: tuple[str, ...]
    new: tuple[str, ...] = ()
    lookup_error: str | None = None

    def __str__(self) -> str:
        if self.lookup_error is not None:
            return f"Query Refund of order {self.order_id} failed too ({self.lookup_error})"
        listed = f"{len(self.before)} listed before the first attempt"
        if not self.new:
            return f"Query Refund lists no new refund of order {self.order_id} ({listed})"
        return (
            f"Query Refund lists {len(self.new)} new refunds of order {self.order_id} that "
            f"could be this one: {', '.join(self.new)} ({listed})"
        )


class RefundOutcomeUnknownError(KakacloError):
    """A Refund Order may have reached the server, and no answer says whether it went through.

    ``request.idempotency_key`` is the key every attempt sent. Against a server
    that replays keys (``honours_idempotency_key``), sending the same request
    with that key again is safe: it answers the refund already made, if any.
    Otherwise ``reconciliation`` says what Query Refund showed.
    """

    hint = "list the order's refunds before trying again, or the refund may happen twice"

    def __init__(
        self,
        message: str,
        request: RequestInfo | None = None,
        seen: dict[str, Any] | None = None,
        *,
        honours_idempotency_key: bool = False,
        reconciliation: Reconciliation | None = None,
    ) -> None:
        super().__init__(message, request)
        self.seen = seen or {}
        self.honours_idempotency_key = honours_idempotency_key
        self.reconciliation = reconciliation
        if honours_idempotency_key:
            self.hint = (
                "send the same request again with the same Idempotency-Key: the server "
                "answers the refund it made, if it made one, and never makes a second"
            )


BASE_URL_HINT = (
    "the base URL must be the API's root, ending in /openapi "
    "(e.g. https://test-developer.kakaclo.com/openapi)"
)
_HINTS_BY_CODE: dict[int | None, str] = {
    int(ErrorCode.UNKNOWN_PATH): BASE_URL_HINT,
    int(ErrorCode.METHOD_NOT_ALLOWED): BASE_URL_HINT,
    int(ErrorCode.ORDER_NOT_REFUNDABLE): RefundNotAllowedError.hint,
    int(ErrorCode.ITEM_NOT_IN_ORDER): (
        "each item must match a line of the order by itemId, skuCode and countryCode "
        "(kakaclo orders show ORDER_ID lists them)"
    ),
    int(ErrorCode.DUPLICATE_ITEM): "name each order line once, with all its pieces",
    int(ErrorCode.NOTHING_TO_REFUND): (
        "every piece is refunded or in a pending refund (kakaclo refund status ORDER_ID)"
    ),
    int(ErrorCode.IDEMPOTENCY_REQUEST_IN_FLIGHT): (
        "the first request with this Idempotency-Key is still being processed; retry shortly"
    ),
    int(ErrorCode.UPSTREAM_UNAVAILABLE): (
        "a gateway could not reach the API; retry later (a Refund Order may have gone through)"
    ),
}
_BY_CODE: dict[int, type[ApiError]] = {
    int(ErrorCode.ORDER_NOT_REFUNDABLE): RefundNotAllowedError,
    int(ErrorCode.ITEM_NOT_IN_ORDER): RefundNotAllowedError,
    int(ErrorCode.DUPLICATE_ITEM): RefundNotAllowedError,
    int(ErrorCode.NOTHING_TO_REFUND): RefundNotAllowedError,
    int(ErrorCode.QUANTITY_EXCEEDS_REFUNDABLE): QuantityExceededError,
    int(ErrorCode.IDEMPOTENCY_KEY_REUSED): IdempotencyConflictError,
    int(ErrorCode.IDEMPOTENCY_REQUEST_IN_FLIGHT): IdempotencyConflictError,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthError,
    404: NotFoundError,
    409: ConflictError,
    413: ValidationError,
    429: RateLimitedError,
}


@dataclass(frozen=True)
class ErrorAnswer:
    """An error answer, as read from the wire."""

    status: int
    code: int | None
    message: str
    retry_after: float | None = field(default=None)


def make_error(answer: ErrorAnswer, request: RequestInfo | None) -> ApiError:
    """The one mapping from an answer to its exception class."""
    if answer.status == 200:
        cls: type[ApiError] = UnexpectedResponseError
    elif answer.status >= 500:
        cls = ServerError
    elif answer.status == 409 and answer.code in _BY_CODE:
        cls = _BY_CODE[answer.code]
    else:
        cls = _BY_STATUS.get(answer.status, UnexpectedResponseError)
    return cls(answer.status, answer.code, answer.message, request, answer.retry_after)
