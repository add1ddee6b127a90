"""make fuzz: the schemathesis CLI, every phase and check, against a started sandbox.

Starts ``kakaclo-sandbox`` on a free port (a fresh database, rate limit off),
runs ``schemathesis run`` with flags only (no schemathesis.toml: the pytest
plugin would read it too), prints the figures and the sandbox log's
tracebacks if any, and exits with schemathesis's status. Bounded by
``--max-time`` (default 900 s).

    python tools/fuzz.py [--max-examples 500] [--max-time 900] [--seed 20261126]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"fuzz: the sandbox exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)  # waiting for a child process to bind
    raise SystemExit(f"fuzz: the sandbox did not answer {url} within {timeout:g} s")


def main() -> int:
    parser = argparse.ArgumentParser(prog="make fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=500)
    parser.add_argument("--max-time", type=int, default=900, help="seconds (default 900)")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kakaclo-fuzz-"))
    port = _free_port()
    log = work / "sandbox.log"
    with log.open("wb") as out:
        sandbox = subprocess.Popen(
            [
                str(BIN / "kakaclo-sandbox"),
                "--port",
                str(port),
                "--db",
                str(work / "sandbox.db"),
                "--rate-limit",
                "off",
                "--log-level",
                "warning",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    reports = ROOT / "reports" / "fuzz"
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/_sandbox/info", sandbox)
        command = [
            str(BIN / "schemathesis"),
            "--config-file",
            str(ROOT / "tools" / "fuzz.schemathesis.toml"),
            "run",
            str(ROOT / "openapi.yaml"),
            "--url",
            f"http://127.0.0.1:{port}/openapi",
            "--header",
            "Authorization: Bearer demo-token",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--checks",
            "all",
            "--max-examples",
            str(args.max_examples),
            "--seed",
            str(args.seed),
            "--generation-deterministic",
            "--max-time",
            str(args.max_time),
            "--request-timeout",
            "10",
            "--continue-on-failure",
            "--report",
            "junit",
            "--report-dir",
            str(reports),
        ]
        print("fuzz:", " ".join(command), flush=True)
        started = time.monotonic()
        status = subprocess.run(command, cwd=work, check=False).returncode
        print(f"fuzz: schemathesis exited {status} after {time.monotonic() - started:.0f} s")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=15)
    text = log.read_text(errors="replace")
    if "Traceback" in text:
        print("fuzz: the sandbox logged a traceback:\n" + text[-4000:])
        status = status or 1
    shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
