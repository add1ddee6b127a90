"""``kakaclo contract`` against servers we do not control: each ends with the right exit code.

The command runs as its own process, as a user's CI runs it: 0 passed,
1 contract violations, 2 the suite could not run. Every run is bounded by
``--timeout`` and by this test's own subprocess timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.servers import ThreadServer, faulty_app
from kakaclo_contract.settings import (
    ALLOW_REFUNDS_ENV,
    BASE_URL_ENV,
    REFUND_ORDER_IDS_ENV,
    TOKEN_ENV,
)
from tests.live import LiveSandbox, free_port

KAKACLO = str(Path(sys.executable).parent / "kakaclo")
TOKEN = "demo-token"
RUN_LIMIT = 300  # seconds: a run that takes longer than this is a failure of its own


@dataclass
class Run:
    """One finished ``kakaclo contract`` process."""

    code: int
    output: str
    summary: dict[str, Any]


def contract(tmp_path: Path, base_url: str, *args: str, token: str = TOKEN) -> Run:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {BASE_URL_ENV, ALLOW_REFUNDS_ENV, REFUND_ORDER_IDS_ENV}
    }
    env[TOKEN_ENV] = token
    summary = tmp_path / "summary.json"
    done = subprocess.run(
        [KAKACLO, "contract", "--base-url", base_url, "--summary", str(summary), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_LIMIT,
        check=False,
    )
    data = json.loads(summary.read_text()) if summary.exists() else {}
    return Run(done.returncode, done.stdout + done.stderr, data)


@pytest.fixture
def no_control(tmp_path: Path) -> Iterator[LiveSandbox]:
    """What the vendor looks like: a conforming server without the /_sandbox surface.

    Its refunds settle at once, so a run that waits for settlement ends at its first poll.
    """
    live = LiveSandbox(
        db=tmp_path / "vendor-like.db",
        args=["--no-control", "--rate-limit", "off", "--settle-after", "0"],
    )
    # LiveSandbox waits on /_sandbox/info; without it, wait on the API itself.
    yield live.start(probe="/openapi/openapi/v2/order/orders")
    live.stop()


def test_read_only_against_a_conforming_server_that_is_not_a_sandbox(
    tmp_path: Path, no_control: LiveSandbox
) -> None:
    run = contract(tmp_path, no_control.base_url)
    assert run.code == 0, run.output[-4000:]
    assert "mode read-only (no Refund Order is sent)" in run.output
    assert run.summary["outcome"] == "passed"
    assert "POST /openapi/v2/order/orders/{id}/refund" not in run.summary["operations"]
    for label in ("GET /openapi/v2/order/orders", "GET /openapi/v2/order/orders/refund/{id}"):
        statuses = run.summary["operations"][label]["statuses"]
        assert sum(n for code, n in statuses.items() if code != "429") >= 10
    assert "error" not in run.output.splitlines()[-1]


def test_refund_mode_refunds_one_piece_at_a_time_of_the_named_orders_only(
    tmp_path: Path, no_control: LiveSandbox
) -> None:
    run = contract(
        tmp_path,
        no_control.base_url,
        "--allow-refunds",
        "--order-id",
        "10007",
        "--order-id",
        "10008",
        "--max-refunds",
        "2",
        "--wait-settlement",
        "60",
    )
    assert run.code == 0, run.output[-4000:]
    created = run.summary["refundsCreated"]
    assert len(created) == 2
    assert {refund["status"] for refund in created} == {"refund_successfully"}
    assert {refund["orderId"] for refund in created} <= {"10007", "10008"}
    for refund in created:
        assert (
            f"refund created: order {refund['orderId']}, refund {refund['refundNo']} "
            "(refund_successfully)"
        ) in run.output
    # every refund took exactly one piece of a named order
    orders = httpx.get(
        no_control.base_url + "/openapi/v2/order/orders",
        params={"ids": "10001,10002,10007,10008"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).json()["data"]["list"]
    refunding = {  # "NULL" is the vendor's "no refund status"
        order["id"]: sum(1 for line in order["orderItems"] if line["refundStatus"] != "NULL")
        for order in orders
    }
    assert refunding["10001"] == refunding["10002"] == 0
    # two settled refunds of one piece each, every piece of these orders at 7.23;
    # orders without a refund come without refundedAmount, as the vendor sends them
    refunded = sum(order.get("refundedAmount", 0) for order in orders)
    assert round(refunded, 4) == 14.46


def test_refund_mode_creates_no_refund_but_the_guarded_ones(
    tmp_path: Path, no_control: LiveSandbox
) -> None:
    # A cap far above what the run can use, so that an accidental refund would show.
    run = contract(
        tmp_path,
        no_control.base_url,
        "--allow-refunds",
        "--order-id",
        "10007",
        "--max-refunds",
        "60",
    )
    assert run.code == 0, run.output[-4000:]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    orders = httpx.get(
        no_control.base_url + "/openapi/v2/order/orders", params={"pageSize": 250}, headers=auth
    ).json()["data"]["list"]
    listed: dict[str, list[str]] = {}
    for order in orders:
        refunds = httpx.get(
            no_control.base_url + f"/openapi/v2/order/orders/refund/{order['id']}",
            params={"pageSize": 250},
            headers=auth,
        ).json()["data"]
        listed[order["id"]] = [refund["refundNo"] for refund in refunds["list"]]
    # every refund the server holds is one the run reported, on the named order only
    assert {order_id for order_id, numbers in listed.items() if numbers} == {"10007"}, listed
    assert sorted(listed["10007"]) == sorted(r["refundNo"] for r in run.summary["refundsCreated"])
    # ... and each took one piece: they settle at once, every piece of 10007 costs 7.23, and
    # once all its 10 pieces are refunded, refundedAmount is its finalAmount (freight too)
    order = next(o for o in orders if o["id"] == "10007")
    pieces = sum(line["productNum"] for line in order["orderItems"])
    if order["refundStatus"] == "refunded":
        assert len(listed["10007"]) == pieces == 10
    else:
        assert round(order["refundedAmount"] / 7.23) == len(listed["10007"]) > 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--allow-refunds"], "no order may be refunded: name the orders with --order-id"),
        (["--allow-refunds", "--order-id", "10003"], "order 10003 (--order-id) cannot be refunded"),
        (["--allow-refunds", "--order-id", "20001"], "not among this token's orders"),
        (["--rate", "fast"], "--rate / KAKACLO_RATE must be"),
    ],
)
def test_bad_settings_stop_the_run_with_one_line(
    tmp_path: Path, no_control: LiveSandbox, args: list[str], words: str
) -> None:
    run = contract(tmp_path, no_control.base_url, *args)
    assert run.code == 2, run.output
    assert words in run.output
    assert "Traceback" not in run.output
    assert run.summary["outcome"] == "could-not-run"


# The vendor's bucket (a burst of 120) draining ten times faster than its 2 per
# second: the same pacing against the same budget, and about 700 answers of a
# run take half a minute instead of four.
FAST_LIMIT = "120/20"


@pytest.fixture
def rate_limited(tmp_path: Path) -> Iterator[LiveSandbox]:
    """A sandbox as ``make serve`` starts it, with the vendor's burst at a faster drain."""
    live = LiveSandbox(
        db=tmp_path / "limited.db", args=["--rate-limit", FAST_LIMIT, "--log-level", "warning"]
    )
    yield live.start()
    live.stop()


