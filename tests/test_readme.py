"""The README's tour stays true: its Python and curl examples run against a real sandbox."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.curl import send_curl
from tests.live import LiveSandbox, free_port

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_starts_with_the_two_commands() -> None:
    first = _blocks("sh")[0]
    assert [line.split("#")[0].strip() for line in first.splitlines()] == [
        "make contract",
        "make test",
    ]


@pytest.fixture
def slow_sandbox(tmp_path: Path) -> Iterator[LiveSandbox]:
    """Default settings: refunds stay pending for 5 s, as the curl tour shows."""
    live = LiveSandbox(db=tmp_path / "curl.db", args=["--rate-limit", "off"]).start()
    yield live
    live.stop()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[LiveSandbox]:
    # refunds settle at once, so the tour's waits end at their first poll
    live = LiveSandbox(
        db=tmp_path / "tour.db", args=["--rate-limit", "off", "--settle-after", "0"]
    ).start()
    yield live
    live.stop()


def test_python_tour_runs(sandbox: LiveSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    layer, generated = _blocks("python")
    exec(layer.replace("http://127.0.0.1:8080", sandbox.root), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("refund_successfully")
    assert printed[1] == "refund_successfully"
    assert len([line for line in printed if line.startswith("100")]) == 10
    assert printed[-1].startswith("40904 orderItems[0]: quantity 9 exceeds")
    exec(generated.replace("http://127.0.0.1:8080", sandbox.root), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("200 RefundOrderResponse(")
    assert "refund_successfully" in printed[1]


def test_cli_tour_runs(sandbox: LiveSandbox) -> None:
    tour = next(block for block in _blocks("sh") if "kakaclo orders list" in block)
    bin_dir = str(Path(sys.executable).parent)
    script = tour.replace("http://127.0.0.1:8080", sandbox.root).replace(".venv/bin", bin_dir)
    # the last line starts a second sandbox and would not return
    script = "\n".join(line for line in script.splitlines() if "kakaclo sandbox" not in line)
    done = subprocess.run(
        ["bash", "-c", script + "\n"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "refund_successfully" in done.stdout
    assert "refund_failed" in done.stdout
    assert "\n3\n" in done.stdout  # the [fail] refund's exit status, echoed by the tour
    assert "error" not in done.stderr


def test_curl_tour_runs(slow_sandbox: LiveSandbox) -> None:
    sandbox = slow_sandbox
    tour = next(block for block in _blocks("sh") if "curl -d" in block)
    commands = [c for c in tour.replace("\\\n", " ").splitlines() if c.startswith("curl")]
    answers = [
        send_curl(command.split(" #")[0].replace("http://127.0.0.1:8080", sandbox.root))
        for command in commands
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json()["data"].isdigit()
    assert answers[1].json()["data"]["list"][0]["refundStatus"] == "pending_review"


def _vendor_commands() -> list[str]:
    tour = next(block for block in _blocks("sh") if "kakaclo contract --base-url" in block)
    commands = [c.strip() for c in tour.replace("\\\n", " ").splitlines()]
    contract = [c for c in commands if c.startswith(".venv/bin/kakaclo contract")]
    return [c for c in contract if "kakaclo.com" in c]


@pytest.mark.parametrize("index", [0, 1], ids=["read-only", "refunds"])
def test_contract_tour_runs_against_a_server_that_is_not_a_sandbox(
    tmp_path: Path, index: int
) -> None:
    # What the vendor's test environment looks like: no control surface, its rate limit.
    vendor_like = LiveSandbox(
        db=tmp_path / "vendor.db", args=["--no-control", "--log-level", "warning"]
    ).start(probe="/openapi/openapi/v2/order/orders")
    command = _vendor_commands()[index]
    script = command.replace(
        "https://test-developer.kakaclo.com/openapi", vendor_like.base_url
    ).replace(".venv/bin", str(Path(sys.executable).parent))
    try:
        done = subprocess.run(
            ["bash", "-c", "export KAKACLO_TOKEN=demo-token\n" + script],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    finally:
        vendor_like.stop()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "kakaclo contract: passed (exit 0)" in done.stdout
    if "--allow-refunds" in command:
        assert done.stdout.count("refund created: order 10007") == 2
        assert (tmp_path / "reports" / "vendor.xml").exists()
    else:
        assert "mode read-only" in done.stdout


def test_proxy_tour_runs(sandbox: LiveSandbox, tmp_path: Path) -> None:
    tour = next(block for block in _blocks("sh") if "kakaclo-sandbox proxy" in block)
    lines = [line.split("  #")[0].split(" #")[0].strip() for line in tour.splitlines()]
    start, curl, stop, replay = [line for line in lines if line and not line.startswith("#")]
    assert start.endswith("&") and stop.startswith("kill -INT %1")
    bin_dir = Path(sys.executable).parent
    argv = (
        start.rstrip(" &")
        .replace(".venv/bin/", f"{bin_dir}/")
        .replace("http://127.0.0.1:8080", sandbox.root)
        .split()
    )
    port = free_port()
    proxy = subprocess.Popen(
        [*argv, "--port", str(port)], cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    assert proxy.stderr is not None
    try:
        assert proxy.stderr.readline().startswith("kakaclo proxy")  # bound and listening
        answer = send_curl(curl.replace("http://127.0.0.1:8081", f"http://127.0.0.1:{port}"))
        assert answer.status_code == 200 and answer.json()["code"] == 10000
        proxy.send_signal(2)
        _, err = proxy.communicate(timeout=30)
    finally:
        if proxy.poll() is None:  # a failed step above: never leave the proxy running
            proxy.kill()
            proxy.communicate()
    assert proxy.returncode == 0, err
    assert "1 exchange(s), 0 error(s), 0 warning(s)" in err
    for name in ("findings.ndjson", "junit.xml", "summary.json", "run.har"):
        assert (tmp_path / "reports" / "proxy" / name).exists()
    replayed = subprocess.run(
        ["bash", "-c", replay.replace(".venv/bin/", f"{bin_dir}/")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert replayed.returncode == 0, replayed.stderr
    assert "1 exchange(s) replayed" in replayed.stderr
