"""make fuzz: the schemathesis CLI against a started sandbox, then the hostile-input properties.

First half: starts ``kakaclo-sandbox`` on a free port (a fresh database, rate
limit off), runs ``schemathesis run`` with every phase and check, with flags
only (no schemathesis.toml: the pytest plugin would read it too), and prints
the figures and the sandbox log's tracebacks if any. The whole run is bounded
by ``--max-time`` (default 900 s): schemathesis gets what the second half does
not reserve.

Second half: the hypothesis properties of ``tests/fuzz`` (data files, control
requests, malicious answers to the CLI, the suite's preflight and the proxy)
with ``KAKACLO_FUZZ=1``: ``--scale`` times the examples ``make test`` runs
(default 20), drawn afresh; bounded by ``--properties-time`` (default 300 s of
the 900).

Both halves' results are printed; the exit status is non-zero if either failed.

    python tools/fuzz.py [--max-examples 500] [--max-time 900] [--seed 20261126]
                         [--scale 20] [--properties-time 300]
"""

from __future__ import annotations

import argparse
import os
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
    parser.add_argument(
        "--max-time", type=int, default=900, help="seconds for both halves (default 900)"
    )
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument(
        "--scale", type=int, default=20, help="the properties' examples, times make test's"
    )
    parser.add_argument(
        "--properties-time",
        type=int,
        default=300,
        help="seconds of --max-time kept for the properties (default 300)",
    )
    args = parser.parse_args()
    if not 0 < args.properties_time < args.max_time:
        parser.error("--properties-time must be above 0 and below --max-time")
    schemathesis = _schemathesis(args)
    properties = _properties(args.scale, args.properties_time)
    print(f"fuzz: schemathesis {_verdict(schemathesis)}, properties {_verdict(properties)}")
    return schemathesis or properties


def _verdict(status: int) -> str:
    return "passed" if status == 0 else f"FAILED (exit {status})"


def _properties(scale: int, seconds: int) -> int:
    """The second half: pytest on tests/fuzz with KAKACLO_FUZZ=1; its exit status."""
    env = os.environ | {"KAKACLO_FUZZ": "1", "KAKACLO_FUZZ_SCALE": str(scale)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "tests/fuzz"]
    print("fuzz:", f"KAKACLO_FUZZ=1 KAKACLO_FUZZ_SCALE={scale}", " ".join(command), flush=True)
    started = time.monotonic()
    try:
        status = subprocess.run(command, cwd=ROOT, env=env, check=False, timeout=seconds).returncode
    except subprocess.TimeoutExpired:
        print(f"fuzz: the properties did not finish within {seconds} s")
        return 1
    print(f"fuzz: the properties exited {status} after {time.monotonic() - started:.0f} s")
    return status


def _schemathesis(args: argparse.Namespace) -> int:
    """The first half: schemathesis against a started sandbox; its exit status."""
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
            str(args.max_time - args.properties_time),
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
