"""docs/sandbox.md's "On PostgreSQL" block runs as a user types it: the server, the
database, the sandbox on it, the curl, and both stopped again.

The test reads the block from the page, so the docs and the test cannot drift. It
replaces only the three variables the block sets at its top (``PG``, ``DIR``,
``PORT``: the user's choices) and the sandbox's port 8080, which may be taken where
tests run. As root it applies the page's own rule for root (``chown postgres
"$DIR"`` after the ``mkdir``, ``runuser -u postgres --`` before each ``$PG/``
command). Every shell line runs under ``set -e``: any command that fails fails the
test. Whatever happens, the sandbox and the server are stopped at the end.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.curl import send_curl
from tests.live import LiveSandbox, free_port
from tests.postgres import START_SECONDS, binaries
from tests.tools import missing

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "sandbox.md"
SECTION = "## On PostgreSQL"
VARIABLES = ("PG", "DIR", "PORT")  # what the block tells the user to choose
DOCS_PORT = "8080"
AS_POSTGRES = "runuser -u postgres --"
CHOWN = 'chown postgres "$DIR"'
BIN = str(Path(sys.executable).parent)  # kakaclo-sandbox, as the user's PATH has it


def section(text: str) -> str:
    """The page's "On PostgreSQL" section, up to the next ``## `` heading."""
    assert text.count(f"\n{SECTION}\n") == 1, f"docs/sandbox.md has one {SECTION!r}"
    return text.split(f"\n{SECTION}\n", 1)[1].split("\n## ", 1)[0]


def lines_of(block: str) -> list[str]:
    """The block's command lines, without comments (`` # ...``) and blank lines."""
    found = []
    for line in block.splitlines():
        command = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
        if command and not command.startswith("#"):
            found.append(command)
    return found


@dataclass(frozen=True)
class Walkthrough:
    """The block, cut where the test takes over: before the sandbox, the sandbox and the
    curl, and after them."""

    choices: dict[str, str]  # PG, DIR, PORT as the page sets them
    setup: list[str]  # mkdir ... export KAKACLO_SANDBOX_DB=...
    sandbox: str  # kakaclo-sandbox ... &
    curl: str
    stop_sandbox: str  # kill %1
    teardown: list[str]  # pg_ctl stop


def walkthrough(text: str) -> Walkthrough:
    """The section's one ``bash`` block, read into its parts."""
    blocks = re.findall(r"```bash\n(.*?)```", section(text), flags=re.S)
    assert len(blocks) == 1, "the section has one bash block"
    lines = lines_of(blocks[0])
    choices = {}
    for name in VARIABLES:
        assignment = lines.pop(0)
        assert assignment.startswith(f"{name}="), f"the block sets {name} first: {assignment}"
        choices[name] = assignment.partition("=")[2]
    starts = [i for i, line in enumerate(lines) if line.startswith("kakaclo-sandbox")]
    assert len(starts) == 1, "the block starts one sandbox"
    at = starts[0]
    sandbox, curl, stop_sandbox, *teardown = lines[at:]
    assert sandbox.endswith("&"), "the sandbox runs in the background of the user's shell"
    assert curl.startswith("curl ") and stop_sandbox == "kill %1", lines[at:]
    return Walkthrough(choices, lines[:at], sandbox, curl, stop_sandbox, teardown)


def as_root(lines: list[str]) -> list[str]:
    """The page's rule for root: the server's commands as the postgres user."""
    done = []
    for line in lines:
        if line.startswith("$PG/"):
            line = f"{AS_POSTGRES} {line}"
        done.append(line)
        if line.startswith("mkdir "):
            done.append(CHOWN)
    return done


def test_the_page_says_how_root_runs_the_block() -> None:
    text = section(PAGE.read_text())
    prose = " ".join(text.split())
    assert f"`{CHOWN}`" in prose and f"`{AS_POSTGRES}`" in prose
    assert "before each `$PG/` command" in prose
    assert "right after the `mkdir`" in prose
    parts = walkthrough(PAGE.read_text())
    assert parts.choices["PG"] == "/usr/lib/postgresql/15/bin"  # Debian's postgresql-15
    assert any(line.startswith("mkdir ") for line in parts.setup)
    assert [line for line in parts.setup if line.startswith("$PG/")], "server commands"


@dataclass
class Server:
    """Where the block's server lives, so that the end can always stop it."""

    directory: Path
    prefix: list[str]
    bin: Path

    def stop(self) -> None:
        """Stop the server at once if it is still up, and remove its files."""
        data = self.directory / "data"
        if (data / "postmaster.pid").exists():
            pg_ctl = [*self.prefix, str(self.bin / "pg_ctl"), "-D", str(data)]
            subprocess.run(
                [*pg_ctl, "-m", "immediate", "stop"],
                capture_output=True,
                timeout=START_SECONDS,
                check=False,
            )
        shutil.rmtree(self.directory, ignore_errors=True)


