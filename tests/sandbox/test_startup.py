"""``kakaclo-sandbox`` as a user starts it: a banner with everything a first call needs,
nothing claimed ready on a busy port, and ``GET /`` leading to the docs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import httpx
import pytest
from starlette.testclient import TestClient

from kakaclo_serving.version import __version__
from tests.live import LiveSandbox


def test_the_banner_names_the_api_root_docs_spec_and_tokens(tmp_path: Path) -> None:
    live = LiveSandbox(db=tmp_path / "banner.db").start()
    try:
        root = live.root
        httpx.get(root + "/openapi.yaml").raise_for_status()
    finally:
        live.stop()
    assert live.log is not None
    said = live.log.read_text()
    for line in (
        f"kakaclo-sandbox {__version__} on {root}",
        f"API root  {root}/openapi",
        f"docs      {root}/docs",
        f"spec      {root}/openapi.yaml",
        "demo-token         merchant-a: 10001, 10002, 10003, 10004 and 6 more",
        "demo-token-2",
        "demo-token-vendor",
    ):
        assert line in said, said
    assert said.index("API root") < said.index("sandbox ready")


def test_a_busy_port_fails_in_one_line_before_anything_claims_readiness(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "kakaclo_sandbox",
                "--port",
                str(port),
                "--db",
                str(tmp_path / "busy.db"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert (
        done.stderr == f"kakaclo-sandbox: cannot listen on 127.0.0.1:{port}: "
        "Address already in use\n"
    )
    assert "sandbox ready" not in done.stderr + done.stdout and "API root" not in done.stderr
    assert not (tmp_path / "busy.db").exists()  # refused before the database file is made


def test_root_sends_a_browser_to_the_docs_and_names_them_to_an_api_client(
    client: TestClient,
) -> None:
    browser = client.get("/", headers={"Accept": "text/html,*/*"}, follow_redirects=False)
    assert browser.status_code == 307 and browser.headers["location"] == "/docs"
    api = client.get("/", headers={"Accept": "application/json"})
    assert api.status_code == 404 and "/docs" in api.json()["message"]
    assert api.headers["link"] == '</docs>; rel="help"'


def test_the_banner_says_when_reads_run_every_query() -> None:
    from kakaclo_sandbox import demo
    from kakaclo_sandbox.banner import banner
    from kakaclo_sandbox.settings import Settings
    from kakaclo_spec import shipped_spec

    data = demo.dataset(None, shipped_spec())
    cached = banner("http://127.0.0.1:8080", "/openapi", Settings(), data)
    uncached = banner("http://127.0.0.1:8080", "/openapi", Settings(answer_cache=False), data)
    assert "answer cache" not in cached
    assert "rate limit 120/2; answer cache off\n" in uncached


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _line_starting(stream: IO[str], start: str) -> str:
    """The first line of ``stream`` that starts with ``start`` (AssertionError at its end)."""
    seen = []
    for line in stream:
        if line.startswith(start):
            return line
        seen.append(line)
    raise AssertionError(f"no line starting {start!r} in:\n{''.join(seen)}")


def test_the_port_refuses_connections_until_the_data_is_loaded(tmp_path: Path) -> None:
    """Issue 30: the port listened during a 192 s load, so clients hung. The data file is a
    pipe here: the load waits until the test writes it, so "during the load" needs no timing."""
    data = tmp_path / "data.yaml"
    os.mkfifo(data)
    port = _free_port()
    command = [sys.executable, "-m", "kakaclo_sandbox", "--port", str(port), "--data", str(data)]
    process = subprocess.Popen(
        [*command, "--db", str(tmp_path / "slow.db")], stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    # A guard, not a measure: a sandbox that never says it is loading ends the test as a
    # failure (its stderr closes) instead of hanging it on the pipe.
    guard = threading.Timer(60, process.kill)
    guard.start()
    try:
        said = _line_starting(process.stderr, "kakaclo-sandbox: loading")
        assert said == (
            f"kakaclo-sandbox: loading {data} (not a regular file); port {port} refuses "
            "connections until it is loaded\n"
        )
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=30).close()
        data.write_text(  # opens the pipe: waits for the sandbox to open it too
            "merchants:\n- merchant: m\n  tokens: [slow-token]\n  orders: []\n"
        )
        _line_starting(process.stderr, f"kakaclo-sandbox {__version__} on http://127.0.0.1:{port}")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/openapi.yaml").status_code == 200
    finally:
        guard.cancel()
        process.terminate()
        process.wait(timeout=60)
        process.stderr.close()


def test_a_busy_port_fails_before_the_data_is_read(tmp_path: Path) -> None:
    data = tmp_path / "never-written.yaml"
    os.mkfifo(data)  # reading it would wait for ever: the port is checked first
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [
                *(sys.executable, "-m", "kakaclo_sandbox", "--port", str(port)),
                *("--data", str(data), "--db", str(tmp_path / "busy.db")),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert (
        done.stderr
        == f"kakaclo-sandbox: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )
