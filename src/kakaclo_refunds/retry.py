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
    IdempotencyConflictError,
    KakacloError,
    RateLimitedError,
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

    def __init__(self, cause: KakacloError) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry."""

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
        if isinstance(error, RateLimitedError | ServerError) and error.retry_after is not None:
            return min(float(error.retry_after), self.retry_after_cap)
        ceiling = min(self.backoff_cap, self.backoff * 2 ** (attempt - 1))
        return float(ceiling * (0.5 + self.jitter() / 2))  # jittered in [ceiling/2, ceiling]


def is_transient(error: BaseException) -> bool:
    """Worth retrying for a request that is safe to repeat."""
    if isinstance(error, IdempotencyConflictError):
        return error.code == int(ErrorCode.IDEMPOTENCY_REQUEST_IN_FLIGHT)
    return isinstance(
        error,
        RateLimitedError | ServerError | TransportError | RequestTimeoutError | RetryableOutcome,
    )


def is_ambiguous(error: BaseException) -> bool:
    """The request may have been processed: no answer, or a server failure."""
    return isinstance(error, ServerError | TransportError | RequestTimeoutError)


def _tenacity_kwargs(policy: RetryPolicy, done: int) -> dict[str, object]:
    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return policy.delay(done + state.attempt_number, error)

    return {
        "stop": tenacity.stop_after_attempt(policy.attempts - done),
        "wait": wait,
        "retry": tenacity.retry_if_exception(is_transient),
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
