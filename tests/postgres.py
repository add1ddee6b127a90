"""A PostgreSQL server of the tests' own, from Debian's binaries, in a temporary directory.

PostgreSQL refuses to run as root, and CI runs as root: there the server runs
as the ``postgres`` system user (``runuser -u postgres -- initdb ...``) in a
directory chowned to it, since pytest's temporary directories are 0700 root.
Any other user runs it as itself. pytest-postgresql's executor cannot do
this (it runs ``pg_ctl`` as the current user), hence this module.

Missing binaries are installed with apt-get where the tests may (root);
otherwise the test skips with one line, and under CI that skip is a failure
(``tests/tools.py``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.live import free_port
from tests.tools import missing, require_file

PACKAGE = "postgresql-15"
DEFAULT_BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "kakaclo"  # the cluster's superuser role, trusted on the loopback only
START_SECONDS = 60


def binaries() -> Path:
    """The directory of ``initdb`` and ``pg_ctl``: Debian's PostgreSQL 15, installed if missing."""
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(found).parent
    require_file(str(DEFAULT_BIN / "initdb"), PACKAGE, "PostgreSQL's server binaries")
    return DEFAULT_BIN


def _run_as() -> list[str]:
    """The prefix that runs a server command as a user PostgreSQL accepts."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        missing("needs runuser (util-linux) to run PostgreSQL as the postgres user under root")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        missing(f"needs the postgres system user (apt-get install {PACKAGE})")
    return [runuser, "-u", "postgres", "--"]


@dataclass
class PostgresServer:
    """One PostgreSQL cluster on 127.0.0.1 and a free port; ``url(name)`` names a database."""

    directory: Path
    fsync: bool = False  # tests never kill PostgreSQL itself, only the sandbox
    port: int = field(default_factory=free_port)
    bin: Path = field(default_factory=binaries)

    @property
    def data(self) -> Path:
        """The cluster's data directory."""
        return self.directory / "data"

    @property
    def log(self) -> Path:
        """The server's log file."""
        return self.directory / "server.log"

    def url(self, database: str = "postgres") -> str:
        """A libpq URL of ``database`` on this server (no password: trust on the loopback)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_run_as(), *args],
            capture_output=True,
            text=True,
            timeout=START_SECONDS,
            check=False,
        )

    def start(self) -> None:
        """``initdb`` then ``pg_ctl start``, waiting until the server accepts connections."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        self.directory.chmod(0o700)
        init = self._command(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        self.launch()

    def launch(self) -> None:
        """``pg_ctl start`` on the cluster :meth:`start` made (again after :meth:`stop`),
        waiting until the server accepts connections."""
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=600"
        )
        started = self._command(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.log),
            "-w",
            "-t",
            str(START_SECONDS),
            "start",
        )
        if started.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stderr.strip()} {log[-2000:]}")

    def stop(self) -> None:
        """Stop the server at once (its data is thrown away with the directory)."""
        self._command(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def running(fsync: bool = False) -> Iterator[PostgresServer]:
    """A started server, stopped and removed at the end."""
    directory = Path(tempfile.mkdtemp(prefix="kakaclo-pg-"))  # chowned by start()
    server = PostgresServer(directory, fsync=fsync)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
