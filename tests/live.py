"""Start a real ``kakaclo-sandbox`` process on a free port (for over-HTTP tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveSandbox:
    """A sandbox server process. ``start`` waits until it answers; ``kill`` is kill -9."""

    db: Path  # the SQLite file, and where the log goes
    args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    url: str | None = None  # a postgresql:// URL: --db names it instead of the file

    @property
    def root(self) -> str:
        """The server root, e.g. http://127.0.0.1:8123."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL as in the spec's servers (ends in /openapi)."""
        return self.root + "/openapi"

    def start(self, timeout: float = 30.0, probe: str = "/_sandbox/info") -> LiveSandbox:
        """Start the process and wait (polling, bounded) until ``probe`` answers."""
        self.log = self.db.with_suffix(f".{self.port}.log")
        command = [
            sys.executable,
            "-m",
            "kakaclo_sandbox",
            "--port",
            str(self.port),
            "--db",
            self.url or str(self.db),
            *self.args,
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            self.wait_for(self.root + probe, self.process, timeout)
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}: {self.log.read_text()}") from None
        return self

    @staticmethod
    def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
        """Poll ``url`` (bounded) until it answers with anything but a 5xx."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                if httpx.get(url, timeout=1.0).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # waiting for a child process to bind, not for app timing
        raise RuntimeError(f"{url} did not answer within {timeout}s")

    def kill(self) -> None:
        """kill -9: no shutdown handler runs."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop with a signal and return the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        return self.process.wait(timeout=15)
