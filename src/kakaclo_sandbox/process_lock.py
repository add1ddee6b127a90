"""One sandbox process per database file: a second one is refused in one clear line.

The lock is an advisory ``flock`` on ``<db>.lock`` next to the database, held
for the life of the process; the operating system drops it when the process
ends, however it ends (``kill -9`` included), so a crash never leaves a stale
lock behind. The file names the holder's pid, for the message. In-memory
databases need no lock. Where ``fcntl`` does not exist (Windows), nothing is
locked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class DatabaseInUse(ValueError):
    """Another process serves this database."""


def lock_path(db: str) -> Path:
    """Where the lock of ``db`` lives."""
    return Path(db + ".lock")


@contextlib.contextmanager
def held(db: str) -> Iterator[None]:
    """Hold the lock of ``db`` while the block runs, or raise DatabaseInUse."""
    if db == ":memory:" or fcntl is None:
        yield
        return
    path = lock_path(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise DatabaseInUse(
                f"{db} is in use by another kakaclo-sandbox (pid {holder}); stop that one "
                "or pass another --db"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing the file drops the lock
