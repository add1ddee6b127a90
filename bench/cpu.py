"""CPU time of a server, read from /proc: one process, or a process and all it forked.

A server's cost per request is the CPU time it used around a wrk run divided by
the requests: for the sandbox its own process; for the sandbox on PostgreSQL
also every process of the cluster (the postmaster, its background processes
and the backends serving the sandbox's connections).
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> list[str]:
    # The fields after the command name, which is in parentheses and may hold spaces:
    # [0] state, [1] ppid, ... [11] utime, [12] stime, [13] cutime, [14] cstime.
    return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """CPU time the process used so far (user + system), in seconds."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """Every living process ``pid`` forked, and the ones they forked, by ppid in /proc."""
    parents: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(_stat(int(entry.name))[1])
        except (OSError, IndexError, ValueError):
            continue  # gone while we looked
        parents.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    waiting = [pid]
    while waiting:
        children = parents.get(waiting.pop(), [])
        found.extend(children)
        waiting.extend(children)
    return sorted(found)


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and its descendants so far, the ones already ended included.

    A process that ended and was waited for (a PostgreSQL backend whose
    connection closed) adds its time to its parent's cutime and cstime, so those
    are counted too; a living process's children are counted once, by their own.
    """
    total = 0
    for each in (pid, *descendants(pid)):
        try:
            fields = _stat(each)
        except OSError:
            continue  # ended between the listing and now: its parent's cutime has it
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return total / os.sysconf("SC_CLK_TCK")