def test_unpaced_against_the_rate_limit_fails_for_the_429_reason_only(tmp_path: Path) -> None:
    # The vendor's limit on a server that, like the vendor, has no control
    # surface: nothing resets the bucket, so the share does not depend on how
    # often the suite resets a sandbox (here 35% in about 4 s; the run would
    # have to be about five times slower to fall under 20%).
    limited = LiveSandbox(
        db=tmp_path / "vendor-limit.db", args=["--no-control", "--log-level", "warning"]
    ).start(probe="/openapi/openapi/v2/order/orders")
    try:
        run = contract(tmp_path, limited.base_url)
    finally:
        limited.stop()
    assert run.code == 2, run.output[-4000:]
    assert "the checks did not reach the server" in run.output
    assert run.summary["reasons"] == [r for r in run.summary["reasons"] if "429" in r]
    assert " failed" not in run.output.splitlines()[-1], run.output[-2000:]
    assert sum(op["statuses"].get("429", 0) for op in run.summary["operations"].values()) > 0


def test_paced_to_the_limit_with_a_small_budget_passes(
    tmp_path: Path, rate_limited: LiveSandbox
) -> None:
    run = contract(
        tmp_path,
        rate_limited.base_url,
        "--rate",
        FAST_LIMIT,
        "--max-examples",
        "2",
        "--phases",
        "examples,fuzzing,stateful",
    )
    assert run.code == 0, run.output[-4000:]
    assert run.summary["checkedAnswers"]["throttled"] == 0
    # More answers than the burst: the pacing, not the budget, carried the run.
    assert run.summary["traffic"]["answers"] > 2 * 120


@pytest.mark.parametrize(
    ("kind", "code", "words"),
    [
        ("not-the-api", 2, "answered 200 text/plain 'It works!': that is not the Kakaclo API"),
        ("html-errors", 1, "Undocumented Content-Type"),
        ("wrong-envelope", 1, "Response violates schema"),
        ("server-error", 1, "Server error"),
        ("hangs", 1, "did not answer within 2 s"),
    ],
)
def test_servers_that_break_the_contract_fail_with_the_right_exit_code(
    tmp_path: Path, kind: str, code: int, words: str
) -> None:
    with ThreadServer(faulty_app(kind)) as server:
        run = contract(tmp_path, server.base_url, "--timeout", "2")
    assert run.code == code, run.output[-4000:]
    assert words in run.output, run.output[-4000:]
    assert run.summary["exitCode"] == code


