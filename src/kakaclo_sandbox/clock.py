"""The sandbox's clock: real time plus an offset that tests can advance."""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Callable

Now = Callable[[], float]
# The latest instant the sandbox's clock may show: the spec's date-time range
# ends in 2999, and every date the sandbox writes must stay renderable.
LATEST = datetime.datetime(2999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC).timestamp()


class SandboxClock:
    """Seconds since the epoch, as ``base()`` plus an offset moved by ``advance``."""

    def __init__(self, base: Now = time.time, offset: float = 0.0) -> None:
        self._base = base
        self.offset = offset

    def now(self) -> float:
        """The sandbox's current time."""
        return self._base() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (never backward, never past LATEST)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        if self.now() + seconds > LATEST:
            raise ValueError(f"the clock cannot pass {iso(LATEST)}")
        self.offset += seconds

    def headroom(self) -> float:
        """How many seconds the clock may still be advanced."""
        return max(0.0, LATEST - self.now())


@functools.lru_cache(maxsize=4096)  # the same few dates are rendered on every Query Order
def iso(instant: float) -> str:
    """Render an instant as the vendor does: ``2022-09-29T03:07:23Z``."""
    moment = datetime.datetime.fromtimestamp(instant, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> float:
    """Parse an RFC 3339 date-time (any offset, lower-case ``t``/``z``) to epoch.

    The spec's ``UtcDateTime`` pattern refuses leap seconds and years outside
    1970-2999 before a parameter gets here.
    """
    normal = text.strip().upper().replace("Z", "+00:00")
    moment = datetime.datetime.fromisoformat(normal)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()
