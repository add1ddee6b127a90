"""Leaky-bucket rate limit per bearer token, draining on the real time (a frozen or advanced
sandbox clock neither stops nor empties it)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from kakaclo_spec import shipped_spec

MAX_RATE = 1_000_000


@dataclass(frozen=True)
class RateLimit:
    """A bucket of ``burst`` requests draining at ``per_second``."""

    burst: int
    per_second: float

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """Parse ``BURST/PER_SECOND`` (e.g. ``120/2``) or ``off`` (None)."""
        if text.strip().lower() == "off":
            return None
        match = re.fullmatch(r"\s*([0-9]{1,7})\s*/\s*([0-9]{1,7}(?:\.[0-9]{1,6})?)\s*", text)
        if not match or not 1 <= int(match[1]) <= MAX_RATE or not 0 < float(match[2]) <= MAX_RATE:
            raise ValueError(
                f"rate limit must be BURST/PER_SECOND with numbers from 1 (above 0 for "
                f"PER_SECOND) to {MAX_RATE} (e.g. {vendor_limit()}) "
                f"or 'off', not {text!r}"
            )
        return cls(int(match[1]), float(match[2]))

    def __str__(self) -> str:
        return f"{self.burst}/{self.per_second:g}"


def vendor_limit() -> RateLimit:
    """The vendor's limit, as the spec's ``x-rate-limit`` states it."""
    burst, per_second = shipped_spec().rate_limit
    return RateLimit(burst, per_second)


class LeakyBucket:
    """Per-key buckets: each request pours one unit in; the bucket leaks steadily."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._levels: dict[str, tuple[float, float]] = {}

    def take(self, key: str, now: float) -> int:
        """Admit one request (return 0) or return the seconds to wait (>= 1)."""
        level, since = self._levels.get(key, (0.0, now))
        level = max(0.0, level - max(0.0, now - since) * self.limit.per_second)
        if level + 1 <= self.limit.burst:
            self._levels[key] = (level + 1, now)
            return 0
        self._levels[key] = (level, now)
        return max(1, math.ceil((level + 1 - self.limit.burst) / self.limit.per_second))

    def reset(self) -> None:
        """Empty every bucket."""
        self._levels.clear()
