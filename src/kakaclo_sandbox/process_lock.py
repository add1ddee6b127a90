"""One sandbox process per database file: a second one is refused in one clear line.

The lock is an exclusive ``flock`` on the database file itself, taken through
a descriptor of its own and held for the life of the process. A lock on an
open file belongs to the file (its inode), not to the name it was opened by,
so no path trick avoids it: a symbolic link, a hard link or another spelling
of the path meets the same lock, and there is no lock file to delete. The
operating system drops it when the process ends, however it ends (``kill -9``
included), so a crash never leaves a stale lock behind.

Why ``flock`` and not ``fcntl`` byte-range locks: SQLite takes POSIX
byte-range locks on the same file, and POSIX drops every such lock a process
holds on a file as soon as any descriptor of it is closed (SQLite closes some
as it works). ``flock`` locks are separate from them on Linux: SQLite's
connections and locks work as before, other processes may still read the
database with ``sqlite3``, and only another ``flock`` (another sandbox) is
refused. The holder's pid is read from ``/proc/locks`` where it exists, for
the message; elsewhere the message says the pid is unknown. In-memory
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

PROC_LOCKS = Path("/proc/locks")


class DatabaseInUse(ValueError):
    """Another process serves this database."""


@contextlib.contextmanager
def held(db: str) -> Iterator[None]:
    """Hold the lock of the database file ``db`` while the block runs, or raise DatabaseInUse.

    The file is created (empty, a valid empty SQLite database) when it does not exist.
    """
    if db == ":memory:" or fcntl is None:
        yield
        return
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(db, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = holder_of(descriptor) or "unknown"
            raise DatabaseInUse(
                f"{db} is in use by another kakaclo-sandbox (pid {holder}); stop that one "
                "or pass another --db"
            ) from None
        yield
    finally:
        os.close(descriptor)  # closing the descriptor drops the lock


def holder_of(descriptor: int) -> str | None:
    """The pid holding a ``flock`` on the file of ``descriptor``, when the system says."""
    status = os.fstat(descriptor)
    wanted = (os.major(status.st_dev), os.minor(status.st_dev), status.st_ino)
    try:
        lines = PROC_LOCKS.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        # "1: FLOCK  ADVISORY  WRITE 4242 fd:01:123456 0 EOF"; waiters carry "->"
        fields = line.split()
        if len(fields) < 6 or fields[1] != "FLOCK":
            continue
        pid, device = fields[4], fields[5].split(":")
        try:
            found = (int(device[0], 16), int(device[1], 16), int(device[2]))
        except (IndexError, ValueError):
            continue
        if found == wanted and pid.isdigit():
            return pid
    return None
