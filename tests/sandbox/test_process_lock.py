"""One sandbox process per database file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kakaclo_sandbox.process_lock import DatabaseInUse, held, lock_path
from tests.live import LiveSandbox, free_port


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    db = str(tmp_path / "one.db")
    with held(db):
        assert lock_path(db).read_text() == str(os.getpid())
        with (
            pytest.raises(
                DatabaseInUse, match=rf"in use by another kakaclo-sandbox \(pid {os.getpid()}\)"
            ),
            held(db),
        ):
            pass
    with held(db):  # released when the first holder ended
        pass


def test_an_in_memory_database_takes_no_lock(tmp_path: Path) -> None:
    with held(":memory:"), held(":memory:"):
        pass
    assert not list(tmp_path.iterdir())


def test_a_second_sandbox_process_on_the_same_file_exits_2_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    first = LiveSandbox(db=db).start()
    try:
        second = subprocess.run(
            [sys.executable, "-m", "kakaclo_sandbox", "--port", str(free_port()), "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 2
        assert first.process is not None
        assert second.stderr.strip() == (
            f"kakaclo-sandbox: {db} is in use by another kakaclo-sandbox "
            f"(pid {first.process.pid}); stop that one or pass another --db"
        )
    finally:
        first.stop()
