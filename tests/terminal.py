"""Run a command in a real terminal (a tmux pane of a given size) and read the screen."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

FINISH_WITHIN = 60.0  # seconds for a command in a pane to end


def tmux() -> str:
    """The tmux command, installed with apt-get when missing and possible; else skip
    (a failure under CI, which always runs these tests)."""
    if shutil.which("tmux") is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "tmux"], capture_output=True, timeout=300
        )
    found = shutil.which("tmux")
    if found is None:
        message = "needs tmux for real-terminal tests (apt-get install tmux)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def screen(command: list[str], env: dict[str, str], width: int, height: int = 80) -> str:
    """What ``command`` leaves on a ``width`` x ``height`` terminal once it has ended."""
    binary, session = tmux(), f"kakaclo-{uuid.uuid4().hex[:8]}"
    socket = Path("/tmp") / session  # a server of its own: no user's tmux is touched
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    # COLUMNS and LINES of the test process would override the pane's real size
    shell = f"env -u COLUMNS -u LINES {exports} {shlex.join(command)}; echo '[exit '$?']'"
    base = [binary, "-S", str(socket)]
    subprocess.run(
        [*base, "new-session", "-d", "-s", session, "-x", str(width), "-y", str(height)],
        check=True,
    )
    try:
        subprocess.run([*base, "set-option", "-t", session, "remain-on-exit", "on"], check=True)
        subprocess.run([*base, "respawn-pane", "-k", "-t", session, shell], check=True)
        deadline = time.monotonic() + FINISH_WITHIN
        while True:  # polling a terminal until the command is done, not timing the app
            dead = subprocess.run(
                [*base, "display-message", "-p", "-t", session, "#{pane_dead}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            if dead == "1":
                break
            assert time.monotonic() < deadline, "the command did not end"
            time.sleep(0.05)
        return subprocess.run(
            [*base, "capture-pane", "-p", "-t", session, "-S", "-", "-E", "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True)
        socket.unlink(missing_ok=True)
