"""PostgreSQL for the bench: one cluster, fsync on, pinned to the server core.

The cluster is started by the tests' own helper (``tests/postgres.py``: initdb
and pg_ctl in a temporary directory, through ``runuser -u postgres --`` under
root), imported rather than copied so that there is one way to start it. The
bench turns fsync on, as a user's server has it. Every process of the cluster
is pinned to the server core right after the start (the postmaster and the
background processes it forked already; the backends it forks later inherit
it), so the sandbox and its database share one core, as the SQLite sandbox has
one core alone.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.cpu import descendants, tree_cpu_seconds

if TYPE_CHECKING:
    from tests.postgres import PostgresServer

BINARIES = "/usr/lib/postgresql/*/bin/initdb"  # where tests/postgres.py looks (Debian's)


def missing() -> str | None:
    """Why the bench cannot start PostgreSQL here, as one line saying how to fix it; or None."""
    if importlib.util.find_spec("psycopg") is None:
        return "needs the postgres extra: pip install -e '.[postgres]' (make setup does)"
    if not glob.glob(BINARIES):
        return "needs PostgreSQL's server binaries: sudo apt-get install postgresql-15"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "needs runuser (util-linux) to run PostgreSQL as the postgres user under root"
    return None


def postmaster_pid(data: Path) -> int:
    """The postmaster's pid: the first line of ``<data>/postmaster.pid``."""
    return int((data / "postmaster.pid").read_text().splitlines()[0])


def pin(cpu: str, pids: list[int]) -> None:
    """Pin each process (all its threads) to ``cpu``."""
    for pid in pids:
        subprocess.run(
            ["taskset", "-a", "-p", "-c", cpu, str(pid)],
            capture_output=True,
            check=True,
        )


@dataclass
class Cluster:
    """A running cluster: its server (``url``, ``create_database``) and its postmaster."""

    server: PostgresServer
    postmaster: int

    def pids(self) -> list[int]:
        """The postmaster and every process of the cluster now."""
        return [self.postmaster, *descendants(self.postmaster)]

    def cpu_seconds(self) -> float:
        """CPU time of the whole cluster so far, ended backends included."""
        return tree_cpu_seconds(self.postmaster)


@contextlib.contextmanager
def cluster(cpu: str | None, fsync: bool = True) -> Iterator[Cluster]:
    """A started cluster (pinned to ``cpu`` unless None), stopped and removed at the end."""
    # bench imports the tests' server helper: one way to start PostgreSQL, as root or not
    from tests.postgres import running

    with running(fsync=fsync) as server:
        started = Cluster(server, postmaster_pid(server.data))
        if cpu is not None:
            pin(cpu, started.pids())
        yield started
