"""The server around the API: control surface, docs, logging, command line, settle loop."""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys

import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from kakaclo_sandbox.__main__ import build_parser, settings_from
from kakaclo_sandbox.service import refunds as refund_use_case
from kakaclo_sandbox.service.refunds import create_refund
from kakaclo_sandbox.service.running import run_now
from kakaclo_sandbox.service.settlement import settle_forever
from kakaclo_sandbox.settings import Settings
from kakaclo_sandbox.web.state import Sandbox
from tests.sandbox.conftest import TOKEN_A, FakeTime
from tests.sandbox.helpers import API, refund_url, refunds, snapshot, sqlite_store


def test_reset_brings_back_the_demo_data(client: TestClient) -> None:
    pristine = snapshot(client, TOKEN_A)
    client.post(refund_url("10002"), json={}, headers=TOKEN_A)
    client.post(
        "/_sandbox/clock/advance",
        params={"seconds": 100},
        headers={"Content-Type": "application/json"},
    )
    assert snapshot(client, TOKEN_A) != pristine
    assert (
        client.post("/_sandbox/reset", headers={"Content-Type": "application/json"}).status_code
        == 200
    )
    assert snapshot(client, TOKEN_A) == pristine


def test_refund_numbers_are_never_reused_after_reset(client: TestClient) -> None:
    first = client.post(refund_url("10002"), json={}, headers=TOKEN_A).json()["data"]
    client.post("/_sandbox/reset", headers={"Content-Type": "application/json"})
    second = client.post(refund_url("10002"), json={}, headers=TOKEN_A).json()["data"]
    assert int(second) > int(first)
    assert len(first) == 19


@pytest.mark.parametrize("seconds", ["", "abc", "-1", "nan", "inf", "1e12"])
def test_clock_advance_validates_seconds(client: TestClient, seconds: str) -> None:
    answer = client.post(
        "/_sandbox/clock/advance",
        params={"seconds": seconds},
        headers={"Content-Type": "application/json"},
    )
    assert (answer.status_code, answer.json()["code"]) == (400, 40002)


def test_info_says_sandbox_and_settings(client: TestClient) -> None:
    data = client.get("/_sandbox/info").json()["data"]
    assert data["sandbox"] is True
    assert data["honoursIdempotencyKey"] is True
    assert data["settings"]["rateLimit"] == "off"
    assert data["settings"]["settleAfterSeconds"] == 5.0


def test_no_control_turns_the_control_surface_off() -> None:
    with TestClient(create_app(db=":memory:", control=False)) as client:
        for method, path in (("GET", "/_sandbox/info"), ("POST", "/_sandbox/reset")):
            assert client.request(method, path).status_code == 404
        assert client.get(API, headers=TOKEN_A).status_code == 200


def test_spec_and_offline_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.yaml")
    assert spec.status_code == 200
    assert spec.text.startswith("openapi: 3.1.0")
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "Refund Order" in docs.text
    # nothing is fetched from elsewhere: no external script, stylesheet or font
    assert not re.search(r"""(src|href)=['"]https?://""", docs.text)
    assert client.get("/docs/docs.css").headers["content-type"].startswith("text/css")


def test_one_log_line_per_request_without_secrets(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="kakaclo_sandbox.access"):
        client.post(refund_url("10001"), json={"remark": "x"}, headers=TOKEN_A)
        client.get(API, params={"ids": "10001"}, headers={"Authorization": "Bearer secret-x"})
    lines = [r.getMessage() for r in caplog.records if r.name == "kakaclo_sandbox.access"]
    assert len(lines) == 2
    assert re.fullmatch(
        r"POST /openapi/openapi/v2/order/orders/10001/refund 200 \d+\.\dms", lines[0]
    )
    assert re.fullmatch(r"GET /openapi/openapi/v2/order/orders 401 \d+\.\dms", lines[1])
    assert "demo-token" not in caplog.text and "secret-x" not in caplog.text


