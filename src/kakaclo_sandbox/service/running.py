"""Running a use case without an event loop, for startup and data files."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_now(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to its end here and now, synchronously; RuntimeError if it would wait.

    SQLite's units of work never suspend (only a refund's wait for its batch's
    commit does), so the sandbox seeds its data at startup, before any event
    loop, and resets it inside a request, through the same async use cases.
    """
    try:
        work.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    work.close()
    raise RuntimeError("a use case run synchronously would have waited")
