"""The sandbox on PostgreSQL while its server goes away and comes back: every request is
answered 503 (the spec's ServiceUnavailable, ``Retry-After``), nothing is carried out,
the process goes on, and once the server is back it answers again with everything it
had answered before. A server of the test's own (it is stopped), not the session's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kakaclo_sandbox import create_app
from tests.live import LiveSandbox
from tests.postgres import PostgresServer, running
from tests.sandbox.conftest import TOKEN_A
from tests.sandbox.helpers import API, query_refund_url, refund_url

pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")

ONE_PIECE = {
    "orderItems": [
        {"itemId": "120001", "skuCode": "FSZW08923_R_L_NUB", "quantity": 1, "countryCode": "CN"}
    ]
}
BACK_WITHIN = 60.0  # seconds the pool may take to connect again once the server is back


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    with running() as started:
        yield started


def _is_unavailable(answer: httpx.Response) -> bool:
    return (
        answer.status_code == 503
        and answer.json()["code"] == 50301
        and answer.headers.get("Retry-After") == "1"
        and "cannot be reached" in answer.json()["message"]
    )


def test_a_server_that_goes_away_gets_503s_and_the_sandbox_answers_again_once_it_is_back(
    server: PostgresServer, tmp_path: Path
) -> None:
    url = server.create_database()
    live = LiveSandbox(
        db=tmp_path / "outage.db",
        url=url,
        args=["--rate-limit", "off", "--log-level", "warning"],
    ).start()
    try:
        with httpx.Client(base_url=live.root, headers=TOKEN_A, timeout=30) as client:
            answered = client.post(refund_url("10001"), json=ONE_PIECE)
            assert answered.status_code == 200, answered.text
            server.stop()
            during = [
                client.get(query_refund_url("10001")),
                client.post(refund_url("10001"), json=ONE_PIECE),
                client.get(API, params={"ids": "10001"}),
                client.post(refund_url("10001"), json=ONE_PIECE),
            ]
            assert all(_is_unavailable(answer) for answer in during), [
                (a.status_code, a.text) for a in during
            ]
            assert live.process is not None and live.process.poll() is None  # it goes on
            server.launch()
            deadline = time.monotonic() + BACK_WITHIN
            after = client.get(query_refund_url("10001"))
            # connections the outage broke are each found broken once, then replaced
            while after.status_code != 200 and time.monotonic() < deadline:
                assert _is_unavailable(after), (after.status_code, after.text)
                after = client.get(query_refund_url("10001"))
            assert after.status_code == 200, after.text
            listed = [refund["refundNo"] for refund in after.json()["data"]["list"]]
            assert listed == [answered.json()["data"]]  # kept; none of the 503s carried out
            again = client.post(refund_url("10001"), json=ONE_PIECE)
            assert again.status_code == 200, again.text
            # it has its place among the processes again: --fresh would wipe under it
            with pytest.raises(ValueError, match="--fresh would wipe"):
                create_app(db=url, rate_limit=None, fresh=True)
    finally:
        live.stop()
    assert live.log is not None
    log = live.log.read_text()
    assert "Traceback" not in log, log[-3000:]
    assert log.count("cannot be reached") <= 3, log[-3000:]  # logged once, not per request


def test_the_console_computes_again_once_a_restarted_server_is_back(
    server: PostgresServer,
) -> None:
    """The console's own connection is lost with the server: the round that finds it
    broken fails (one line in the log), and the next opens another (before: every later
    round failed on the closed connection, and the feeds never redrew)."""
    app = create_app(db=server.create_database(), rate_limit=None)
    feeds = app.state.sandbox.feeds
    try:
        assert feeds._computed("merchant-a")
        server.stop()
        server.launch()
        outcomes = []
        for _ in range(2):
            try:
                outcomes.append("drawn" if feeds._computed("merchant-a") else "empty")
            except Exception as error:  # the round that finds the connection broken
                outcomes.append(type(error).__name__)
        assert outcomes[-1] == "drawn", outcomes
    finally:
        feeds.close()  # its connection (the app's shutdown would)
        app.state.sandbox.close()


def _until_logged(live: LiveSandbox, text: str) -> None:
    """Return once the sandbox's log holds ``text`` (polled, bounded by BACK_WITHIN)."""
    assert live.log is not None
    deadline = time.monotonic() + BACK_WITHIN
    while text not in live.log.read_text():
        assert time.monotonic() < deadline, live.log.read_text()[-2000:]
        time.sleep(0.05)  # waiting for another process's log line, not for app timing


def test_once_a_restarted_server_is_back_no_request_meets_a_connection_it_broke(
    server: PostgresServer, tmp_path: Path
) -> None:
    """Nothing is asked while the server restarts; once the sandbox has its place again,
    it checks its pooled connections at once, so no later request meets one the restart
    broke (before: each broken connection failed one request with a 503, minutes later)."""
    live = LiveSandbox(
        db=tmp_path / "restart.db",
        url=server.create_database(),
        args=["--rate-limit", "off", "--log-level", "warning", "--no-answer-cache"],
    ).start()
    try:
        with httpx.Client(base_url=live.root, headers=TOKEN_A, timeout=30) as client:
            assert client.get(API, params={"ids": "10001"}).status_code == 200
            server.stop()
            server.launch()
            _until_logged(live, "again after")
            answers = [client.get(API, params={"ids": "10001"}) for _ in range(16)]
            answers.append(client.post(refund_url("10001"), json=ONE_PIECE))
        assert [answer.status_code for answer in answers] == [200] * 17, [
            answer.text for answer in answers if answer.status_code != 200
        ]
    finally:
        live.stop()
    assert live.log is not None
    log = live.log.read_text()
    assert "Traceback" not in log, log[-3000:]
