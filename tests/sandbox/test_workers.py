"""``kakaclo-sandbox --workers N``: N processes on one port, on the tests' own PostgreSQL.

Which worker answers is the kernel's choice: a test asks ``GET /_sandbox/info`` (its
``pid``) over fresh connections, a bounded number of times, until the workers it needs
have answered; a kept-alive connection stays with the worker that accepted it. Each test
starts a server of its own (a parent and two workers): the module runs alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kakaclo_sandbox.data import DEMO_DATA
from tests.live import LiveSandbox, free_port
from tests.sandbox.helpers import API, query_refund_url, refund_url

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")

pytestmark = pytest.mark.alone

TOKEN = {"Authorization": "Bearer demo-token"}
MAX_REQUESTS = 200  # fresh connections asked before a worker counts as never answering
DEADLINE = 60.0  # seconds a replaced worker may take to answer (a bound, not a measure)


def _start(tmp_path: Path, url: str, *args: str) -> LiveSandbox:
    return LiveSandbox(
        db=tmp_path / "sandbox", url=url, args=["--workers", "2", "--rate-limit", "off", *args]
    ).start(timeout=60)


def _info(live: LiveSandbox, client: httpx.Client | None = None) -> dict[str, object]:
    get = client.get if client is not None else httpx.get
    answer = get(live.root + "/_sandbox/info")
    assert answer.status_code == 200, answer.text
    data: dict[str, object] = answer.json()["data"]
    return data


def _pids(live: LiveSandbox, wanted: int = 2, *, besides: set[int] | None = None) -> set[int]:
    """The pids that answered fresh connections, asked until ``wanted`` of them are not in
    ``besides`` (at most MAX_REQUESTS requests)."""
    seen: set[int] = set()
    for _ in range(MAX_REQUESTS):
        pid = _info(live)["pid"]
        assert isinstance(pid, int)
        seen.add(pid)
        if len(seen - (besides or set())) >= wanted:
            return seen
    raise AssertionError(f"{MAX_REQUESTS} fresh connections reached only the pids {seen}")


def _new_pid(live: LiveSandbox, known: set[int]) -> int:
    """The first pid not in ``known`` to answer a fresh connection (polled until DEADLINE)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        pid = _info(live)["pid"]
        assert isinstance(pid, int)
        if pid not in known:
            return pid
        time.sleep(0.05)  # waiting for a child process to start, not for app timing
    raise AssertionError(f"no worker but {known} answered within {DEADLINE} s")


def _client_of(live: LiveSandbox, pid: int) -> httpx.Client:
    """A client whose kept-alive connection the worker ``pid`` accepted."""
    for _ in range(MAX_REQUESTS):
        client = httpx.Client(base_url=live.root, headers=TOKEN)
        if _info(live, client)["pid"] == pid:
            return client
        client.close()
    raise AssertionError(f"no fresh connection reached worker {pid}")


def _parent_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("PPid:")).split()[1])


def _log(live: LiveSandbox) -> str:
    assert live.log is not None
    return live.log.read_text()


def test_two_workers_answer_on_one_port_and_the_database_is_the_record(
    postgres_url: str, tmp_path: Path
) -> None:
    live = _start(tmp_path, postgres_url)
    try:
        assert live.process is not None
        parent = live.process.pid
        pids = _pids(live)
        assert len(pids) == 2 and parent not in pids  # the parent never answers
        assert {_parent_of(pid) for pid in pids} == {parent}
        first, second = sorted(pids)
        with (
            contextlib.closing(_client_of(live, first)) as one,
            contextlib.closing(_client_of(live, second)) as other,
        ):
            refunded = one.post(refund_url("10002"), json={})
            assert refunded.status_code == 200, refunded.text
            number = refunded.json()["data"]
            listed = other.get(query_refund_url("10002")).json()["data"]["list"]
            assert [refund["refundNo"] for refund in listed] == [number]
            info = _info(live, other)
            assert (info["pid"], info["workers"]) == (second, 2)  # the same connection
    finally:
        assert live.stop(signal.SIGTERM) == 0
    log = _log(live)
    assert "  workers   2 processes on one port" in log  # the banner
    assert "Traceback" not in log, log


