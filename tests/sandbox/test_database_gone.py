"""A database file removed or replaced under a running sandbox: no write is acknowledged
(503 50301), the store says why in one log line, and the command stops with exit 1."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from tests.live import LiveSandbox
from tests.sandbox.conftest import TOKEN_A
from tests.sandbox.helpers import API, item, refund_url, refunds


def _spare_refund(client: httpx.Client, order_id: str = "10007") -> httpx.Response:
    return client.post(
        refund_url(order_id), json={"orderItems": [item("120071", 1)]}, headers=TOKEN_A
    )


def _gone(db: Path, how: str) -> None:
    if how == "deleted":
        db.unlink()
    else:  # another file put in its place, as a restore from a backup would
        other = db.with_name("other.db")
        other.write_bytes(b"")
        os.replace(other, db)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_refund_after_the_file_went_is_refused_503_in_process(
    tmp_path: Path, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "sandbox.db"
    app = create_app(db=str(db), rate_limit=None, validate_responses=True)
    with TestClient(app, raise_server_exceptions=True) as client:
        assert _spare_refund(client).status_code == 200
        _gone(db, how)
        answer = _spare_refund(client)  # committed into a file no path names: not acknowledged
        assert answer.status_code == 503
        assert answer.json()["code"] == 50301
        assert answer.json()["data"] is None
        assert str(db) not in answer.text  # the server's paths are not the client's business
        # every later call is refused too, reads included, and nothing more is written
        assert _spare_refund(client).status_code == 503
        assert client.get(API, headers=TOKEN_A).status_code == 503
        # the control surface's writes too: the envelope, not a traceback
        reset = client.post("/_sandbox/reset", headers={"Content-Type": "application/json"})
        assert (reset.status_code, reset.json()["code"]) == (503, 50301)
    lines = [r.getMessage() for r in caplog.records if "removed or replaced" in r.getMessage()]
    assert lines == [
        f"the database file {db} was removed or replaced while the sandbox ran; "
        "writes are refused (503) and the sandbox stops"
    ]


def _exit_code(sandbox: LiveSandbox, timeout: float = 20.0) -> int | None:
    """Poll (bounded) until the process ends; its exit code, or None if it did not."""
    assert sandbox.process is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = sandbox.process.poll()
        if code is not None:
            return code
        time.sleep(0.05)  # polling a child process for its exit, not app timing
    return None


def test_a_running_sandbox_whose_file_is_deleted_acknowledges_nothing_and_exits_1(
    tmp_path: Path,
) -> None:
    db = tmp_path / "sandbox.db"
    sandbox = LiveSandbox(db=db, args=["--rate-limit", "off"]).start()
    try:
        with httpx.Client(base_url=sandbox.root, timeout=5.0) as http:
            assert _spare_refund(http).status_code == 200
            db.unlink()
            # Whether the refund meets the check after its commit or the server's own
            # check got there first, it is never acknowledged.
            try:
                answer = _spare_refund(http)
            except httpx.TransportError:
                pass
            else:
                assert answer.status_code == 503
                assert answer.json()["code"] == 50301
        assert _exit_code(sandbox) == 1
        assert sandbox.log is not None
        log = sandbox.log.read_text()
        assert log.count("removed or replaced while the sandbox ran") == 1
    finally:
        sandbox.stop()


def test_an_idle_sandbox_whose_file_is_deleted_exits_1_without_a_request(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    sandbox = LiveSandbox(db=db, args=["--rate-limit", "off"]).start()
    try:
        db.unlink()
        assert _exit_code(sandbox) == 1
    finally:
        sandbox.stop()


def test_the_check_leaves_a_refund_answered_200_durable(tmp_path: Path) -> None:
    # kill -9 right after a 200: the refund is in the file the path names.
    db = tmp_path / "sandbox.db"
    first = LiveSandbox(db=db, args=["--rate-limit", "off"]).start()
    with httpx.Client(base_url=first.root, timeout=5.0) as http:
        refund_no = _spare_refund(http).json()["data"]
    first.kill()
    second = LiveSandbox(db=db, args=["--rate-limit", "off"]).start()
    try:
        with httpx.Client(base_url=second.root, timeout=5.0) as http:
            assert [r["refundNo"] for r in refunds(http, TOKEN_A, "10007")] == [refund_no]
    finally:
        second.stop()