def test_background_loop_settles_without_any_request(fake_time: FakeTime) -> None:
    sandbox = Sandbox(Settings(db=":memory:", rate_limit=None), fake_time)
    from kakaclo_sandbox.domain.refunds import RefundRequest, RefundRules

    async def add_refund() -> None:
        async with sqlite_store(sandbox).writing() as unit:
            await create_refund(
                unit,
                "merchant-a",
                "10002",
                RefundRequest(items=None, reason="Other"),
                rules=RefundRules(),
                now=fake_time(),
                settle_at=fake_time() + 5,
            )

    run_now(add_refund())
    run_now(
        sandbox.settlement.reload()
    )  # written around the handlers: the settlement reads it again
    fake_time.value += 5

    async def run_once() -> None:
        loop = asyncio.create_task(settle_forever(sandbox.settlement, sandbox.now, idle=3600))
        while True:  # yields to the loop task until it has settled; no wall-clock wait
            await asyncio.sleep(0)
            row = sqlite_store(sandbox).connection.execute("SELECT status FROM refunds").fetchone()
            if row["status"] != "pending_review":
                break
        loop.cancel()

    asyncio.run(run_once())
    row = sqlite_store(sandbox).connection.execute("SELECT status FROM refunds").fetchone()
    assert row["status"] == "refund_successfully"


def test_command_line_defaults_and_settings() -> None:
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.settle_after) == ("127.0.0.1", 8080, 5.0)
    assert str(args.rate_limit) == "120/2"
    settings = settings_from(
        build_parser().parse_args(
            ["--db", ":memory:", "--rate-limit", "off", "--no-control", "--settle-after", "0"]
        )
    )
    assert settings == Settings(
        db=":memory:",
        rate_limit=None,
        control=False,
        settle_after=0.0,
        allowed_hosts=("127.0.0.1", "localhost"),
    )


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--rate-limit", "fast"], "BURST/PER_SECOND"),
        (["--rate-limit", "99999999/2"], "to 1000000"),
        (["--rate-limit", "5/0"], "BURST/PER_SECOND"),
        (["--settle-after", "-3"], "seconds from 0 to 604800"),
        (["--settle-after", "inf"], "seconds from 0 to 604800"),
        (["--settle-after", "nan"], "seconds from 0 to 604800"),
        (["--port", "70000"], "port number"),
        (["--no-such-option"], "unrecognized arguments"),
    ],
)
def test_command_line_rejects_bad_options_clearly(argv: list[str], words: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kakaclo_sandbox", *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert words in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_remark_is_kept_with_the_refund(client: TestClient) -> None:
    client.post(refund_url("10002"), json={"remark": "other reason"}, headers=TOKEN_A)
    assert refunds(client, TOKEN_A, "10002")[0]["remark"] == "other reason"


def test_paths_and_methods_outside_the_api_answer_the_envelope(client: TestClient) -> None:
    unknown = client.get("/openapi/openapi/v2/nothing-here", headers=TOKEN_A)
    assert (unknown.status_code, unknown.json()["code"]) == (404, 40400)
    wrong = client.delete(refund_url("10001"), headers=TOKEN_A)
    assert (wrong.status_code, wrong.json()["code"]) == (405, 40500)
    assert wrong.headers["Allow"] == "POST"


@pytest.mark.parametrize("control", [True, False])
def test_an_operation_that_fails_unexpectedly_answers_the_spec_500(
    fake_time: FakeTime,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    control: bool,
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("a bug")

    app = create_app(db=":memory:", rate_limit=None, clock=fake_time, control=control)
    monkeypatch.setattr(refund_use_case, "create_refund", broken)
    sandbox: Sandbox = app.state.sandbox
    with caplog.at_level(logging.INFO, logger="kakaclo_sandbox.access"):
        answer = TestClient(app, raise_server_exceptions=False).post(
            refund_url("10002"), json={}, headers=TOKEN_A
        )
    assert answer.status_code == 500
    assert answer.json()["code"] == 50001
    assert not sandbox.spec.response_schema("refundOrder", 500).errors(answer.json())
    assert any(" 500 " in record.getMessage() for record in caplog.records)
    # the error still reaches the server (its log) and a test client that asks for it
    with pytest.raises(RuntimeError, match="a bug"):
        TestClient(app).post(refund_url("10002"), json={}, headers=TOKEN_A)
    sandbox.close()
