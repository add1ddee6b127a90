"""Change notices for the control surface's live feed: a version that every change bumps.

Refunds created, refunds settled (by the clock or on the way), resets, clock
moves and new orders call :meth:`Changes.changed`; each open feed waits for the
next version. :meth:`Changes.close` ends every wait when the server stops, so
an open console never holds the shutdown up.
"""

from __future__ import annotations

import asyncio


class Changes:
    """A version counter with waiters (all on the server's event loop)."""

    def __init__(self) -> None:
        self.version = 0
        self.closed = False
        self._waiters: set[asyncio.Event] = set()

    def changed(self) -> None:
        """Something a console shows has changed."""
        self.version += 1
        for waiter in self._waiters:
            waiter.set()

    def close(self) -> None:
        """The server stops: every waiting feed ends."""
        self.closed = True
        for waiter in self._waiters:
            waiter.set()

    async def wait(self, seen: int, timeout: float) -> bool:
        """Wait until the version moves past ``seen`` (True) or ``timeout`` passes (False)."""
        if self.version != seen or self.closed:
            return True
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
