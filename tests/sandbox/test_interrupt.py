"""Ctrl-C (SIGINT) stops the sandbox with the shell's code 130 and no traceback: while it
serves, and while a data file is still loading (nothing of it is kept)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from tests.live import LiveSandbox, free_port


def test_ctrl_c_while_serving_ends_cleanly_with_130(tmp_path: Path) -> None:
    sandbox = LiveSandbox(tmp_path / "s.db").start()
    assert sandbox.stop(signal.SIGINT) == 130
    assert sandbox.log is not None
    log = sandbox.log.read_text()
    assert "Application shutdown complete" in log
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log


def test_ctrl_c_while_a_data_file_loads_ends_cleanly_and_keeps_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    os.mkfifo(data)  # the load waits on the pipe: "while it loads" needs no timing
    db = tmp_path / "s.db"
    command = [sys.executable, "-m", "kakaclo_sandbox", "--port", str(free_port())]
    process = subprocess.Popen(
        [*command, "--db", str(db), "--data", str(data)],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    guard = threading.Timer(60, process.kill)  # a guard against a hang, not a measure
    guard.start()
    try:
        assert process.stderr.readline().startswith("kakaclo-sandbox: loading")
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=60) == 130
    finally:
        guard.cancel()
        process.stderr.close()
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest, rest
    with sqlite3.connect(db) as connection:  # created and locked, but nothing loaded into it
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        orders = connection.execute("SELECT COUNT(*) FROM orders").fetchone() if tables else (0,)
    assert orders == (0,)
