"""Malicious answers to what reads them: the CLI exits 0, 1 or 2 with one error line and never
prints a raw control; the suite's preflight passes or fails in one line; the proxy answers
the upstream's status or its documented 502, and its HAR and findings hold no secret."""

from __future__ import annotations

import gzip
import json
import logging
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

import httpx
import pytest
from hypothesis import given, note
from typer.testing import CliRunner

from kakaclo_contract.preflight import PreflightFailed
from kakaclo_contract.settings import RunSettings
from kakaclo_contract.target import preflighted
from kakaclo_proxy.app import ProxyApp, create_proxy
from kakaclo_proxy.cli import server_config
from kakaclo_refunds.cli import app
from kakaclo_refunds.cli_output import RetryWaits
from tests.client.hostile import HostileServer
from tests.fuzz.answers import ORDERS, Answer, Swappable, answers
from tests.fuzz.profile import fuzz
from tests.proxy.servers import serving

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # what a terminal acts on (tab, newline kept)
COMMANDS = (["orders", "list"], ["orders", "show", "1"], ["refund", "status", "1"])
SECRET = "fuzz-secret-token-4f1e"


@dataclass
class Upstream:
    """The hostile server and the behaviour each example sets."""

    server: HostileServer
    serves: Swappable


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    serves = Swappable()
    with HostileServer(serves) as server:
        yield Upstream(server, serves)


def _cli(base_url: str, args: list[str]) -> tuple[int, str, str]:
    runner = CliRunner(env={"KAKACLO_BASE_URL": base_url, "KAKACLO_TOKEN": "t"})
    with patch.object(RetryWaits, "sleep", lambda self, seconds: None):  # the waits, not taken
        result = runner.invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # the property's failure, with its traceback
    return result.exit_code, result.stdout, result.stderr


@fuzz(25)
@given(answer=answers())
def test_the_cli_exits_in_one_line_and_prints_no_control(
    upstream: Upstream, answer: Answer
) -> None:
    note(repr(answer)[:600])
    upstream.serves.answer = answer
    for args in COMMANDS:
        code, stdout, stderr = _cli(upstream.server.base_url, args)
        assert code in (0, 1, 2), (args, code, stdout, stderr)
        shown = stdout + stderr
        assert not RAW.search(shown), (args, shown[:2000])
        assert "Traceback" not in shown
        if code != 0:  # one error line (that it holds no line break: cli-newline, below)
            errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
            assert len(errors) == 1, (args, stderr)


@fuzz(25)
@given(answer=answers())
def test_the_preflight_passes_or_fails_in_one_line(upstream: Upstream, answer: Answer) -> None:
    note(repr(answer)[:600])
    upstream.serves.answer = answer
    run = RunSettings(base_url=upstream.server.base_url, token="t", timeout=2.0, max_retry_after=0)
    try:
        preflighted.__wrapped__(run)  # not the run's cached target: this answer's
    except PreflightFailed as failed:
        line = str(failed)
        assert line and "\n" not in line and "\r" not in line, line
        assert not RAW.search(line), line


@dataclass
class Proxied:
    """A proxy in front of the hostile server, its report folder and its logged errors."""

    app: ProxyApp
    base_url: str
    report: Path
    errors: list[str]


class _Errors(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


@pytest.fixture(scope="module")
def proxied(upstream: Upstream) -> Iterator[Proxied]:
    errors: list[str] = []
    handler = _Errors(errors)
    logging.getLogger("kakaclo_proxy").addHandler(handler)
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder)
        proxy = create_proxy(
            upstream.server.base_url, report, record=report / "run.har", read_timeout=2.0
        )
        try:
            with serving(server_config(proxy)) as port:
                yield Proxied(proxy, f"http://127.0.0.1:{port}/openapi", report, errors)
        finally:
            logging.getLogger("kakaclo_proxy").removeHandler(handler)


def _checked(proxied: Proxied, count: int) -> None:
    """Wait until the proxy has inspected ``count`` exchanges (it does after each answer)."""
    deadline = time.monotonic() + 10
    while proxied.app.inspector.count < count and time.monotonic() < deadline:
        time.sleep(0.005)  # the proxy's own loop records the exchange: waiting for it


def _with_secret(answer: Answer) -> Answer:
    """The answer with the request's token echoed in it (as servers echo what they get)."""
    body = (
        answer.body.replace(b"owned", SECRET.encode()) if b"owned" in answer.body else answer.body
    )
    return Answer(answer.status, answer.headers, body + SECRET.encode("utf-16"), answer.framing)


