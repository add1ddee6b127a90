"""The failures queue in memory: where one process is the database's only one (SQLite,
one process per file), its memory is the whole queue, and a call of the API reads a
dict's size to know nothing is queued."""

from __future__ import annotations

import sys
import threading
from collections import deque
from typing import Any

from kakaclo_sandbox.storage import interface
from kakaclo_sandbox.storage.interface import Queued, QueuedFailure

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override


class FailureQueue:
    """Failures queued for the next calls, per operation (None: any), in queue order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: dict[str | None, deque[QueuedFailure]] = {}
        self._length = 0

    def add(self, failure: QueuedFailure, count: int, most: int) -> Queued:
        """Queue ``count`` copies of ``failure``, unless the queue would then hold more
        than ``most`` (then nothing is queued)."""
        with self._lock:
            if self._length + count > most:
                return Queued(added=False, length=self._length)
            self._queued.setdefault(failure.operation, deque()).extend([failure] * count)
            self._length += count
            return Queued(added=True, length=self._length)

    def take(self, operation: str) -> QueuedFailure | None:
        """The first failure queued for ``operation``, else the first for any, taken."""
        with self._lock:
            for key in (operation, None):
                queue = self._queued.get(key)
                if queue:
                    failure = queue.popleft()
                    self._length -= 1
                    if not queue:
                        del self._queued[key]
                    return failure
        return None

    def is_empty(self) -> bool:
        """True when no failure is queued (read without the lock: one dict's size)."""
        return not self._queued

    def clear(self) -> None:
        """Forget every queued failure."""
        with self._lock:
            self._queued.clear()
            self._length = 0

    def __len__(self) -> int:
        """How many failures are queued."""
        return self._length

    def pending(self) -> list[QueuedFailure]:
        """Every failure queued, per operation (in the order each was first queued)."""
        with self._lock:
            return [failure for queue in self._queued.values() for failure in queue]


class MemoryFailures(interface.Store):
    """The Store interface's failures queue in this process's memory: for an engine whose
    process is its database's only one (SQLite's store subclasses it first)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._failures = FailureQueue()

    @override
    def may_have_failures(self) -> bool:
        return not self._failures.is_empty()

    @override
    async def queue_failures(self, failure: QueuedFailure, count: int, most: int) -> Queued:
        return self._failures.add(failure, count, most)

    @override
    async def take_failure(self, operation: str) -> QueuedFailure | None:
        return self._failures.take(operation)

    @override
    async def queued_failures(self) -> list[QueuedFailure]:
        return self._failures.pending()

    @override
    async def clear_failures(self) -> None:
        self._failures.clear()
