"""Answers of the read operations, kept until the database next changes.

A Query Order or Query Refund answer is a function of the caller's merchant,
the validated parameters and what the database holds. The store's
``version`` moves whenever a write begins or ends (a refund, a settlement, a
reset, a control call), so an answer kept under the version it was read at
is exact for exactly as long as that version holds: no answer outlives a
write. Settlement stays exact too: a read settles what is due first (a write,
so a new version) and only then looks here.

Bounded: at most ``max_entries`` answers of at most ``max_body_bytes`` each,
least recently used first out. ``kakaclo-sandbox --no-answer-cache`` turns it
off, for anyone who wants every read to run its queries.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

MAX_ENTRIES = 1024
MAX_BODY_BYTES = 64 * 1024  # a page of about 40 orders; larger pages are read each time


class AnswerCache:
    """Response bodies by request key, valid for one store version."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_body_bytes: int = MAX_BODY_BYTES):
        self.max_entries = max_entries
        self.max_body_bytes = max_body_bytes
        self._version: int | None = None
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()

    def get(self, key: Hashable, version: int) -> bytes | None:
        """The body kept for ``key`` at ``version``, if any (forgets older versions)."""
        if version != self._version:
            self._bodies.clear()
            self._version = version
            return None
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
        return body

    def put(self, key: Hashable, version: int, body: bytes) -> None:
        """Keep ``body`` for ``key``, unless the store has moved on since it was read."""
        if version != self._version or len(body) > self.max_body_bytes:
            return
        self._bodies[key] = body
        if len(self._bodies) > self.max_entries:
            self._bodies.popitem(last=False)

    def __len__(self) -> int:
        return len(self._bodies)
