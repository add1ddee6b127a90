"""Run a command in a real terminal (a tmux pane of a given size) and read the screen."""

from __future__ import annotations

import shlex
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.tools import require_command

WITHIN = 60.0  # seconds for a pane to show what is awaited


def tmux() -> str:
    """The tmux command (see tests/tools.py: installed when missing and possible)."""
    return require_command("tmux", "tmux", "tmux for real-terminal tests")


class Pane:
    """A tmux pane running one command, on a tmux server of its own."""

    def __init__(self, base: list[str], session: str) -> None:
        self._base = base
        self._session = session

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            [*self._base, *args], capture_output=True, text=True, check=True, timeout=30
        )
        return done.stdout

    def screen(self) -> str:
        """Everything the pane shows (its history included)."""
        # -J joins the lines the terminal wrapped: a wrapped value is whole, not cut
        return self._tmux("capture-pane", "-p", "-J", "-t", self._session, "-S", "-", "-E", "-")

    def wait_for(self, text: str) -> str:
        """Poll the pane (bounded) until ``text`` is on it; the screen."""
        deadline = time.monotonic() + WITHIN
        while True:  # polling a terminal for output, not timing the app
            shown = self.screen()
            if text in shown:
                return shown
            assert time.monotonic() < deadline, f"{text!r} never showed:\n{shown}"
            time.sleep(0.05)

    def keys(self, *keys: str) -> None:
        """Type keys (tmux names: ``C-c`` is Ctrl-C)."""
        self._tmux("send-keys", "-t", self._session, *keys)

    def finished(self) -> str:
        """Wait (bounded) until the command has ended; the screen."""
        deadline = time.monotonic() + WITHIN
        while (
            self._tmux("display-message", "-p", "-t", self._session, "#{pane_dead}").strip() != "1"
        ):
            assert time.monotonic() < deadline, "the command did not end"
            time.sleep(0.05)  # polling a terminal, as above
        return self.screen()


@contextmanager
def pane(command: list[str], env: dict[str, str], width: int, height: int = 80) -> Iterator[Pane]:
    """``command`` running in a ``width`` x ``height`` terminal; ``[exit N]`` shows its status."""
    binary, session = tmux(), f"kakaclo-{uuid.uuid4().hex[:8]}"
    socket = Path("/tmp") / session  # a server of its own: no user's tmux is touched
    base = [binary, "-S", str(socket)]
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    # COLUMNS and LINES of the test process would override the pane's real size
    shell = f"env -u COLUMNS -u LINES {exports} {shlex.join(command)}; echo '[exit '$?']'"
    subprocess.run(
        [*base, "new-session", "-d", "-s", session, "-x", str(width), "-y", str(height)],
        check=True,
    )
    try:
        subprocess.run([*base, "set-option", "-t", session, "remain-on-exit", "on"], check=True)
        subprocess.run([*base, "respawn-pane", "-k", "-t", session, shell], check=True)
        yield Pane(base, session)
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True)
        socket.unlink(missing_ok=True)


def screen(command: list[str], env: dict[str, str], width: int, height: int = 80) -> str:
    """What ``command`` leaves on a ``width`` x ``height`` terminal once it has ended."""
    with pane(command, env, width, height) as running:
        return running.finished()
