"""Stopping a uvicorn server gracefully on SIGINT and SIGTERM, and nothing else.

uvicorn's own ``capture_signals`` records the signal and raises it again once the server
has stopped (so the process dies of it); the sandbox's workers and the proxy return
instead, to close what they hold and choose their exit code.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from types import FrameType

STOPPING = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stopping_on(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """Call ``handler`` on SIGINT and SIGTERM inside the block; the old handlers after."""
    original = {sig: signal.signal(sig, handler) for sig in STOPPING}
    try:
        yield
    finally:
        for sig, previous in original.items():
            signal.signal(sig, previous)