@fuzz(25)
@given(answer=answers())
def test_the_proxy_answers_as_documented_and_records_no_secret(
    proxied: Proxied, upstream: Upstream, answer: Answer
) -> None:
    note(repr(answer)[:600])
    upstream.serves.answer = answer = _with_secret(answer)
    before = proxied.app.inspector.count
    headers = {"Authorization": f"Bearer {SECRET}"}
    try:
        with httpx.stream(  # the body as it came: a false coding is the upstream's to answer
            "GET", proxied.base_url + "/v2/order/orders", headers=headers, timeout=10
        ) as got:
            raw = b"".join(got.iter_raw())
    except httpx.RemoteProtocolError:
        assert not answer.whole  # the upstream broke off: so does the proxy's answer
    else:
        if got.status_code != answer.status:
            assert got.status_code == 502, (got, raw)
            assert json.loads(raw)["code"] == 50201 and SECRET.encode() not in raw
    _checked(proxied, before + 1)
    assert not proxied.errors, proxied.errors  # a check that crashed is logged, not raised
    for name in ("run.har", "findings.ndjson"):
        written = (proxied.report / name).read_bytes()
        for form in (SECRET.encode(), SECRET.encode("utf-16-le")):
            assert form not in written, name


JSON_TYPE = (("Content-Type", "application/json"),)
GZIP_JSON = (("Content-Type", "application/json"), ("Content-Encoding", "gzip"))
DEEP_GZIP = gzip.compress(
    b'{"code": 10000, "message": "ok", "data": ' + b"[" * 1000 + b"]" * 1000 + b"}", mtime=0
)


def _order_with(field: str, value: object, *, in_line: bool = False) -> bytes:
    body = json.loads(json.dumps(ORDERS))
    order = body["data"]["list"][0]
    (order["orderItems"][0] if in_line else order)[field] = value
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("answer", "args"),
    [
        (  # fixed finding of make fuzz: cli-date
            Answer(200, (), _order_with("payDate", "x"), "length"),
            ["orders", "list"],
        ),
        (  # fixed finding of make fuzz: cli-line-status
            Answer(200, (), _order_with("refundStatus", "x", in_line=True), "length"),
            ["orders", "show", "1000000463303"],
        ),
        (  # fixed finding of make fuzz: cli-newline
            Answer(404, (), b"\n", "length"),
            ["orders", "list"],
        ),
        (
            Answer(200, (("Content-Type", "application/json"),), b"[" * 100_000, "length"),
            ["orders", "list"],
        ),
        (  # fixed finding of make fuzz: gzip-depth
            Answer(200, GZIP_JSON, DEEP_GZIP, "length"),
            ["orders", "list"],
        ),
        (  # fixed finding of make fuzz: cli-code (an OverflowError)
            Answer(400, JSON_TYPE, b'{"code": 1e400, "message": "x", "data": null}', "length"),
            ["orders", "list"],
        ),
        (  # fixed finding of make fuzz: cli-code (a ValueError)
            Answer(400, JSON_TYPE, b'{"code": NaN, "message": "x", "data": null}', "length"),
            ["orders", "list"],
        ),
    ],
    ids=[
        "cli-date",
        "cli-line-status",
        "cli-newline",
        "deep",
        "gzip-depth",
        "cli-code-huge",
        "cli-code-nan",
    ],
)
def test_what_fuzzing_found_the_cli_fails_in_one_line(
    upstream: Upstream, answer: Answer, args: list[str]
) -> None:
    upstream.serves.answer = answer
    code, stdout, stderr = _cli(upstream.server.base_url, args)
    assert code == 1, (code, stdout, stderr)
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr


def test_what_fuzzing_found_a_false_coding_fails_the_preflight_in_one_line(
    upstream: Upstream,
) -> None:
    headers = (("Content-Type", "application/json"), ("Content-Encoding", "gzip"))
    upstream.serves.answer = Answer(200, headers, b'{"code": 10000}', "length")
    run = RunSettings(base_url=upstream.server.base_url, token="t", timeout=2.0)
    with pytest.raises(PreflightFailed):
        preflighted.__wrapped__(run)


def test_what_fuzzing_found_deep_gzip_fails_the_preflight_in_one_line(upstream: Upstream) -> None:
    upstream.serves.answer = Answer(200, GZIP_JSON, DEEP_GZIP, "length")
    run = RunSettings(base_url=upstream.server.base_url, token="t", timeout=2.0)
    with pytest.raises(PreflightFailed):
        preflighted.__wrapped__(run)
