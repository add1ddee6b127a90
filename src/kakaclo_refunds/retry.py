"""Retry decisions as small pure functions, shared by the sync and async clients.

The loop is tenacity's ``Retrying``, iterated inside the clients' shared flows
(:mod:`kakaclo_refunds._base`): the well-kept library decides attempts and
waits, computed from the failed attempt (which is how ``Retry-After`` is
honoured), and its sleep only notes the wait, which each client then sleeps
its own way (tests move a sandbox clock instead of sleeping).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import tenacity
from kakaclo_client.models import ErrorCode

from kakaclo_refunds.errors import (
    AnswerRefusedError,
    ApiError,
    IdempotencyConflictError,
    KakacloError,
    RateLimitedError,
    Reconciliation,
    RequestTimeoutError,
    ServerError,
    TransportError,
)

DEFAULT_ATTEMPTS = 4
DEFAULT_BACKOFF = 0.5
DEFAULT_BACKOFF_CAP = 8.0
DEFAULT_RETRY_AFTER_CAP = 60.0


class RetryableOutcome(Exception):
    """Raised inside a refund attempt known not to have gone through: safe to send again."""

    def __init__(self, cause: KakacloError, reconciliation: Reconciliation | None = None) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.reconciliation = reconciliation


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry.

    ``attempts`` in all (the first included). Between them the client waits what
    the server's ``Retry-After`` says (a 429, a 503), else an exponential backoff
    from ``backoff`` seconds up to ``backoff_cap``, jittered. A ``Retry-After``
    longer than ``retry_after_cap`` (default 60 s) is not waited out, nor cut
    short: the call stops with the server's error, whose message names the wait.
    """

    attempts: int = DEFAULT_ATTEMPTS
    backoff: float = DEFAULT_BACKOFF
    backoff_cap: float = DEFAULT_BACKOFF_CAP
    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delay(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        asked = server_wait(error)
        if asked is not None:
            return min(asked, self.retry_after_cap)
        ceiling = min(self.backoff_cap, self.backoff * 2 ** (attempt - 1))
        return float(ceiling * (0.5 + self.jitter() / 2))  # jittered in [ceiling/2, ceiling]

    def beyond_cap(self, error: BaseException | None) -> bool:
        """The server asks for a longer wait than ``retry_after_cap``: no retry then."""
        asked = server_wait(error)
        return asked is not None and asked > self.retry_after_cap

    def retries(self, error: BaseException) -> bool:
        """Whether a call that failed with ``error`` is tried again (attempts left aside)."""
        return is_transient(error) and not self.beyond_cap(error)

    def stopped(self, error: BaseException) -> BaseException:
        """``error`` as the call raises it: beyond the cap, its message names the server's wait."""
        asked = server_wait(error)
        if not isinstance(error, ApiError) or asked is None or asked <= self.retry_after_cap:
            return error
        stopped = type(error)(
            error.status,
            error.code,
            f"{error.message} (the server asks to wait {asked:g} s, longer than the "
            f"retry-after cap of {self.retry_after_cap:g} s: not retried)",
            error.request,
            error.retry_after,
        )
        stopped.hint = (
            f"try again in {asked:g} s, or allow longer waits "
            "(RetryPolicy(retry_after_cap=...), kakaclo --max-retry-after)"
        )
        return stopped


@dataclass(frozen=True)
class RetryNotice:
    """A retry about to be made: the attempt that failed, why, and the wait before the next.

    ``reconciliation`` is set when a Refund Order went unanswered and Query
    Refund showed it was not made (so it is sent again).
    """

    attempt: int
    attempts: int
    error: KakacloError
    wait: float
    reconciliation: Reconciliation | None = None

    @property
    def server_asked(self) -> bool:
        """The wait is the server's ``Retry-After``, not the client's backoff."""
        return server_wait(self.error) is not None


def server_wait(error: BaseException | None) -> float | None:
    """The seconds a 429 or a 5xx asked to wait (``Retry-After``), if it did."""
    if isinstance(error, RateLimitedError | ServerError) and error.retry_after is not None:
        return float(error.retry_after)
    return None


def is_transient(error: BaseException) -> bool:
    """Worth retrying for a request that is safe to repeat."""
    if isinstance(error, IdempotencyConflictError):
        return error.code == int(ErrorCode.IDEMPOTENCY_REQUEST_IN_FLIGHT)
    return isinstance(
        error,
        RateLimitedError | ServerError | TransportError | RequestTimeoutError | RetryableOutcome,
    )


def is_ambiguous(error: BaseException) -> bool:
    """The request may have been processed: no answer, a server failure, or an answer
    refused unread (too large, too deep, outside the spec: it may say the refund was made)."""
    return isinstance(
        error, ServerError | TransportError | RequestTimeoutError | AnswerRefusedError
    )


def _tenacity_kwargs(policy: RetryPolicy, done: int) -> dict[str, object]:
    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return policy.delay(done + state.attempt_number, error)

    return {
        "stop": tenacity.stop_after_attempt(policy.attempts - done),
        "wait": wait,
        "retry": tenacity.retry_if_exception(policy.retries),
        "reraise": True,
    }


def retrying(
    policy: RetryPolicy, sleep: Callable[[float], None], done: int = 0
) -> tenacity.Retrying:
    """The retry loop: ``for attempt in retrying(...): with attempt: ...``.

    ``done`` attempts were already made (and waited after) outside it: the loop
    makes the rest, numbering them on from there for the backoff.
    """
    if not 0 <= done < policy.attempts:
        raise ValueError(f"done must be in 0..{policy.attempts - 1}, not {done}")
    return tenacity.Retrying(sleep=sleep, **_tenacity_kwargs(policy, done))  # type: ignore[arg-type]
