"""``Idempotency-Key`` on Refund Order (a sandbox extension the vendor does not promise).

Only successful answers are stored, per merchant, for 24 hours, in the same
transaction as the refund they answer. The stored entry covers the order id
and the body: the same key with the same order and body replays the refund
number; with another order or body it is refused (40911); while the first
request with the key is still being processed, 40912. Once that first request
has finished, every replay is answered from the stored entry, however many
arrive at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kakaclo_client.models import ErrorCode

from kakaclo_sandbox.domain.errors import RuleViolation
from kakaclo_sandbox.domain.orders import StoredAnswer

TTL_SECONDS = 24 * 60 * 60


def fingerprint(order_id: str, body: Any) -> str:
    """A digest of what a key covers: the order id and the (parsed, normalised) body."""
    canonical = json.dumps([order_id, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class InFlight:
    """Keys whose first request is still being processed by this process."""

    def __init__(self) -> None:
        self._keys: set[tuple[str, str]] = set()

    def busy(self, merchant: str, key: str) -> bool:
        """True while a request with this key is being processed."""
        return (merchant, key) in self._keys

    @contextmanager
    def hold(self, merchant: str, key: str) -> Iterator[None]:
        """Mark the key busy for the duration of one request, or refuse it with 40912."""
        entry = (merchant, key)
        if entry in self._keys:
            raise in_flight()
        self._keys.add(entry)
        try:
            yield
        finally:
            self._keys.discard(entry)


def in_flight() -> RuleViolation:
    """40912 for a key whose first request is still being processed, in this process or
    in another sharing the database (which holds the key's claim there)."""
    return RuleViolation(
        ErrorCode.IDEMPOTENCY_REQUEST_IN_FLIGHT,
        "a request with this Idempotency-Key is still being processed",
    )


def live_since(now: float) -> float:
    """The oldest creation time of a stored answer that still counts at ``now``."""
    return now - TTL_SECONDS


def replayed(stored: StoredAnswer | None, digest: str) -> str | None:
    """The refund number to replay for a request with ``digest``; refuse another digest."""
    if stored is None:
        return None
    if stored.fingerprint != digest:
        raise RuleViolation(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "Idempotency-Key was already used with another order or body",
        )
    return stored.refund_no
