"""kakaclo-sandbox proxy as a user runs it: a banner, findings as they happen, reports and
an exit status at SIGTERM or Ctrl-C, one line for bad usage."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.live import free_port

API = "/openapi/openapi/v2/order/orders"


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    dead = f"http://127.0.0.1:{free_port()}/openapi"
    command = [
        sys.executable,
        "-m",
        "kakaclo_sandbox",
        "proxy",
        "--upstream",
        dead,
        "--port",
        str(port),
        "--report",
        str(tmp_path / "reports"),
        *args,
    ]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    banner = process.stderr.readline()  # printed once the port is bound
    if not banner.startswith("kakaclo proxy "):
        process.kill()
        raise AssertionError(banner + process.communicate()[1])
    assert f"http://127.0.0.1:{port}/openapi -> {dead}" in banner
    return process, port


@pytest.mark.parametrize(
    ("stop", "fail_on", "status"),
    [(signal.SIGTERM, "error", 1), (signal.SIGINT, "never", 0), (signal.SIGTERM, "warning", 1)],
)
def test_a_signal_writes_the_reports_and_exits_as_fail_on_says(
    tmp_path: Path, stop: signal.Signals, fail_on: str, status: int
) -> None:
    process, port = _start(tmp_path, "--fail-on", fail_on)
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}{API}", timeout=10)
        assert answer.status_code == 502
        process.send_signal(stop)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:  # a failed step above: never leave the proxy running
            process.kill()
            process.communicate()
    assert process.returncode == status, err
    assert "ERROR upstream: GET /openapi/openapi/v2/order/orders -> 502" in err
    assert "1 exchange(s), 1 error(s), 0 warning(s)" in err
    reports = tmp_path / "reports"
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["passed"] is (status == 0) and summary["errors"] == 1
    assert "<failure" in (reports / "junit.xml").read_text()
    finding = json.loads((reports / "findings.ndjson").read_text())
    assert (finding["check"], finding["status"]) == ("upstream", 502)


def test_a_busy_port_fails_in_one_line_before_any_banner(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "kakaclo_sandbox",
                "proxy",
                "--upstream",
                "http://127.0.0.1:9/openapi",
                "--port",
                str(port),
                "--report",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert (
        done.stderr == f"kakaclo proxy: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--upstream", "test-developer.kakaclo.com/openapi"], "must be an http:// or https://"),
        (["--upstream", "http://127.0.0.1:9/openapi", "--timeout", "0"], "above 0 up to 600"),
        (["--upstream", "http://127.0.0.1:9/openapi", "--fail-on", "sometimes"], "invalid choice"),
        ([], "the following arguments are required: --upstream"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args: list[str], says: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kakaclo_sandbox", "proxy", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert says in done.stderr and done.stderr.count("\n") == 1, done.stderr
