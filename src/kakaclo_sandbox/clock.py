"""The sandbox's clock: real time plus an offset that tests can advance, or stopped."""

from __future__ import annotations

import datetime
import functools
import math
import time
from collections.abc import Callable

Now = Callable[[], float]
# The latest instant the sandbox's clock may show: the spec's date-time range
# ends in 2999, and every date the sandbox writes must stay renderable.
LATEST = datetime.datetime(2999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC).timestamp()


class SandboxClock:
    """Seconds since the epoch, as ``base()`` plus an offset moved by ``advance``.

    Frozen, it stands at ``frozen_at`` until advanced or resumed, whatever ``base()``
    does, so that a client over a network can know the time to the second.
    """

    def __init__(
        self, base: Now = time.time, offset: float = 0.0, frozen_at: float | None = None
    ) -> None:
        self._base = base
        self.offset = offset
        self.frozen_at = frozen_at

    def now(self) -> float:
        """The sandbox's current time."""
        if self.frozen_at is not None:
            return self.frozen_at
        return self._base() + self.offset

    def real(self) -> float:
        """The time the clock runs on (``base()``), frozen or not: what the rate limit
        drains on, since a bucket meters real traffic."""
        return self._base()

    @property
    def frozen(self) -> bool:
        """True while the clock stands still."""
        return self.frozen_at is not None

    def advance(self, seconds: float) -> None:
        """Move the clock forward (never backward, never past LATEST)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        if self.now() + seconds > LATEST:
            raise ValueError(f"the clock cannot pass {iso(LATEST)}")
        if self.frozen_at is not None:
            self.frozen_at += seconds
        else:
            self.offset += seconds

    def freeze(self) -> None:
        """Stop the clock on the next whole second (where it stands, if it is on one).

        A whole second, because the API shows dates in whole seconds: a client then
        knows every instant exactly. Rounding up keeps the clock from going backward.
        """
        self.frozen_at = float(min(math.ceil(self.now()), LATEST))

    def resume(self) -> None:
        """Let a frozen clock run again from where it stands (no jump either way)."""
        if self.frozen_at is not None:
            self.offset = self.frozen_at - self._base()
            self.frozen_at = None

    def restart(self) -> None:
        """Back to the real time, running, as a new sandbox's clock."""
        self.offset = 0.0
        self.frozen_at = None

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