def test_a_killed_worker_is_replaced_while_the_other_answers(
    postgres_url: str, tmp_path: Path
) -> None:
    live = _start(tmp_path, postgres_url)
    try:
        killed, kept = sorted(_pids(live))
        os.kill(killed, signal.SIGKILL)
        for _ in range(5):  # at once, whichever connection: the other worker answers
            assert _info(live)["pid"] == kept
            assert httpx.get(live.root + API, params={"ids": "10001"}, headers=TOKEN).is_success
        new = _new_pid(live, {killed, kept})  # the parent started another in its place
        assert live.process is not None
        assert _parent_of(new) == live.process.pid
    finally:
        assert live.stop(signal.SIGTERM) == 0
    log = _log(live)
    assert f"worker {killed} was killed by SIGKILL after" in log, log
    assert "Traceback" not in log, log


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_a_signal_to_the_parent_ends_every_worker(
    postgres_url: str, tmp_path: Path, sig: int, code: int
) -> None:
    live = _start(tmp_path, postgres_url)
    pids = _pids(live)
    assert live.stop(sig) == code
    # the parent reaped its workers before it exited: none is left, not even a zombie
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists()] == []
    log = _log(live)
    assert log.count("Application shutdown complete") == 2, log  # each worker's, cleanly
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log


def test_workers_stop_when_the_parent_is_killed(postgres_url: str, tmp_path: Path) -> None:
    live = _start(tmp_path, postgres_url)
    pids = _pids(live)
    live.kill()  # kill -9 of the parent: no worker goes on serving unsupervised
    deadline = time.monotonic() + DEADLINE
    while [pid for pid in pids if _running(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting for other processes to stop, not for app timing
    assert [pid for pid in pids if _running(pid)] == []
    with pytest.raises(httpx.ConnectError):  # nobody holds the port any more
        httpx.get(live.root + "/_sandbox/info")
    log = _log(live)
    assert log.count("is gone: stopping") == 2, log
    assert "Traceback" not in log, log


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (an ended process left unreaped, a zombie, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_a_worker_started_after_its_data_file_changed_keeps_the_parents_data(
    postgres_url: str, tmp_path: Path
) -> None:
    """The data file is edited while the sandbox runs: the worker started in place of a
    killed one joins with the data as the parent read it (before: it read the file again
    and refused the database, and so did every restart), and a reset through it goes back
    to that data."""
    data = tmp_path / "orders.yaml"
    data.write_text(DEMO_DATA.read_text())
    live = _start(tmp_path, postgres_url, "--data", str(data))
    try:
        killed, kept = sorted(_pids(live))
        data.write_text(DEMO_DATA.read_text().replace("demo order", "another order", 1))
        os.kill(killed, signal.SIGKILL)
        new = _new_pid(live, {killed, kept})
        with contextlib.closing(_client_of(live, new)) as client:
            assert client.post(refund_url("10002"), json={}).status_code == 200
            reset = client.post("/_sandbox/reset", headers={"Content-Type": "application/json"})
            assert reset.status_code == 200, reset.text
            listed = client.get(query_refund_url("10002")).json()["data"]["list"]
            assert listed == []  # back to the parent's data
    finally:
        assert live.stop(signal.SIGTERM) == 0
    log = _log(live)
    assert "changed since" not in log, log
    assert "Traceback" not in log, log


def test_workers_that_keep_dying_at_start_stop_the_sandbox_with_exit_1(
    postgres_url: str, tmp_path: Path
) -> None:
    live = _start(tmp_path, postgres_url)
    assert live.process is not None
    killed, _ = sorted(_pids(live))
    try:
        # Every worker started from now on cannot connect to the database (the test's own).
        with psycopg.connect(postgres_url) as db:
            name = db.info.dbname
        with psycopg.connect(postgres_url, dbname="postgres", autocommit=True) as db:
            db.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        os.kill(killed, signal.SIGKILL)
        code = live.process.wait(timeout=DEADLINE)
    finally:
        live.stop(signal.SIGKILL)
    assert code == 1
    log = _log(live)
    assert "cannot connect" in log  # each worker said why, in one line
    assert "a worker ended within 10 s of its start 3 times in a row" in log, log
    assert "Traceback" not in log, log


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kakaclo_sandbox", "--port", str(free_port()), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=cwd)


def test_sqlite_with_workers_is_refused_in_one_line_before_the_file_is_made(
    tmp_path: Path,
) -> None:
    done = _run("--db", "s.db", "--workers", "2", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "kakaclo-sandbox: one process per database file; --workers needs --db postgresql://...\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["0", "65", "two"])
def test_workers_out_of_bounds_is_an_argument_error(tmp_path: Path, value: str) -> None:
    done = _run("--db", "s.db", "--workers", value, cwd=tmp_path)
    assert done.returncode == 2
    assert "--workers: must be a whole number of processes from 1 to 64" in done.stderr
    assert list(tmp_path.iterdir()) == []