@pytest.mark.parametrize(("kind", "code"), [("at-root", 0), ("at-root-code-10001", 1)])
def test_a_mock_that_serves_at_its_root_gets_the_same_run(
    tmp_path: Path, kind: str, code: int
) -> None:
    with ThreadServer(faulty_app(kind)) as server:
        root = server.base_url.removesuffix("/openapi")
        run = contract(tmp_path, root, "--timeout", "5")
    assert run.code == code, run.output[-4000:]
    assert "Traceback" not in run.output and "JSONDecodeError" not in run.output
    walk = run.summary["operations"]["GET /openapi/v2/order/orders/refund/{id}"]["statuses"]
    assert int(walk["200"]) >= 10  # every order listed was read, under the root's own paths
    if code:
        assert "Envelope rule broken: the envelope's code is 10001" in run.output


def test_a_port_nobody_listens_on(tmp_path: Path) -> None:
    run = contract(tmp_path, f"http://127.0.0.1:{free_port()}/openapi")
    assert run.code == 2
    assert "preflight: cannot connect to" in run.output
    assert len(run.output.strip().splitlines()) == 1, run.output


def test_each_run_writes_its_reports_anew(tmp_path: Path, no_control: LiveSandbox) -> None:
    junit = tmp_path / "junit.xml"
    passed = contract(
        tmp_path, no_control.base_url, "--junit-xml", str(junit), "--phases", "examples"
    )
    assert passed.code == 0, passed.output[-3000:]
    assert 'value="passed"' in junit.read_text()
    stopped = contract(
        tmp_path, f"http://127.0.0.1:{free_port()}/openapi", "--junit-xml", str(junit)
    )
    assert stopped.code == 2
    text = junit.read_text()
    assert 'value="could-not-run"' in text and 'value="passed"' not in text, text
    assert text.count("<testcase") == 1  # the preflight's reason, not the last run's tests
    assert stopped.summary["outcome"] == "could-not-run"


def test_a_web_server_that_is_not_the_api(tmp_path: Path) -> None:
    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        LiveSandbox.wait_for(f"http://127.0.0.1:{port}/", web)
        run = contract(tmp_path, f"http://127.0.0.1:{port}/openapi")
    finally:
        web.terminate()
        web.wait(timeout=10)
    assert run.code == 2
    assert "answered 404 text/html" in run.output, run.output
    assert len(run.output.strip().splitlines()) == 1, run.output


def test_a_base_url_without_openapi_gets_a_hint(tmp_path: Path, no_control: LiveSandbox) -> None:
    run = contract(tmp_path, no_control.root)
    assert run.code == 2
    assert f"did you mean {no_control.root}/openapi?" in run.output, run.output


def test_a_rejected_token(tmp_path: Path, no_control: LiveSandbox) -> None:
    run = contract(tmp_path, no_control.base_url, token="not-a-token")
    assert run.code == 2
    assert "the token was rejected; check KAKACLO_TOKEN" in run.output, run.output


# Run alone (after the parallel part of make test): the model counts real seconds over
# a network, and a busy second worker stretches them.
@pytest.mark.alone
def test_a_sandbox_over_http_is_reset_and_fully_checked(tmp_path: Path) -> None:
    # Over a network the model also counts the real time that passed, so a refund whose
    # due time falls within seconds of the clock makes hypothesis's replay of a case meet
    # another state (FlakyStrategyDefinition), whatever the server does. The model's
    # clock advances are 1, 3, 5, 10, 3600 and 90000 s: a settle time of 1800 s is far
    # from every sum a run reaches (its small steps add up to minutes at most, real time
    # included; one 3600 step overshoots by half an hour). A settle time of exactly 3600 s
    # put the refunds created before a 3600 step on that edge, decided by real seconds.
    live = LiveSandbox(
        db=tmp_path / "sandbox.db",
        args=["--rate-limit", "off", "--log-level", "warning", "--settle-after", "1800"],
    ).start()
    try:
        run = contract(
            tmp_path,
            live.base_url,
            "--junit-xml",
            str(tmp_path / "junit.xml"),
        )
    finally:
        live.stop()
    assert run.code == 0, run.output[-4000:]
    lines = run.output.splitlines()
    assert lines[0] == f"kakaclo contract: target {live.base_url}"
    assert "seed 20261126" in lines[1]
    assert lines[2].startswith("kakaclo contract: mode sandbox over HTTP")
    assert "skipped" not in lines[-1], lines[-1]
    junit = (tmp_path / "junit.xml").read_text()
    assert '<property name="kakaclo.outcome" value="passed"' in junit
