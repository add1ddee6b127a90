"""One sandbox process per database file, whatever path names the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kakaclo_sandbox.process_lock import DatabaseInUse, held
from tests.live import LiveSandbox, free_port


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    db = str(tmp_path / "one.db")
    with (
        held(db),
        pytest.raises(
            DatabaseInUse, match=rf"in use by another kakaclo-sandbox \(pid {os.getpid()}\)"
        ),
        held(db),
    ):
        pass
    with held(db):  # released when the first holder ended
        pass


def test_the_lock_is_the_database_file_itself_with_no_lock_file(tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    with held(str(db)):
        assert [p.name for p in tmp_path.iterdir()] == ["one.db"]
        os.symlink(db, tmp_path / "link.db")
        os.link(db, tmp_path / "hard.db")
        for other in ("link.db", "hard.db", "./../" + tmp_path.name + "/one.db"):
            with pytest.raises(DatabaseInUse), held(str(tmp_path / other)):
                pass


def test_an_in_memory_database_takes_no_lock(tmp_path: Path) -> None:
    with held(":memory:"), held(":memory:"):
        pass
    assert not list(tmp_path.iterdir())


def _second(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kakaclo_sandbox", "--port", str(free_port()), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _refused_line(db: Path, first: LiveSandbox) -> str:
    assert first.process is not None
    return (
        f"kakaclo-sandbox: {db} is in use by another kakaclo-sandbox "
        f"(pid {first.process.pid}); stop that one or pass another --db"
    )


def test_a_second_sandbox_process_on_the_same_file_exits_2_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    first = LiveSandbox(db=db).start()
    try:
        second = _second(db)
        assert second.returncode == 2
        assert second.stderr.strip() == _refused_line(db, first)
    finally:
        first.stop()


@pytest.mark.parametrize("trick", ["symlink", "hard link", "deleted lock file"])
def test_no_path_trick_lets_a_second_sandbox_in(tmp_path: Path, trick: str) -> None:
    db = tmp_path / "shared.db"
    first = LiveSandbox(db=db, args=["--rate-limit", "off"]).start()
    try:
        other = db
        if trick == "symlink":
            other = tmp_path / "link.db"
            other.symlink_to(db)
        elif trick == "hard link":
            other = tmp_path / "hard.db"
            os.link(db, other)
        else:  # the lock of earlier versions was <db>.lock; deleting it must change nothing
            for stale in tmp_path.glob("*.lock"):
                stale.unlink()
        second = _second(other)
        assert second.returncode == 2
        assert second.stderr.strip() == _refused_line(other, first)
    finally:
        first.stop()