def _prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        missing("needs runuser (util-linux) to run PostgreSQL as the postgres user under root")
    return AS_POSTGRES.split()


@pytest.fixture
def server() -> Iterator[Server]:
    """The block's ``DIR``: a new path the postgres user can reach (pytest's own temporary
    directories are 0700 root), stopped and removed at the end, passed or failed."""
    if shutil.which("bash") is None:
        missing("needs bash, the shell the block is written for")
    if importlib.util.find_spec("psycopg") is None:
        missing("needs the postgres extra (pip install -e '.[postgres]'; make setup does)")
    prefix = _prefix()
    directory = Path(tempfile.gettempdir()) / f"kakaclo-pgdocs-{uuid.uuid4().hex[:8]}"
    found = Server(directory, prefix, binaries())
    try:
        yield found
    finally:
        found.stop()


def _bash(
    lines: list[str], env: dict[str, str], cwd: Path, keep: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``lines`` in one bash under ``set -e``; the shell's environment at the end goes
    to ``keep``."""
    script = "\n".join(["set -euo pipefail", *lines, f"env -0 > {shlex.quote(str(keep))}"])
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=2 * START_SECONDS,
        check=False,
    )


def _environment(kept: Path) -> dict[str, str]:
    """The environment a script's ``env -0`` kept."""
    pairs = (entry.partition("=") for entry in kept.read_text().split("\0") if "=" in entry)
    return {name: value for name, _, value in pairs}


def test_the_docs_postgresql_block_runs_as_written(server: Server, tmp_path: Path) -> None:
    parts = walkthrough(PAGE.read_text())
    port, sandbox_port = free_port(), free_port()
    choices = [f"PG={server.bin}", f"DIR={server.directory}", f"PORT={port}"]
    setup, teardown = parts.setup, parts.teardown
    if os.geteuid() == 0:
        setup, teardown = as_root(setup), as_root(teardown)
    env = {**os.environ, "PATH": os.pathsep.join([BIN, os.environ.get("PATH", "")])}
    env.pop("KAKACLO_SANDBOX_DB", None)
    cwd = server.directory.parent  # a directory the postgres user may be in

    kept = tmp_path / "environment"
    done = _bash(choices + setup, env, cwd, kept)
    assert done.returncode == 0, done.stderr[-3000:]
    shell = _environment(kept)
    url = shell["KAKACLO_SANDBOX_DB"]
    assert url == f"postgresql://kakaclo@/sandbox?host={server.directory}&port={port}"

    local = f"http://127.0.0.1:{sandbox_port}"
    argv = shlex.split(parts.sandbox.removesuffix("&"))
    assert argv[argv.index("--port") + 1] == DOCS_PORT
    argv[argv.index("--port") + 1] = str(sandbox_port)
    log = tmp_path / "sandbox.log"
    with log.open("wb") as out:  # in the user's working directory: a SQLite file would land here
        sandbox = subprocess.Popen(argv, cwd=tmp_path, env=shell, stdout=out, stderr=out)
    try:
        try:
            LiveSandbox.wait_for(local + "/_sandbox/info", sandbox)
        except RuntimeError as error:
            pytest.fail(f"{error}: {log.read_text(errors='replace')[-3000:]}")
        answer = send_curl(parts.curl.replace(f"http://127.0.0.1:{DOCS_PORT}", local))
        info = httpx.get(local + "/_sandbox/info").json()["data"]
        sandbox.send_signal(signal.SIGTERM)  # kill %1
        sandbox.wait(timeout=30)
    finally:
        if sandbox.poll() is None:
            sandbox.kill()
            sandbox.wait()
    banner = log.read_text(errors="replace")
    assert sandbox.returncode in (0, -signal.SIGTERM), banner[-3000:]
    assert "Application shutdown complete" in banner, "kill %1 stopped it cleanly"
    assert answer.status_code == 200, answer.text
    orders = answer.json()["data"]["list"]
    assert [order["id"] for order in orders] == ["10001"]
    assert info["settings"]["db"] == url, "the sandbox ran on the block's database"
    assert f"database  {url};" in banner
    assert not list(tmp_path.glob("**/*.db")), "no SQLite file was made"

    stopped = _bash(choices + teardown, env, cwd, kept)
    assert stopped.returncode == 0, stopped.stderr[-3000:]
    assert "server stopped" in stopped.stdout
    assert not (server.directory / "data" / "postmaster.pid").exists()
