"""Change notices for the control surface's live feed.

Refunds created and new orders call :meth:`Changes.changed` with the merchant
they touched; resets and clock moves call it without one (every merchant).
The notice goes to :class:`~kakaclo_sandbox.web.feeds.Feeds`, which computes
each touched merchant's state once, off the event loop, for its open feeds.
:meth:`Changes.close` ends every feed when the server stops, so an open
console never holds the shutdown up.
"""

from __future__ import annotations

from kakaclo_sandbox.web.feeds import Feeds


class Changes:
    """A version counter that tells the feeds what changed (on the server's event loop)."""

    def __init__(self, feeds: Feeds) -> None:
        self.version = 0
        self.closed = False
        self.feeds = feeds

    def changed(self, merchant: str | None = None) -> None:
        """Something a console shows has changed: for ``merchant``, or for every one."""
        self.version += 1
        self.feeds.changed(None if merchant is None else {merchant})

    def close(self) -> None:
        """The server stops: every feed ends."""
        self.closed = True
        self.feeds.close()
